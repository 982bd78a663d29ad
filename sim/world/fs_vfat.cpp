// SPDX-License-Identifier: GPL-2.0-only
// The vfat model (Linux 6.1 fs/fat/inode.c): fat_direct_IO hands a write ending past
// mmu_private (the bytes allocated and initialised) to the buffered path by returning 0;
// otherwise blockdev_direct_IO with fat_get_block, whose fat_bmap maps at most to the end of a
// cluster and never past the block holding i_size (reads) or mmu_private (create). Files have no
// holes; allocation (the buffered path's write_begin) takes a whole cluster, next-fit from the
// cursor (fat_alloc_clusters), and mmu_private grows by the blocks it initialises.
// cont_write_begin's zero-fill of the gap between mmu_private and a buffered write past it is
// the page cache's (PageCache::cont_expand_zero, from cont_zero_from()).
// Left out: the FAT itself (a cluster chain is the extents' order; clusters are aligned on the
// disk to cluster_size).
// Invariant: reserve_ holds the blocks of allocated clusters at or past mmu_private; lookup
// never sees them, so a write reaching them treats them as new (zeroed around the write). Their
// disk bytes are untouched: allocation writes nothing.
#include "sim/world/filesystem.hpp"

#include <algorithm>

namespace diosim::world {

uint64_t SimFilesystem::vfat_cluster_blocks() const {
  return spec_.fs.cluster_size ? spec_.fs.cluster_size >> blkbits_ : 1;
}

// fat_bmap: the most blocks one call maps at `iblock`; 0 past the end it may map.
uint64_t SimFilesystem::vfat_run_limit(uint64_t iblock, bool create, kern::loff_t i_size) const {
  const uint64_t bs = 1ull << blkbits_;
  uint64_t last = (static_cast<uint64_t>(i_size) + bs - 1) >> blkbits_;
  if (iblock >= last && create) last = (mmu_private_ + bs - 1) >> blkbits_;
  if (iblock >= last) return 0;
  const uint64_t cb = vfat_cluster_blocks();
  return std::min(cb - iblock % cb, last - iblock);
}

// Moves the file blocks [from, to) of `file_block`'s cluster between map_ (below mmu_private)
// and reserve_, as mmu_private says.
void SimFilesystem::vfat_settle_cluster(uint64_t file_block) {
  const uint64_t cb = vfat_cluster_blocks(), first = file_block / cb * cb;
  const uint64_t initialised = (mmu_private_ + (1ull << blkbits_) - 1) >> blkbits_;
  for (uint64_t b = first; b < first + cb; ++b) {
    auto from = b < initialised ? reserve_.find(b) : map_.find(b);
    auto& src = b < initialised ? reserve_ : map_;
    if (from == src.end()) continue;
    (b < initialised ? map_ : reserve_)[b] = from->second;
    src.erase(from);
  }
}

// __fat_get_block on create / fat_add_cluster: the block's cluster is allocated if it is not
// yet, and mmu_private covers the blocks asked for. Returns the disk block of `file_block`.
int64_t SimFilesystem::vfat_alloc(uint64_t file_block, uint64_t count, uint64_t* got) {
  const uint64_t cb = vfat_cluster_blocks(), first = file_block / cb * cb;
  if (!reserve_.count(file_block)) {
    const uint64_t n_disk = disk_used_.size();
    auto cluster_free = [&](uint64_t d) {
      for (uint64_t i = 0; i < cb; ++i)
        if (disk_used_[d + i]) return false;
      return true;
    };
    const uint64_t lo = (first_free_block_ + cb - 1) / cb * cb;
    const uint64_t cursor = std::max(lo, (next_free_ + cb - 1) / cb * cb);
    uint64_t start = cursor;
    while (start + cb <= n_disk && !cluster_free(start))
      start += cb;
    if (start + cb > n_disk) // next-fit wraps to the start of the data area
      for (start = lo; start < cursor && !cluster_free(start);)
        start += cb;
    if (start + cb > n_disk || (start >= cursor && !cluster_free(start))) return -ENOSPC;
    uint64_t n = 0;
    new_blocks(start, cb, &n); // the whole cluster: every block of it is free
    for (uint64_t i = 0; i < cb; ++i)
      reserve_[first + i] = static_cast<int64_t>(start + i);
    next_free_ = start + cb;
  }
  const uint64_t n = std::min(count, first + cb - file_block);
  mmu_private_ = std::max(mmu_private_, (file_block + n) << blkbits_);
  vfat_settle_cluster(file_block);
  *got = n;
  return map_.at(file_block);
}

// fat_truncate_blocks: clusters wholly past `size` are freed (their blocks stay used: invariant
// 3 of filesystem.hpp); mmu_private drops to `size`.
void SimFilesystem::vfat_truncate(kern::loff_t size) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  const uint64_t cb = vfat_cluster_blocks(), bs = 1ull << blkbits_;
  const uint64_t keep = (static_cast<uint64_t>(size) + cb * bs - 1) / (cb * bs) * cb;
  map_.erase(map_.lower_bound(keep), map_.end());
  reserve_.erase(reserve_.lower_bound(keep), reserve_.end());
  mmu_private_ = std::min<uint64_t>(mmu_private_, static_cast<uint64_t>(size));
  if (keep) vfat_settle_cluster(keep - 1);
}

} // namespace diosim::world
