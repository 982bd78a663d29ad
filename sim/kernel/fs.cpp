// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/fs.hpp"

#include "sim/kernel/bio.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/workqueue.hpp"

namespace kern {

void note_inode(const inode* inode, bool write) {
  note_file(inode_file(inode), write);
}

uint64_t mapping_file(const address_space* mapping) {
  return mapping && mapping->host ? inode_file(mapping->host) : 0;
}

loff_t i_size_read(const inode* inode) {
  note_inode(inode, false);
  return inode->i_size;
}

void i_size_write(inode* inode, loff_t size) {
  note_inode(inode, true);
  const loff_t before = inode->i_size;
  inode->i_size = size;
  DIOSIM_TRACE_CHANGE("i_size_write", "fs",
                      {arg("i_size.before", before), arg("i_size.after", size)});
}

void inode_lock(inode* inode) {
  Kernel& k = K();
  might_sleep("inode_lock");
  rw_semaphore& sem = inode->i_rwsem;
  if (!sem.id) sem.id = k.next_lock_id++;
  engine::Context* self = k.sched.current();
  if (sem.owner == self)
    violation("recursive-inode-lock", "inode_lock already held by " + self->name);
  const engine::ObjectRef ref = obj(engine::ObjectKind::lock, sem.id);
  yield_point(engine::StepOp::acquire, ref, "inode_lock", "fs");
  while (sem.owner) {
    k.lock_waiters.emplace_back(sem.id, self);
    k.sched.begin_step(engine::StepOp::acquire, ref); // retried when the owner releases it
    k.sched.block();
  }
  sem.owner = self;
  get_current()->mutexes_held++;
  k.race.on_acquire(self->id, sem.id);
}

void inode_unlock(inode* inode) {
  Kernel& k = K();
  rw_semaphore& sem = inode->i_rwsem;
  engine::Context* self = k.sched.current();
  if (sem.owner != self)
    violation("lock-balance", "inode_unlock by " + self->name + ", which does not hold it");
  yield_point(engine::StepOp::release, obj(engine::ObjectKind::lock, sem.id), "inode_unlock", "fs");
  k.race.on_release(self->id, sem.id);
  sem.owner = nullptr;
  get_current()->mutexes_held--;
  k.wake_lock_waiters(sem.id);
}

void inode_dio_begin(inode* inode) {
  note_inode(inode, true);
  const int before = inode->i_dio_count++;
  DIOSIM_TRACE_CHANGE(
      "inode_dio_begin", "fs",
      {arg("i_dio_count.before", before), arg("i_dio_count.after", inode->i_dio_count)});
}

void inode_dio_end(inode* inode) {
  note_inode(inode, true);
  if (inode->i_dio_count <= 0)
    violation("i_dio_count-underflow",
              "inode_dio_end with i_dio_count " + std::to_string(inode->i_dio_count));
  const int before = inode->i_dio_count--;
  DIOSIM_TRACE_CHANGE(
      "inode_dio_end", "fs",
      {arg("i_dio_count.before", before), arg("i_dio_count.after", inode->i_dio_count)});
}

int filemap_write_and_wait_range(address_space* mapping, loff_t lstart, loff_t lend) {
  might_sleep("filemap_write_and_wait_range");
  yield_point(engine::StepOp::hook, obj(engine::ObjectKind::inode, mapping_file(mapping)),
              "filemap_write_and_wait_range", "fs", [&] {
                return ::kern::TraceArgs{arg("start", lstart), arg("end", lend)};
              });
  if (lend < lstart) return 0;
  // Writeback and wait (the page cache), then the mapping-wide error check: a writeback that
  // failed in another caller's range is reported here if that caller has not checked yet.
  const int err = mapping->ops ? mapping->ops->write_and_wait_range(mapping, lstart, lend) : 0;
  const int err2 = filemap_check_errors(mapping);
  return err ? err : err2;
}

void mapping_set_error(address_space* mapping, int error) {
  if (!error) return;
  note_file(mapping_file(mapping), true);
  mapping->flags |= AS_EIO;
  DIOSIM_TRACE_CHANGE("mapping_set_error", "fs", {arg("error", error)});
}

int filemap_check_errors(address_space* mapping) {
  note_file(mapping_file(mapping), true);
  if (!(mapping->flags & AS_EIO)) return 0;
  mapping->flags &= ~AS_EIO;
  DIOSIM_TRACE_CHANGE("filemap_check_errors", "fs", {arg("ret", -EIO)});
  return -EIO;
}

int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end) {
  might_sleep("invalidate_inode_pages2_range");
  yield_point(engine::StepOp::hook, obj(engine::ObjectKind::inode, mapping_file(mapping)),
              "invalidate_inode_pages2_range", "fs", [&] {
                return ::kern::TraceArgs{arg("start", static_cast<int64_t>(start)),
                                         arg("end", static_cast<int64_t>(end))};
              });
  return mapping->ops ? mapping->ops->invalidate_range(mapping, start, end) : 0;
}

void dio_warn_stale_pagecache(file*) {
  ++K().stale_pagecache_warnings;
  DIOSIM_TRACE_CHANGE("dio_warn_stale_pagecache", "fs", {});
}

bool iocb_is_dsync(const kiocb* iocb) {
  if (iocb->ki_flags & IOCB_DSYNC) return true;
  const file* f = iocb->ki_filp;
  if (!f || !f->f_mapping || !f->f_mapping->host) return false;
  note_inode(f->f_mapping->host, false); // i_flags: chattr changes it
  return IS_SYNC(f->f_mapping->host);
}

ssize_t generic_write_sync(kiocb* iocb, ssize_t count) {
  if (iocb_is_dsync(iocb)) {
    might_sleep("generic_write_sync");
    address_space* mapping = iocb->ki_filp->f_mapping;
    yield_point(engine::StepOp::hook, obj(engine::ObjectKind::inode, mapping_file(mapping)),
                "generic_write_sync", "fs", [&] { return ::kern::TraceArgs{arg("count", count)}; });
    const int ret =
        mapping->ops ? mapping->ops->fsync_range(iocb, iocb->ki_pos - count, iocb->ki_pos - 1) : 0;
    if (ret) return ret;
  }
  return count;
}

// fs/super.c: allocate the per-sb completion workqueue; a racing allocation loses and frees
// its own (the cmpxchg in the kernel). The allocation can fail (-ENOMEM) by fault injection.
int sb_init_dio_done_wq(super_block* sb) {
  if (alloc_fails(AllocSite::dio_done_wq)) return -ENOMEM; // alloc_workqueue returned NULL
  workqueue_struct* wq = alloc_workqueue(std::string("dio/") + sb->s_id);
  if (sb->s_dio_done_wq) {
    destroy_workqueue(wq);
    return 0;
  }
  sb->s_dio_done_wq = wq;
  return 0;
}

void clean_bdev_aliases(block_device*, sector_t block, sector_t len) {
  DIOSIM_TRACE_CHANGE(
      "clean_bdev_aliases", "fs",
      {arg("block", static_cast<int64_t>(block)), arg("len", static_cast<int64_t>(len))});
}

} // namespace kern
