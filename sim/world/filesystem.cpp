// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/filesystem.hpp"

#include <algorithm>

namespace diosim::world {

using kern::arg;

SimFilesystem::SimFilesystem(const ScenarioSpec& spec)
    : spec_(spec), blkbits_(static_cast<unsigned>(__builtin_ctz(spec.geometry.fs_block_size))),
      disk_used_(spec.geometry.disk_blocks, false) {
  uint64_t last_used = 0;
  for (const Extent& e : spec.extents) {
    for (uint64_t i = 0; i < e.blocks; ++i) {
      map_[e.file_block + i] = static_cast<int64_t>(e.disk_block + i);
      disk_used_[e.disk_block + i] = true;
    }
    last_used = std::max(last_used, e.disk_block + e.blocks);
  }
  next_free_ = spec.fs.first_free_block ? spec.fs.first_free_block : last_used;
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

int64_t SimFilesystem::allocate_run(uint64_t file_block, uint64_t count, uint64_t* got) {
  // One contiguous run from the allocator cursor, shortened where the disk is used or ends.
  while (next_free_ < disk_used_.size() && disk_used_[next_free_])
    ++next_free_;
  if (next_free_ >= disk_used_.size()) return -ENOSPC;
  const uint64_t start = next_free_;
  uint64_t n = 0;
  while (n < count && start + n < disk_used_.size() && !disk_used_[start + n])
    ++n;
  for (uint64_t i = 0; i < n; ++i) {
    disk_used_[start + i] = true;
    map_[file_block + i] = static_cast<int64_t>(start + i);
  }
  next_free_ = start + n;
  *got = n;
  return static_cast<int64_t>(start);
}

int64_t SimFilesystem::allocate(uint64_t file_block) {
  if (int64_t b = lookup(file_block); b != kHole) return b;
  uint64_t got = 0;
  return allocate_run(file_block, 1, &got);
}

void SimFilesystem::truncate_blocks(kern::loff_t size) {
  const uint64_t first = (static_cast<uint64_t>(size) + (1u << blkbits_) - 1) >> blkbits_;
  for (auto it = map_.lower_bound(first); it != map_.end(); it = map_.erase(it))
    disk_used_[static_cast<uint64_t>(it->second)] = false;
}

int SimFilesystem::get_block_entry(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                                   int create) {
  return static_cast<SimFilesystem*>(inode->i_sb->s_fs_info)->get_block(inode, iblock, bh, create);
}

int SimFilesystem::end_io_entry(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv) {
  auto* fs = static_cast<SimFilesystem*>(iocb->ki_filp->f_inode->i_sb->s_fs_info);
  return fs->end_io(iocb, offset, size, priv);
}

int SimFilesystem::get_block(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                             int create) {
  ++get_block_calls_;
  kern::might_sleep("get_block");
  const uint64_t maxblocks = bh->b_size >> blkbits_;
  kern::yield_point(
      engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, 0), "get_block", "fs", [&] {
        return ::kern::TraceArgs{arg("iblock", static_cast<int64_t>(iblock)), arg("create", create),
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
  const uint64_t btb = blocks_to_boundary(iblock);
  uint64_t count = 0;
  bool is_new = false;
  int64_t first = lookup(iblock);
  if (first != kHole) {
    count = 1;
    while (count < limit && count <= btb &&
           lookup(iblock + count) == first + static_cast<int64_t>(count))
      ++count;
  } else if (create) {
    uint64_t want = 1;
    while (want < limit && want <= btb && lookup(iblock + want) == kHole)
      ++want;
    // ext2_alloc_branch's GFP_KERNEL allocations may fail (fault injection, runtime.hpp).
    const int64_t start =
        kern::alloc_fails(kern::AllocSite::fs_block) ? -ENOMEM : allocate_run(iblock, want, &count);
    if (start < 0) {
      DIOSIM_TRACE_CHANGE("get_block_result", "fs", {arg("ret", start)});
      return static_cast<int>(start);
    }
    first = start;
    is_new = true;
  } else {
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
      engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, 0), "end_io", "fs", [&] {
        return ::kern::TraceArgs{arg("offset", offset), arg("size", static_cast<int64_t>(size))};
      });
  // NULL is what a request gets when get_block never ran for it (e.g. the first user page
  // faulted before any block was mapped).
  if (spec_.fs.set_private && priv != &private_token_ && priv != nullptr)
    kern::violation("end_io-private", "end_io received a private pointer get_block did not set");
  return spec_.fs.end_io_error;
}

} // namespace diosim::world
