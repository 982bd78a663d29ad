// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/world.hpp"

#include "sim/scenario/scenario_files.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace diosim::world {

using kern::arg;

FileViews build_file_views(const ScenarioSpec& spec) {
  FileViews views;
  if (spec.files.empty()) return views;
  for (size_t k = 0; k < scenario::file_count(spec); ++k)
    views.push_back(file_view(spec, k, false).spec);
  return views;
}

World::SimFile::SimFile(size_t file_index, const ScenarioSpec& file_spec, SimDisk& disk,
                        SimFilesystem::Space* space)
    : index(file_index), view(file_spec), fs(file_spec, space), cache(file_spec, inode, disk, fs) {}

World::World(const ScenarioSpec& spec, engine::Scheduler& sched, const DiskImage* initial_disk,
             const UserMemoryImage* initial_memory, const FileViews* file_views)
    : spec_(spec), sched_(sched), disk_(spec, sched, initial_disk), mem_(spec, initial_memory) {
  disk_.on_unwritten_read = [this](uint64_t sector, const kern::bio* b) {
    check_stale_read(sector, b);
  };
  gendisk_.driver = &disk_;
  bdev_.bd_disk = &gendisk_;
  bdev_.logical_block_size = spec.geometry.logical_block_size;
  sb_.s_bdev = &bdev_;
  sb_.s_fs_info = &fs_by_inode_;
  const bool several = !spec.files.empty();
  if (several && !file_views) {
    own_views_ = build_file_views(spec);
    file_views = &own_views_;
  }
  for (size_t k = 0; k < scenario::file_count(spec); ++k) {
    const ScenarioSpec& view = several ? (*file_views)[k] : spec;
    SimFile& f = files_.emplace_back(k, view, disk_, several ? &space_ : nullptr);
    fs_by_inode_.push_back(&f.fs);
    f.inode.i_ino = k + 1;
    f.inode.i_blkbits = f.fs.blkbits();
    f.inode.i_sb = &sb_;
    f.inode.i_data.host = &f.inode;
    f.inode.i_data.ops = &f.cache;
    f.inode.i_mapping = &f.inode.i_data;
    f.filp.f_inode = &f.inode;
    f.filp.f_mapping = f.inode.i_mapping;
    f.inode.i_size = k ? spec.files[k - 1].i_size : spec.i_size;
  }
  install_faults();
  for (SimFile& f : files_)
    f.cache.populate(); // after the extents' data is on disk
  mem_.set_file_mapper(&mapped_file_pages_);
  size_t count = 0;
  for (const Task& t : spec.tasks) {
    first_outcome_of_task_.push_back(count);
    count += t.ops.size();
  }
  outcomes_.resize(count);
  set_up_task_control();
  number_process_objects();
  size_t k = 0;
  for (const Task& t : spec.tasks)
    for (size_t i = 0; i < t.ops.size(); ++i, ++k) {
      outcomes_[k].task = t.name;
      outcomes_[k].op_index = i;
      outcomes_[k].op = &t.ops[i];
    }
}

// The scenario's allocation faults, handed to the kernel's fault plan (runtime.hpp).
void World::install_faults() {
  kern::FaultPlan& plan = kern::K().faults;
  for (const scenario::AllocFailure& a : spec_.alloc_failures) {
    const kern::AllocSite site =
        a.site == scenario::AllocSite::dio_done_wq ? kern::AllocSite::dio_done_wq
        : a.site == scenario::AllocSite::fs_block  ? kern::AllocSite::fs_block
                                                   : kern::AllocSite::dio_slab;
    plan.fail_nth[static_cast<size_t>(site)].push_back(a.nth);
  }
  plan.explore[static_cast<size_t>(kern::AllocSite::dio_slab)] = spec_.explore_faults.dio_alloc;
  plan.explore[static_cast<size_t>(kern::AllocSite::dio_done_wq)] =
      spec_.explore_faults.dio_done_wq_alloc;
  plan.explore[static_cast<size_t>(kern::AllocSite::fs_block)] =
      spec_.explore_faults.fs_block_alloc;
}

void World::start() {
  for (size_t i = 0; i < spec_.tasks.size(); ++i)
    sched_.spawn(engine::ContextKind::task, spec_.tasks[i].name, [this, i] { run_task(i); });
}

void World::number_process_objects() {
  uint64_t next = 16; // past kern::SharedObject's ids
  for (auto& [name, fd] : open_files_)
    fd.object = next++;
  for (auto& [name, ctx] : aio_contexts_)
    ctx.object = next++;
}

void World::set_up_task_control() {
  for (const Task& t : spec_.tasks) {
    AioContext& ctx = aio_contexts_[t.context_name()];
    ctx.shared = ++ctx.tasks > 1;
    open_files_[t.fd_name()].o_direct = t.o_direct; // the parser made sharers agree
    for (const Operation& op : t.ops) // an fd name on another file: opened like the task's
      if (const size_t k = file_of(spec_, t, op); k != file_index(spec_, t.file)) {
        OpenFile& other = open_files_[t.fd_name() + "@" + file_name(spec_, k)];
        other.o_direct = t.o_direct;
        other.o_append = t.o_append;
      }
    open_files_[t.fd_name()].o_append = t.o_append;
    std::set<std::string> named;
    for (const Operation& op : t.ops)
      if (op.kind == OpKind::barrier && named.insert(op.barrier).second)
        barriers_[op.barrier].parties++;
  }
}

void World::run_task(size_t task_index) {
  kern::get_current()->mm = &mem_;
  const Task& task = spec_.tasks[task_index];
  AioContext& ctx = aio_contexts_.at(task.context_name());
  std::vector<Request*> mine;                 // this task's queued AIO requests
  std::map<std::string, uint64_t> generation; // barrier -> times this task reached it
  for (size_t i = 0; i < task.ops.size(); ++i) {
    const Operation& op = task.ops[i];
    OpOutcome& out = outcomes_[first_outcome_of_task_[task_index] + i];
    if (op.kind == OpKind::reap) {
      out.ret = reap(ctx, op.events);
      out.finished = true;
    } else if (op.kind == OpKind::barrier) {
      barrier_wait(op.barrier, generation[op.barrier]++);
      out.finished = true;
    } else if (is_inode_op(op.kind)) {
      SimFile& f = file_of_op(task, op);
      run_inode_op(f, op, out, open_file(task, f.index));
    } else if (is_fd_op(op.kind)) {
      SimFile& f = file_of_op(task, op);
      run_fd_op(f, op, out, ctx, open_file(task, f.index));
    } else if (op.kind == OpKind::fcntl) {
      SimFile& f = file_of_op(task, op);
      out.ret = fcntl_setfl(f, open_file(task, f.index), op.o_direct);
      out.finished = true;
    } else if (is_mmap_op(op.kind)) {
      SimFile& f = file_of_op(task, op);
      run_mmap_op(f, op, out, open_file(task, f.index));
    } else if (op.kind == OpKind::memset) {
      run_memset(op, out);
    } else {
      SimFile& f = file_of_op(task, op);
      if (Request& req = submit(op, out, ctx, open_file(task, f.index), f); req.queued)
        mine.push_back(&req);
    }
  }
  reap_own_at_exit(ctx, mine); // io_destroy at exit waits for what is still in flight
}

World::SimFile& World::file_of_op(const Task& task, const Operation& op) {
  return files_.at(file_of(spec_, task, op));
}

World::OpenFile& World::open_file(const Task& task, size_t file) {
  if (file == file_index(spec_, task.file)) return open_files_.at(task.fd_name());
  return open_files_.at(task.fd_name() + "@" + file_name(spec_, file));
}

World::Request& World::submit(const Operation& op, OpOutcome& out, AioContext& ctx, OpenFile& fd,
                              SimFile& f) {
  Request& req = requests_.emplace_back();
  req.fd = &fd;
  req.file = &f;
  req.world = this;
  req.out = &out;
  req.owner = kern::get_current();
  req.aio = op.aio;
  req.ctx = &ctx;
  size_t count = 0;
  for (const IoVec& v : op.iov) {
    const Buffer* b = nullptr;
    for (const Buffer& cand : spec_.buffers)
      if (cand.name == v.buffer) b = &cand;
    if (!b) throw engine::InternalError("iovec names unknown buffer " + v.buffer);
    req.iov.push_back({b->address + v.offset, v.len});
    count += v.len;
  }
  const bool write = op.kind == OpKind::pwrite;
  kern::iov_iter_init(&req.iter, write ? kern::WRITE : kern::READ, req.iov.data(), req.iov.size(),
                      count);
  // The op's "iter": the same segments as kernel memory or a single user buffer.
  constexpr kern::iter_type kIterTypes[] = {kern::ITER_IOVEC, kern::ITER_UBUF, kern::ITER_BVEC,
                                            kern::ITER_KVEC};
  req.iter.iter_type_ = kIterTypes[static_cast<size_t>(op.iter)];
  req.iocb.ki_filp = &f.filp;
  req.iocb.ki_pos = static_cast<kern::loff_t>(op.offset);
  // init_sync_kiocb / aio_prep_rw: iocb_flags(file) reads O_DIRECT once, at submission.
  req.iocb.ki_flags = (fd.o_direct ? kern::IOCB_DIRECT : 0) | (write ? kern::IOCB_WRITE : 0);
  if (op.dsync) req.iocb.ki_flags |= kern::IOCB_DSYNC;
  if (op.append || fd.o_append) req.iocb.ki_flags |= kern::IOCB_APPEND; // RWF_ / O_APPEND
  req.iocb.private_ = &req;
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index),
                    write ? "sys_pwrite" : "sys_pread", "syscall", [&] {
                      ::kern::TraceArgs args{arg("offset", static_cast<int64_t>(op.offset)),
                                             arg("count", static_cast<int64_t>(count)),
                                             arg("aio", op.aio ? 1 : 0)};
                      if (f.index) args.push_back(arg("file", file_name(spec_, f.index)));
                      return args;
                    });
  const ssize_t refused = attach(req, op, ctx, fd);
  ssize_t ret;
  if (refused) {
    ret = refused; // nothing submitted, no event
  } else if (count == 0 && !op.aio) {
    ret = 0; // do_iter_read / do_iter_write return before looking at the flags (io_submit's
             // aio_prep_rw checks them first)
  } else if (op.nowait && !f.fs.supports_nowait()) {
    ret = -EOPNOTSUPP; // kiocb_set_rw_flags: the file lacks FMODE_NOWAIT
  } else {
    if (op.nowait) req.iocb.ki_flags |= kern::IOCB_NOWAIT;
    ret = write ? write_iter(req) : read_iter(req);
  }
  if (op.aio) out.submit_ret = ret;
  if (!op.aio || ret != -EIOCBQUEUED) finish(req, ret); // aio_rw_done completes it at once
  req.queued = op.aio && !req.completed;
  if (refused) return req;
  if (!op.aio) {
    fput(fd); // fdput
  } else {
    if (ret != -EIOCBQUEUED) iocb_put(req); // aio_rw_done -> aio_complete_rw's put
    iocb_put(req);                          // io_submit_one's
  }
  return req;
}

// io_submit: lookup_ioctx (-EINVAL on a destroyed context), then __io_submit_one's fget
// (-EBADF on a closed fd); a sync op: fdget. On success the request holds a file reference, takes
// the kiocb flags the inode adds (iocb_flags: IS_SYNC) and, for AIO, joins the context.
ssize_t World::attach(Request& req, const Operation& op, AioContext& ctx, OpenFile& fd) {
  if (op.aio) note_process(ctx.object, false); // lookup_ioctx
  if (op.aio && ctx.dead) return -EINVAL;
  if (fd_closed(fd)) return -EBADF;
  fget(fd);
  kern::note_file(req.file->index, false); // IS_SYNC reads i_flags
  if (kern::IS_SYNC(&req.file->inode)) req.iocb.ki_flags |= kern::IOCB_DSYNC;
  if (op.aio) {
    note_process(ctx.object, true);
    req.iocb.ki_complete = &World::aio_complete_rw;
    req.iocb_refs = 2;            // io_submit_one's and aio_complete_rw's
    ctx.unreaped.push_back(&req); // io_submit: the iocb belongs to the context from now on
  }
  return 0;
}

void World::finish(Request& req, int64_t ret) {
  kern::note_file(req.file->index, true); // i_size_after; dio waiters woken after it
  // An AIO completion joins its context's events, numbered across contexts (completions_).
  if (req.aio) kern::note_shared(kern::SharedObject::process, true);
  if (req.aio) note_process(req.ctx->object, true);
  for (const kern::iovec& v : req.iov) // the snapshot below reads the user pages
    mem_.note_read(v.iov_base, v.iov_len);
  OpOutcome& out = *req.out;
  req.completed = true;
  if (req.aio) {
    req.completion_order = ++completions_;
    if (req.ctx->shared) wake_all(req.ctx->waiters); // a task reaping another's requests
  }
  out.ki_pos_after = req.iocb.ki_pos;
  // Straight into out.data, page by page: pages of one value stay runs (a filled 1 GiB buffer
  // is one piece), other bytes are stored once.
  out.data = ByteImage();
  for (const kern::iovec& v : req.iov)
    mem_.append_snapshot(out.data, v.iov_base, v.iov_len);
  op_done(out, ret, req.file->inode);
}

void World::op_done(OpOutcome& out, int64_t ret, const kern::inode& inode) {
  out.finished = true;
  out.ret = ret;
  out.i_size_after = inode.i_size;
  DIOSIM_TRACE_CHANGE(
      "op_done", "syscall",
      {arg("task", out.task), arg("op", static_cast<int64_t>(out.op_index)), arg("ret", ret)});
}

void World::aio_complete_rw(kern::kiocb* iocb, long res) {
  auto* req = static_cast<Request*>(iocb->private_);
  req->out->ki_complete_calls++;
  if (req->fd->released)
    kern::violation("file-use-after-free", "ki_complete for " + req->out->task + " op " +
                                               std::to_string(req->out->op_index) +
                                               " after its file was released");
  if (req->completed)
    kern::violation("ki_complete-once", "ki_complete called again for " + req->out->task + " op " +
                                            std::to_string(req->out->op_index));
  req->world->finish(*req, res);
  if (req->owner->__state != kern::TASK_RUNNING) kern::wake_up_process(req->owner);
  req->world->wake_dio_waiters(); // dio_complete ran inode_dio_end just before
  req->world->iocb_put(*req);     // aio_complete -> iocb_put: maybe the file's last fput
}

void World::sleep_on(std::vector<kern::task_struct*>& waiters, const std::function<bool()>& done,
                     const char* name) {
  kern::task_struct* self = kern::get_current();
  waiters.push_back(self);
  kern::wait_event(done, name);
  waiters.erase(std::find(waiters.begin(), waiters.end(), self));
}

void World::wake_all(std::vector<kern::task_struct*>& waiters) {
  for (kern::task_struct* t : waiters)
    if (t->__state != kern::TASK_RUNNING) kern::wake_up_process(t);
}

// Takes `taken` out of the context: their events are consumed. Announces the reap when one of
// them was queued (a request completed at submission was never waited for).
void World::consume_events(AioContext& ctx, const std::vector<Request*>& taken) {
  bool waited = false;
  for (Request* r : taken) {
    r->reaped = true;
    waited |= r->queued;
  }
  note_process(ctx.object, true);
  std::erase_if(ctx.unreaped, [](const Request* r) { return r->reaped; });
  if (waited)
    kern::yield_point(
        engine::StepOp::observe, {engine::ObjectKind::world, ctx.object}, "io_getevents", "syscall",
        [&] { return ::kern::TraceArgs{arg("events", static_cast<int64_t>(taken.size()))}; });
}

// io_getevents: 0 once it took its events; -EINVAL on a dead context (io_destroy ran), or when
// the context died while it slept and no event of it had completed (aio_read_events).
int64_t World::reap(AioContext& ctx, uint64_t events) {
  note_process(ctx.object, ctx.shared); // lookup_ioctx; a shared context's events are shared
  if (ctx.dead) {
    kern::yield_point(engine::StepOp::observe, {engine::ObjectKind::world, ctx.object},
                      "io_getevents", "syscall");
    return -EINVAL;
  }
  auto completed = [&] {
    std::vector<Request*> done;
    for (Request* r : ctx.unreaped)
      if (r->completed) done.push_back(r);
    return done;
  };
  if (events == 0) { // sleep until every request in flight now has completed
    const std::vector<Request*> taken = ctx.unreaped;
    sleep_on(
        ctx.waiters,
        [&] {
          note_process(ctx.object, false);
          return ctx.dead || std::all_of(taken.begin(), taken.end(),
                                         [](const Request* r) { return r->completed; });
        },
        "io_getevents");
    if (!ctx.dead) {
      consume_events(ctx, taken);
      return 0;
    }
  } else {
    sleep_on(
        ctx.waiters,
        [&] {
          note_process(ctx.object, false);
          return ctx.dead || completed().size() >= events;
        },
        "io_getevents");
  }
  std::vector<Request*> done = completed();
  std::sort(done.begin(), done.end(), [](const Request* a, const Request* b) {
    return a->completion_order < b->completion_order;
  });
  if (events && done.size() > events) done.resize(events);
  if (done.empty() && ctx.dead) return -EINVAL; // aio_read_events: dead and nothing read
  consume_events(ctx, done);
  return 0;
}

// At exit the task waits for its own requests still in flight. A context of its own is torn
// down with it (io_destroy), taking their events; a shared one lives on with the other tasks
// (the process's contexts go when the last thread does), so its events stay for them to reap.
void World::reap_own_at_exit(AioContext& ctx, const std::vector<Request*>& mine) {
  std::vector<Request*> pending;
  for (Request* r : mine)
    if (!r->reaped) pending.push_back(r);
  sleep_on(
      ctx.waiters,
      [&] {
        note_process(ctx.object, false);
        return std::all_of(pending.begin(), pending.end(),
                           [](const Request* r) { return r->completed || r->reaped; });
      },
      "io_getevents");
  if (!ctx.shared) consume_events(ctx, pending);
}

// pthread_barrier_wait over the tasks that name `name`: this task's generation-th arrival waits
// until every party has arrived that often.
void World::barrier_wait(const std::string& name, uint64_t generation) {
  Barrier& b = barriers_.at(name);
  kern::yield_point(engine::StepOp::hook,
                    {engine::ObjectKind::world, static_cast<uint64_t>(kern::SharedObject::process)},
                    "barrier", "syscall", [&] {
                      return ::kern::TraceArgs{arg("name", name),
                                               arg("generation", static_cast<int64_t>(generation))};
                    });
  kern::note_shared(kern::SharedObject::process, true);
  const uint64_t until = b.parties * (generation + 1);
  if (++b.arrived >= until) wake_all(b.waiters);
  sleep_on(
      b.waiters,
      [&] {
        kern::note_shared(kern::SharedObject::process, false);
        return b.arrived >= until;
      },
      "barrier");
}

// A read that reaches a never-written sector inside i_size exposes stale data: the
// allocation became visible before the data did.
void World::check_stale_read(uint64_t sector, const kern::bio* b) {
  const uint64_t bs = spec_.geometry.fs_block_size;
  const uint64_t pos = sector * 512;
  for (const SimFile& f : files_) {
    const int64_t fblock = f.fs.reverse_lookup(pos / bs);
    if (fblock == SimFilesystem::kHole) continue; // not this file's block
    const uint64_t file_off = static_cast<uint64_t>(fblock) * bs + pos % bs;
    if (file_off >= static_cast<uint64_t>(f.inode.i_size)) return;
    kern::violation("stale-data", kern::bio_name(b) + " reads sector " + std::to_string(sector) +
                                      " (" + (f.index ? file_name(spec_, f.index) + " " : "") +
                                      "file offset " + std::to_string(file_off) +
                                      ") that was never written, below i_size " +
                                      std::to_string(f.inode.i_size));
  }
}

std::optional<uint64_t> World::first_stale_file_byte(size_t file) const {
  const SimFile& f = files_.at(file);
  const uint64_t bs = spec_.geometry.fs_block_size;
  const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
  // Mapped blocks only, in file order: holes hold nothing stale, and walking them would cost
  // the file's size.
  for (const auto& [fblock, d] : f.fs.block_map()) {
    if (fblock * bs >= size) break;
    for (uint64_t off = fblock * bs; off < (fblock + 1) * bs && off < size; off += 512) {
      const uint64_t sector = (static_cast<uint64_t>(d) * bs + off % bs) / 512;
      // A dirty cached block counts as written: writeback will put the cache's bytes there.
      if (!disk_.sector_written(sector) && !f.cache.block_dirty(fblock)) return off;
    }
  }
  return std::nullopt;
}

std::vector<uint8_t> World::file_bytes(uint64_t offset, uint64_t len, size_t file) const {
  const SimFile& f = files_.at(file);
  const unsigned bs = spec_.geometry.fs_block_size;
  std::vector<uint8_t> out(len, 0);
  for (uint64_t i = 0; i < len;) {
    const uint64_t pos = offset + i;
    const uint64_t off = pos % bs;
    const uint64_t n = std::min<uint64_t>(len - i, bs - off);
    const int64_t d = f.fs.lookup(pos / bs);
    if (d != SimFilesystem::kHole)
      disk_.read(static_cast<uint64_t>(d) * bs + off, out.data() + i, n);
    i += n;
  }
  return out;
}

void World::visit_file(uint64_t offset, uint64_t len, const DiskImage::Visitor& fn,
                       size_t file) const {
  const SimFile& f = files_.at(file);
  const uint64_t bs = spec_.geometry.fs_block_size, end = offset + len;
  const std::map<uint64_t, int64_t>& map = f.fs.block_map();
  // R-FINAL-FILE: dirty cached blocks count as written back (as at close / unmount).
  const std::map<uint64_t, std::vector<uint8_t>> dirty =
      f.cache.final_writeback_blocks(offset / bs, (end + bs - 1) / bs);
  auto it = map.lower_bound(offset / bs);
  auto dt = dirty.begin();
  for (;;) {
    const bool on_disk = it != map.end() && it->first * bs < end;
    if (!on_disk && dt == dirty.end()) break;
    const uint64_t fb = !on_disk            ? dt->first
                        : dt == dirty.end() ? it->first
                                            : std::min(it->first, dt->first);
    const uint64_t b = std::max(offset, fb * bs), e = std::min(end, (fb + 1) * bs);
    if (dt != dirty.end() && dt->first == fb) {
      auto keep = std::make_shared<std::vector<uint8_t>>(dt->second);
      fn(b, e - b, keep->data() + (b - fb * bs), 0, keep);
      ++dt;
      if (on_disk && it->first == fb) ++it;
      continue;
    }
    // The visitor captures one pointer, so std::function keeps it inline (no allocation per
    // block: this runs for every mapped block of every execution's final file).
    struct Shift {
      const DiskImage::Visitor& fn;
      uint64_t file_pos, disk_pos;
    } shift{fn, b, static_cast<uint64_t>(it->second) * bs + (b - fb * bs)};
    disk_.image().visit(shift.disk_pos, e - b,
                        [s = &shift](uint64_t pos, uint64_t n, const uint8_t* bytes, uint8_t fill,
                                     const std::shared_ptr<const void>& keep) {
                          s->fn(s->file_pos + (pos - s->disk_pos), n, bytes, fill, keep);
                        });
    ++it;
  }
}

} // namespace diosim::world
