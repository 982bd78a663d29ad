// SPDX-License-Identifier: GPL-2.0-only
// The reference model's fd and AIO-context operations (docs/SEMANTICS.md, "Fd and AIO-context
// operations"):
//   R-CLOSE       close returns 0, then -EBADF; every later op of the task on that fd (io_submit
//                 included) returns -EBADF and does nothing. AIO in flight at the close is
//                 unaffected: the iocb holds its own file reference (fs/aio.c fget ... fput).
//   R-IO-CANCEL   io_cancel returns -EINVAL (a dio iocb has no ki_cancel, so it is never on
//                 ctx->active_reqs); the request completes and is reaped as if it had not run.
//   R-IO-DESTROY  io_destroy returns 0 after every request of the context completed (kill_ioctx
//                 waits for ctx->reqs), so it orders them before what follows, like a full
//                 reap; later on that context: io_submit, io_getevents, io_cancel, io_destroy
//                 return -EINVAL (lookup_ioctx), and the unreaped events are gone.
//   R-SYNC-INODE  chattr +S / -S returns 0 (-EBADF on a closed fd) and sets IS_SYNC: later
//                 writes are O_DSYNC ones (iocb_flags; dio_set_defer_completion for AIO writes,
//                 fs/direct-io.c:1188; generic_write_sync writes a buffered write back).
//   R-O-APPEND    (reference_vfs.cpp) a pwrite on an O_APPEND fd goes to i_size, as R-APPEND.
// Another task's close, io_destroy or chattr makes an op's outcome depend on timing: such an op
// is left unchecked (or, for a reap or fcntl, allowed either result).
#include "model/reference/reference_detail.hpp"

#include <map>
#include <set>

namespace diosim::model::refm {

namespace {

using scenario::OpKind;

// mmap_read / mmap_write go through the task's mapping, not its fd: the vma holds its own file
// reference (Linux 6.1 mm/mmap.c mmap_region: vma->vm_file = get_file(file)), so a close, which
// drops only the fd table's reference, leaves the mapping working.
bool uses_fd(OpKind k) {
  return k != OpKind::reap && k != OpKind::barrier && k != OpKind::io_cancel &&
         k != OpKind::io_destroy && !scenario::is_mmap_op(k);
}

bool uses_ctx(const scenario::Operation& o) {
  return ((o.kind == OpKind::pread || o.kind == OpKind::pwrite) && o.aio) ||
         o.kind == OpKind::reap || o.kind == OpKind::io_cancel || o.kind == OpKind::io_destroy;
}

bool io(OpKind k) {
  return k == OpKind::pread || k == OpKind::pwrite;
}

} // namespace

void Model::resolve_fd_states() {
  std::map<std::string, std::set<size_t>> closers, destroyers; // fd / context -> tasks
  std::set<size_t> chattrs;
  for (size_t t = 0; t < spec.tasks.size(); ++t)
    for (const scenario::Operation& o : spec.tasks[t].ops) {
      if (o.kind == OpKind::close) closers[spec.tasks[t].fd_name()].insert(t);
      if (o.kind == OpKind::io_destroy) destroyers[spec.tasks[t].context_name()].insert(t);
      if (o.kind == OpKind::chattr) chattrs.insert(t);
    }
  std::vector<char> closed(spec.tasks.size()), dead(spec.tasks.size());
  const auto other = [](const std::set<size_t>& who, size_t t) {
    return who.size() > 1 || (who.size() == 1 && !who.count(t));
  };
  for (OpInfo& info : ops) {
    const size_t t = info.task;
    const scenario::Operation& o = *info.op;
    info.bad_fd = uses_fd(o.kind) && closed[t];
    info.dead_ctx = uses_ctx(o) && dead[t];
    if (uses_fd(o.kind) && !info.bad_fd && other(closers[spec.tasks[t].fd_name()], t))
      info.unknown_why = "R-CLOSE: another task sharing its fd closes it, so whether it gets "
                         "-EBADF depends on timing";
    else if (uses_ctx(o) && !info.dead_ctx && other(destroyers[spec.tasks[t].context_name()], t))
      info.unknown_why = "R-IO-DESTROY: another task sharing its AIO context destroys it, so "
                         "whether it gets -EINVAL depends on timing";
    else if (info.write && other(chattrs, t))
      info.unknown_why = "R-SYNC-INODE: another task changes S_SYNC (chattr), so whether the "
                         "write is synchronous depends on timing";
    if (o.kind == OpKind::close) closed[t] = true;
    if (o.kind == OpKind::io_destroy) dead[t] = true;
  }
}

bool Model::dsync(const OpInfo& op, const State& s) const {
  return op.op->dsync || s.f.i_sync;
}

bool Model::exec_fd(const OpInfo& op, State& s, OpRecord& r) {
  const scenario::Operation& o = *op.op;
  r.i_size_after = s.f.i_size;
  r.data = Cells();
  if (op.fd_op) {
    int64_t ret = 0;
    if (o.kind == OpKind::close) {
      r.rules.insert("R-CLOSE");
      ret = op.bad_fd ? kEBADF : 0;
    } else if (o.kind == OpKind::io_cancel) {
      r.rules.insert("R-IO-CANCEL");
      ret = kEINVAL;
    } else if (o.kind == OpKind::io_destroy) {
      r.rules.insert("R-IO-DESTROY");
      ret = op.dead_ctx ? kEINVAL : 0;
    } else {
      r.rules.insert("R-SYNC-INODE");
      ret = op.bad_fd ? kEBADF : 0;
      if (!op.bad_fd) s.f.i_sync = o.sync;
    }
    r.ret = {ret};
    if (!op.unknown_why.empty()) r.ret.insert(o.kind == OpKind::io_destroy ? kEINVAL : kEBADF);
    return true;
  }
  if (op.dead_ctx || (op.bad_fd && uses_fd(o.kind))) { // nothing submitted, nothing done
    const int64_t ret = op.dead_ctx ? kEINVAL : kEBADF;
    r.rules.insert(op.dead_ctx ? "R-IO-DESTROY" : "R-CLOSE");
    r.ret = {ret};
    if (io(o.kind) && o.aio) r.submit = {ret};
    if (io(o.kind)) r.data = snapshot(s, op);
    if (io(o.kind) && ctx.force_taint) { // another task's read fills its iovecs meanwhile
      r.checked = false;
      r.why_unchecked = ctx.taint_why;
    }
    return true;
  }
  if (op.unknown_why.empty() || io(o.kind) || o.kind == OpKind::barrier) return false;
  if (op.reap) { // a reap or an fcntl: its result, either way
    r.rules.insert(op.fcntl ? "R-CLOSE" : "R-IO-DESTROY");
    r.ret = {0, op.fcntl ? kEBADF : kEINVAL};
    return true;
  }
  // An inode op on an fd another task may close: executed for its effects, unchecked.
  exec_inode(op, s, r);
  r.checked = false;
  r.why_unchecked = op.unknown_why;
  taint(s, r.pages, op.unknown_why);
  if (!r.isize_writes.empty() || r.truncated) {
    s.f.isize_tainted = true;
    taint(s, {static_cast<uint64_t>(r.lo_isize) / g.bs * g.bs, UINT64_MAX / 2}, op.unknown_why);
  }
  if (r.allocates) s.f.alloc_uncertain = true;
  return true;
}

} // namespace diosim::model::refm
