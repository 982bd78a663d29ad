// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/world.hpp"

#include <cstring>

namespace diosim::world {

using kern::arg;

World::World(const ScenarioSpec& spec, engine::Scheduler& sched, const DiskImage* initial_disk)
    : spec_(spec), sched_(sched), disk_(spec, sched, initial_disk), fs_(spec), mem_(spec),
      cache_(spec, inode_, disk_, fs_) {
  disk_.on_unwritten_read = [this](uint64_t sector, const kern::bio* b) {
    check_stale_read(sector, b);
  };
  gendisk_.driver = &disk_;
  bdev_.bd_disk = &gendisk_;
  bdev_.logical_block_size = spec.geometry.logical_block_size;
  sb_.s_bdev = &bdev_;
  sb_.s_fs_info = &fs_;
  inode_.i_blkbits = fs_.blkbits();
  inode_.i_sb = &sb_;
  inode_.i_data.host = &inode_;
  inode_.i_data.ops = &cache_;
  inode_.i_mapping = &inode_.i_data;
  file_.f_inode = &inode_;
  file_.f_mapping = inode_.i_mapping;
  inode_.i_size = spec.i_size;
  cache_.populate(); // after the extents' data is on disk
  size_t count = 0;
  for (const Task& t : spec.tasks) {
    first_outcome_of_task_.push_back(count);
    count += t.ops.size();
  }
  outcomes_.resize(count);
  size_t k = 0;
  for (const Task& t : spec.tasks)
    for (size_t i = 0; i < t.ops.size(); ++i, ++k) {
      outcomes_[k].task = t.name;
      outcomes_[k].op_index = i;
      outcomes_[k].op = &t.ops[i];
    }
}

void World::start() {
  for (size_t i = 0; i < spec_.tasks.size(); ++i)
    sched_.spawn(engine::ContextKind::task, spec_.tasks[i].name, [this, i] { run_task(i); });
}

void World::run_task(size_t task_index) {
  kern::get_current()->mm = &mem_;
  const Task& task = spec_.tasks[task_index];
  std::vector<Request*> outstanding;
  for (size_t i = 0; i < task.ops.size(); ++i) {
    const Operation& op = task.ops[i];
    OpOutcome& out = outcomes_[first_outcome_of_task_[task_index] + i];
    if (op.kind == OpKind::reap) {
      reap(outstanding);
      out.finished = true;
      continue;
    }
    Request& req = submit(op, out);
    if (req.aio && !req.completed) outstanding.push_back(&req);
  }
  reap(outstanding); // io_destroy at exit waits for what is still in flight
}

World::Request& World::submit(const Operation& op, OpOutcome& out) {
  Request& req = requests_.emplace_back();
  req.world = this;
  req.out = &out;
  req.owner = kern::get_current();
  req.aio = op.aio;
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
  req.iocb.ki_filp = &file_;
  req.iocb.ki_pos = static_cast<kern::loff_t>(op.offset);
  req.iocb.ki_flags = kern::IOCB_DIRECT | (write ? kern::IOCB_WRITE : 0);
  if (op.dsync) req.iocb.ki_flags |= kern::IOCB_DSYNC;
  req.iocb.private_ = &req;
  if (op.aio) req.iocb.ki_complete = &World::aio_complete_rw;
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, 0),
                    write ? "sys_pwrite" : "sys_pread", "syscall", [&] {
                      return ::kern::TraceArgs{arg("offset", static_cast<int64_t>(op.offset)),
                                               arg("count", static_cast<int64_t>(count)),
                                               arg("aio", op.aio ? 1 : 0)};
                    });
  ssize_t ret;
  if (count == 0 && !op.aio) {
    ret = 0; // do_iter_read / do_iter_write return before looking at the flags (io_submit's
             // aio_prep_rw checks them first)
  } else if (op.nowait && !fs_.supports_nowait()) {
    ret = -EOPNOTSUPP; // kiocb_set_rw_flags: the file lacks FMODE_NOWAIT
  } else {
    if (op.nowait) req.iocb.ki_flags |= kern::IOCB_NOWAIT;
    ret = write ? write_iter(req) : read_iter(req);
  }
  if (op.aio) out.submit_ret = ret;
  if (!op.aio || ret != -EIOCBQUEUED) finish(req, ret); // aio_rw_done completes it at once
  return req;
}

void World::finish(Request& req, int64_t ret) {
  kern::note_world(true);
  for (const kern::iovec& v : req.iov) // the snapshot below reads the user pages
    mem_.note_read(v.iov_base, v.iov_len);
  OpOutcome& out = *req.out;
  req.completed = true;
  out.finished = true;
  out.ret = ret;
  out.i_size_after = inode_.i_size;
  out.ki_pos_after = req.iocb.ki_pos;
  // Straight into out.data, sized once: no temporary copy of a (possibly 1 GiB) iovec.
  size_t total = 0;
  for (const kern::iovec& v : req.iov)
    total += v.iov_len;
  out.data.assign(total, UserMemory::kUnmappedByte);
  size_t at = 0;
  for (const kern::iovec& v : req.iov) {
    mem_.snapshot_into(out.data.data() + at, v.iov_base, v.iov_len);
    at += v.iov_len;
  }
  DIOSIM_TRACE_CHANGE(
      "op_done", "syscall",
      {arg("task", out.task), arg("op", static_cast<int64_t>(out.op_index)), arg("ret", ret)});
}

void World::aio_complete_rw(kern::kiocb* iocb, long res) {
  auto* req = static_cast<Request*>(iocb->private_);
  req->out->ki_complete_calls++;
  if (req->completed)
    kern::violation("ki_complete-once", "ki_complete called again for " + req->out->task + " op " +
                                            std::to_string(req->out->op_index));
  req->world->finish(*req, res);
  if (req->owner->__state != kern::TASK_RUNNING) kern::wake_up_process(req->owner);
  req->world->wake_dio_waiters(); // dio_complete ran inode_dio_end just before
}

void World::reap(std::vector<Request*>& outstanding) {
  // io_getevents: sleep until every outstanding request has completed.
  kern::wait_event(
      [&] {
        kern::note_world(false);
        for (Request* r : outstanding)
          if (!r->completed) return false;
        return true;
      },
      "io_getevents");
  if (!outstanding.empty())
    kern::yield_point(
        engine::StepOp::observe, kern::obj(engine::ObjectKind::inode, 0), "io_getevents", "syscall",
        [&] { return ::kern::TraceArgs{arg("events", static_cast<int64_t>(outstanding.size()))}; });
  outstanding.clear();
}

// A read that reaches a never-written sector inside i_size exposes stale data: the
// allocation became visible before the data did.
void World::check_stale_read(uint64_t sector, const kern::bio* b) {
  const uint64_t bs = spec_.geometry.fs_block_size;
  const uint64_t pos = sector * 512;
  const int64_t fblock = fs_.reverse_lookup(pos / bs);
  if (fblock == SimFilesystem::kHole) return; // not this file's block (never returned)
  const uint64_t file_off = static_cast<uint64_t>(fblock) * bs + pos % bs;
  if (file_off >= static_cast<uint64_t>(inode_.i_size)) return;
  kern::violation("stale-data", kern::bio_name(b) + " reads sector " + std::to_string(sector) +
                                    " (file offset " + std::to_string(file_off) +
                                    ") that was never written, below i_size " +
                                    std::to_string(inode_.i_size));
}

std::optional<uint64_t> World::first_stale_file_byte() const {
  const uint64_t bs = spec_.geometry.fs_block_size;
  const uint64_t size = static_cast<uint64_t>(inode_.i_size);
  // Mapped blocks only, in file order: holes hold nothing stale, and walking them would cost
  // the file's size.
  for (const auto& [fblock, d] : fs_.block_map()) {
    if (fblock * bs >= size) break;
    for (uint64_t off = fblock * bs; off < (fblock + 1) * bs && off < size; off += 512) {
      const uint64_t sector = (static_cast<uint64_t>(d) * bs + off % bs) / 512;
      // A dirty cached block counts as written: writeback will put the cache's bytes there.
      if (!disk_.sector_written(sector) && !cache_.block_dirty(fblock)) return off;
    }
  }
  return std::nullopt;
}

std::vector<uint8_t> World::file_bytes(uint64_t offset, uint64_t len) const {
  const unsigned bs = spec_.geometry.fs_block_size;
  std::vector<uint8_t> out(len, 0);
  for (uint64_t i = 0; i < len;) {
    const uint64_t pos = offset + i;
    const uint64_t off = pos % bs;
    const uint64_t n = std::min<uint64_t>(len - i, bs - off);
    const int64_t d = fs_.lookup(pos / bs);
    if (d != SimFilesystem::kHole)
      disk_.read(static_cast<uint64_t>(d) * bs + off, out.data() + i, n);
    i += n;
  }
  return out;
}

} // namespace diosim::world
