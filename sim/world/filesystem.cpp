// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/filesystem.hpp"

#include <algorithm>

namespace diosim::world {

using kern::arg;

SimFilesystem::SimFilesystem(const ScenarioSpec& spec, Space* shared)
    : spec_(spec), blkbits_(static_cast<unsigned>(__builtin_ctz(spec.geometry.fs_block_size))),
      disk_used_(shared ? shared->used : own_.used),
      next_free_(shared ? shared->next_free : own_.next_free) {
  // A shared Space is set up by the first file; the others add their extents (each file's view
  // lists the other files' extents as used_blocks, so every view marks the same blocks).
  if (disk_used_.empty()) disk_used_.assign(spec.geometry.disk_blocks, false);
  uint64_t last_used = 0;
  for (const Extent& e : spec.extents) {
    for (uint64_t i = 0; i < e.blocks; ++i) {
      map_[e.file_block + i] = static_cast<int64_t>(e.disk_block + i);
      disk_used_[e.disk_block + i] = true;
      if (spec.fs.model == FsModel::ext2) // its indirect blocks exist, somewhere off the model
        for (const IndirectKey& k : ext2_chain(e.file_block + i))
          indirect_.emplace(k, kHole);
    }
    last_used = std::max(last_used, e.disk_block + e.blocks);
  }
  next_free_ = spec.fs.first_free_block ? spec.fs.first_free_block : last_used;
  first_free_block_ = next_free_;
  // Below the allocator's start lies what other files and metadata hold.
  std::fill(disk_used_.begin(),
            disk_used_.begin() +
                static_cast<long>(std::min<uint64_t>(first_free_block_, disk_used_.size())),
            true); // word at a time (per execution: a bit at a time cost ~20 instructions each)
  if (spec.fs.model == FsModel::vfat) { // mmu_private starts at i_size
    mmu_private_ = static_cast<uint64_t>(spec.i_size);
    for (const auto& [file_block, d] : std::map<uint64_t, int64_t>(map_))
      vfat_settle_cluster(file_block);
  }
  for (const DiskRun& u : spec.fs.used_blocks)
    for (uint64_t i = 0; i < u.blocks; ++i)
      disk_used_[u.disk_block + i] = true;
}

int64_t SimFilesystem::lookup(uint64_t file_block) const {
  auto it = map_.find(file_block);
  return it == map_.end() ? kHole : it->second;
}

int64_t SimFilesystem::reverse_lookup(uint64_t disk_block) const {
  for (const auto& [file_block, d] : map_)
    if (d == static_cast<int64_t>(disk_block)) return static_cast<int64_t>(file_block);
  return kHole;
}

int SimFilesystem::dio_flags() const {
  return spec_.fs.model == FsModel::ocfs2 ? 0 : kern::DIO_LOCKING | kern::DIO_SKIP_HOLES;
}

uint64_t SimFilesystem::blocks_to_boundary(uint64_t iblock) const {
  if (spec_.fs.model == FsModel::ext2) {
    const uint64_t ptrs = spec_.geometry.fs_block_size / 4;
    if (iblock < 12) return 12 - 1 - iblock;
    return ptrs - 1 - ((iblock - 12) & (ptrs - 1));
  }
  // Other models: a run ends with a boundary only at a listed block.
  uint64_t best = UINT64_MAX;
  for (uint64_t b : spec_.fs.boundary_blocks)
    if (b >= iblock) best = std::min(best, b - iblock);
  return best;
}

int64_t SimFilesystem::new_blocks(uint64_t goal, uint64_t count, uint64_t* got) {
  const uint64_t n_disk = disk_used_.size();
  if (goal >= n_disk) goal = 0;
  uint64_t start = goal;
  while (start < n_disk && disk_used_[start])
    ++start;
  if (start >= n_disk) { // ext2_new_blocks goes on into the other groups, wrapping around
    start = 0;
    while (start < goal && disk_used_[start])
      ++start;
    if (start >= goal) return -ENOSPC;
  }
  uint64_t n = 0;
  while (n < count && start + n < n_disk && !disk_used_[start + n])
    disk_used_[start + n++] = true;
  *got = n;
  return static_cast<int64_t>(start);
}

int64_t SimFilesystem::allocate_run(uint64_t file_block, uint64_t count, uint64_t* got) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  if (spec_.fs.model == FsModel::ext2) return ext2_alloc_branch(file_block, count, got);
  if (spec_.fs.model == FsModel::vfat) return vfat_alloc(file_block, count, got);
  // One contiguous run from the allocator cursor, shortened where the disk is used or ends.
  if (next_free_ >= disk_used_.size()) return -ENOSPC;
  const int64_t start = new_blocks(next_free_, count, got);
  if (start < 0 || static_cast<uint64_t>(start) < next_free_) { // the cursor never wraps
    for (uint64_t i = 0; start >= 0 && i < *got; ++i)
      disk_used_[static_cast<uint64_t>(start) + i] = false;
    return -ENOSPC;
  }
  for (uint64_t i = 0; i < *got; ++i)
    map_[file_block + i] = start + static_cast<int64_t>(i);
  next_free_ = static_cast<uint64_t>(start) + *got;
  return start;
}

int64_t SimFilesystem::allocate(uint64_t file_block) {
  if (int64_t b = lookup(file_block); b != kHole) return b;
  if (auto u = unwritten_.find(file_block); u != unwritten_.end()) { // the buffered write zeroes
    const int64_t b = map_[file_block] = u->second;                  // it and marks it written
    unwritten_.erase(u);
    return b;
  }
  uint64_t got = 0;
  return allocate_run(file_block, 1, &got);
}

void SimFilesystem::truncate_blocks(kern::loff_t size) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  // The freed blocks stay marked used: never handed out again (invariant 3).
  if (spec_.fs.model == FsModel::vfat) return vfat_truncate(size);
  const uint64_t first = (static_cast<uint64_t>(size) + (1u << blkbits_) - 1) >> blkbits_;
  map_.erase(map_.lower_bound(first), map_.end());
  unwritten_.erase(unwritten_.lower_bound(first), unwritten_.end());
  if (spec_.fs.model == FsModel::ext2) ext2_free_indirect(first);
}

// The super block's s_fs_info lists each file's filesystem object, by inode number - 1 (the
// world sets i_ino = file index + 1).
SimFilesystem* SimFilesystem::of(kern::inode* inode) {
  return static_cast<std::vector<SimFilesystem*>*>(inode->i_sb->s_fs_info)->at(inode->i_ino - 1);
}

int SimFilesystem::get_block_entry(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                                   int create) {
  return of(inode)->get_block(inode, iblock, bh, create);
}

int SimFilesystem::end_io_entry(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv) {
  return of(iocb->ki_filp->f_inode)->end_io(iocb, offset, size, priv);
}

// The run get_block maps at `iblock`, at most `limit` blocks: its first disk block, kHole for an
// unmapped result, or -errno. An unwritten block (ocfs2) reads as a hole and is mapped BH_New
// for a write (ocfs2_dio_wr_get_block sets it: c_needs_zero).
int64_t SimFilesystem::map_run(uint64_t iblock, uint64_t limit, bool create, uint64_t* count,
                               bool* is_new) {
  if (limit == 0) return kHole; // vfat: past the blocks fat_bmap maps
  int64_t first = lookup(iblock);
  if (first != kHole) {
    *count = 1;
    while (*count < limit && lookup(iblock + *count) == first + static_cast<int64_t>(*count))
      ++*count;
    return first;
  }
  if (!create) return kHole;
  *is_new = true;
  if (auto u = unwritten_.find(iblock); u != unwritten_.end()) {
    first = u->second;
    *count = 1;
    for (auto nx = std::next(u);
         *count < limit && nx != unwritten_.end() && nx->first == iblock + *count &&
         nx->second == first + static_cast<int64_t>(*count);
         ++nx)
      ++*count;
    // Without an end_io to convert them (the extent model), preallocated blocks a write maps
    // become written at once, as a fresh allocation does.
    if (!fills_unwritten())
      for (uint64_t i = 0; i < *count; ++i) {
        map_[iblock + i] = unwritten_.at(iblock + i);
        unwritten_.erase(iblock + i);
      }
    return first;
  }
  uint64_t want = 1;
  while (want < limit && lookup(iblock + want) == kHole && !unwritten_.count(iblock + want))
    ++want;
  // ext2_alloc_branch's GFP_KERNEL allocations may fail (fault injection, runtime.hpp).
  if (kern::alloc_fails(kern::AllocSite::fs_block)) return -ENOMEM;
  first = allocate_run(iblock, want, count);
  if (first >= 0 && fills_unwritten())
    for (uint64_t i = 0; i < *count; ++i) {
      unwritten_[iblock + i] = map_.at(iblock + i);
      map_.erase(iblock + i);
    }
  return first;
}

int SimFilesystem::get_block(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                             int create) {
  ++get_block_calls_;
  kern::might_sleep("get_block");
  const uint64_t maxblocks = bh->b_size >> blkbits_;
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, inode->i_ino - 1),
                    "get_block", "fs", [&] {
                      return ::kern::TraceArgs{arg("iblock", static_cast<int64_t>(iblock)),
                                               arg("create", create),
                                               arg("maxblocks", static_cast<int64_t>(maxblocks))};
                    });
  // direct-io copies b_private into dio->private after every call (fs/direct-io.c:641), so a
  // filesystem that uses it sets it on every call: mapped, hole or error.
  if (spec_.fs.set_private) bh->b_private = &private_token_;
  const bool explored_error = spec_.explore_faults.get_block_error &&
                              kern::K().sched.choose_fault(engine::FaultSite::get_block, 2) == 1;
  if (explored_error || (spec_.fs.error_at_block && *spec_.fs.error_at_block == iblock)) {
    DIOSIM_TRACE_CHANGE("get_block_result", "fs", {arg("ret", spec_.fs.error_errno)});
    return spec_.fs.error_errno;
  }
  uint64_t limit = maxblocks;
  if (spec_.fs.max_blocks_per_map) limit = std::min(limit, spec_.fs.max_blocks_per_map);
  // A run may not reach the error block (the lookup would fail there).
  if (spec_.fs.error_at_block && *spec_.fs.error_at_block > iblock)
    limit = std::min<uint64_t>(limit, *spec_.fs.error_at_block - iblock);
  if (spec_.fs.model == FsModel::vfat)
    limit = std::min(limit, vfat_run_limit(iblock, create != 0, inode->i_size));
  const uint64_t btb = blocks_to_boundary(iblock);
  uint64_t count = 0;
  bool is_new = false;
  const int64_t first = map_run(iblock, btb == UINT64_MAX ? limit : std::min(limit, btb + 1),
                                create != 0, &count, &is_new);
  if (first < 0 && first != kHole) {
    DIOSIM_TRACE_CHANGE("get_block_result", "fs", {arg("ret", first)});
    return static_cast<int>(first);
  }
  if (first == kHole) {
    DIOSIM_TRACE_CHANGE("get_block_result", "fs", {arg("ret", 0), arg("mapped", 0)});
    return 0; // a hole: bh stays unmapped
  }
  kern::set_buffer_mapped(bh);
  if (is_new) kern::set_buffer_new(bh);
  if (count > btb) kern::set_buffer_boundary(bh);
  if (spec_.fs.defer_completion) kern::set_buffer_defer_completion(bh);
  bh->b_blocknr = static_cast<kern::sector_t>(first);
  bh->b_size = count << blkbits_;
  bh->b_bdev = inode->i_sb->s_bdev;
  DIOSIM_TRACE_CHANGE("get_block_result", "fs",
                      {arg("ret", 0), arg("mapped", 1), arg("blocknr", first),
                       arg("blocks", static_cast<int64_t>(count)), arg("new", is_new ? 1 : 0),
                       arg("boundary", count > btb ? 1 : 0)});
  return 0;
}

int SimFilesystem::end_io(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv) {
  ++end_io_calls_;
  kern::yield_point(
      engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, iocb->ki_filp->f_inode->i_ino - 1),
      "end_io", "fs", [&] {
        return ::kern::TraceArgs{arg("offset", offset), arg("size", static_cast<int64_t>(size))};
      });
  // NULL is what a request gets when get_block never ran for it (e.g. the first user page
  // faulted before any block was mapped).
  if (spec_.fs.set_private && priv != &private_token_ && priv != nullptr)
    kern::violation("end_io-private", "end_io received a private pointer get_block did not set");
  // ocfs2_dio_end_io_write: a write that transferred bytes marks its unwritten extents written
  // (a failing end_io is one whose conversion failed: they stay unwritten).
  if (fills_unwritten() && (iocb->ki_flags & kern::IOCB_WRITE) && size > 0 &&
      !spec_.fs.end_io_error) {
    const uint64_t bs = 1ull << blkbits_, first = static_cast<uint64_t>(offset) / bs;
    const uint64_t end =
        (static_cast<uint64_t>(offset) + static_cast<uint64_t>(size) + bs - 1) / bs;
    int64_t converted = 0;
    for (auto it = unwritten_.lower_bound(first); it != unwritten_.end() && it->first < end;
         ++converted) {
      map_[it->first] = it->second;
      it = unwritten_.erase(it);
    }
    DIOSIM_TRACE_CHANGE("unwritten_converted", "fs",
                        {arg("offset", offset), arg("blocks", converted)});
  }
  return spec_.fs.end_io_error;
}

} // namespace diosim::world
