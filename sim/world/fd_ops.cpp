// SPDX-License-Identifier: GPL-2.0-only
// The fd and AIO-context operations of a scenario, as Linux 6.1 runs them:
//   close       fs/open.c close_fd -> filp_close -> fput: drops the fd table's reference to the
//               struct file. Each request holds its own (fget in __io_submit_one, fdget for
//               sync I/O), so with AIO in flight the file lives on until the last iocb goes
//               (aio_complete_rw -> iocb_put -> iocb_destroy -> fput). A closed fd: -EBADF for
//               every later op that names it (io_submit included: __io_submit_one's fget).
//   io_cancel   fs/aio.c: looks the iocb up on ctx->active_reqs, where only requests with a
//               ki_cancel (kiocb_set_cancel_fn: USB gadget) are; a direct-I/O iocb never is, so
//               -EINVAL, and the request completes and is reaped as usual. A dead context:
//               -EINVAL too (lookup_ioctx).
//   io_destroy  fs/aio.c kill_ioctx: marks the context dead (io_submit, io_getevents,
//               io_cancel, io_destroy on it: -EINVAL; sleepers in io_getevents wake), then
//               waits for ctx->reqs to drop to zero: every request submitted to it completes.
//               Unreaped events go with the ring.
//   chattr      FS_IOC_SETFLAGS (vfs_fileattr_set under inode_lock) setting or clearing
//               S_SYNC: IS_SYNC(inode) makes iocb_flags add IOCB_DSYNC at submission, and
//               iocb_is_dsync (include/linux/fs.h) reads it again at completion.
// Each is a yield point on the file's inode and notes the fd or context it reads and changes
// (World::note_process), so the explorer orders them against the I/O of the other tasks.
// Invariants: a file's reference count never goes below zero; a request never completes on a
// released file ("file-use-after-free"); every reference taken is dropped exactly once.
#include "sim/world/world.hpp"

namespace diosim::world {

using kern::arg;

bool World::fd_closed(const OpenFile& fd) {
  note_process(fd.object, false); // fdget reads the fd table
  return fd.closed;
}

void World::fget(OpenFile& fd) {
  if (fd.released)
    kern::violation("file-use-after-free", "a request took a reference to a released file");
  note_process(fd.object, true);
  ++fd.refs;
}

void World::fput(OpenFile& fd) {
  note_process(fd.object, true);
  if (fd.refs <= 0) kern::violation("file-refcount", "fput on a file with no reference left");
  if (--fd.refs > 0) return;
  fd.released = true; // __fput: the struct file goes
  DIOSIM_TRACE_CHANGE("file_release", "syscall", {});
}

void World::iocb_put(Request& req) {
  if (req.iocb_refs <= 0) kern::violation("iocb-refcount", "iocb_put on a destroyed iocb");
  if (--req.iocb_refs == 0) fput(*req.fd);
}

int64_t World::do_close(OpenFile& fd) {
  if (fd_closed(fd)) return -EBADF;
  note_process(fd.object, true);
  fd.closed = true;
  fput(fd);
  return 0;
}

int64_t World::do_io_destroy(AioContext& ctx) {
  note_process(ctx.object, true);
  if (ctx.dead) return -EINVAL; // lookup_ioctx / kill_ioctx: already dying
  ctx.dead = true;
  wake_all(ctx.waiters); // kill_ioctx: wake_up_all(&ctx->wait)
  const std::vector<Request*> submitted = ctx.unreaped;
  sleep_on(
      ctx.waiters,
      [&] {
        note_process(ctx.object, false);
        return std::all_of(submitted.begin(), submitted.end(),
                           [](const Request* r) { return r->completed; });
      },
      "io_destroy");
  for (Request* r : ctx.unreaped)
    r->reaped = true; // free_ioctx: the ring and its events go
  ctx.unreaped.clear();
  return 0;
}

int64_t World::do_chattr(SimFile& f, const OpenFile& fd, bool sync) {
  if (fd_closed(fd)) return -EBADF;
  kern::inode_lock(&f.inode);
  kern::note_file(f.index, true);
  if (sync)
    f.inode.i_flags |= kern::S_SYNC;
  else
    f.inode.i_flags &= ~kern::S_SYNC;
  kern::inode_unlock(&f.inode);
  return 0;
}

void World::run_fd_op(SimFile& f, const Operation& op, OpOutcome& out, AioContext& ctx,
                      OpenFile& fd) {
  const char* name = op.kind == OpKind::close        ? "sys_close"
                     : op.kind == OpKind::io_cancel  ? "sys_io_cancel"
                     : op.kind == OpKind::io_destroy ? "sys_io_destroy"
                                                     : "sys_ioctl_setflags";
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index), name,
                    "syscall", [&] {
                      return ::kern::TraceArgs{arg("iocb", static_cast<int64_t>(op.iocb)),
                                               arg("sync", op.sync ? 1 : 0)};
                    });
  int64_t ret = -EINVAL; // io_cancel: no ki_cancel for a dio iocb, or a dead context
  if (op.kind == OpKind::close)
    ret = do_close(fd);
  else if (op.kind == OpKind::io_destroy)
    ret = do_io_destroy(ctx);
  else if (op.kind == OpKind::chattr)
    ret = do_chattr(f, fd, op.sync);
  else
    note_process(ctx.object, false); // io_cancel reads the context's active_reqs
  kern::note_file(f.index, false);   // op_done reads i_size
  op_done(out, ret, f.inode);
}

} // namespace diosim::world
