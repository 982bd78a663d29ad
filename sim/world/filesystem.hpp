// SPDX-License-Identifier: GPL-2.0-only
// The filesystem model behind one file: its block map, the injectable get_block, an optional
// end_io, and block allocation.
//
// Models (scenario "filesystem.model"):
//   ext2   - ext2_get_block as Linux 6.1 behaves: contiguous runs that never cross the end of a
//            pointer array (12 direct slots, then blocksize/4 per indirect block), BH_Boundary
//            when the run ends on the array's last slot, holes left unmapped, allocation only
//            when create (direct-io forbids it inside i_size), new blocks flagged and not
//            zeroed. Flags DIO_LOCKING|DIO_SKIP_HOLES. RWF_NOWAIT rejected (-EOPNOTSUPP).
//            Placement (fs_ext2.cpp): ext2_find_goal's goal, missing indirect blocks allocated
//            in front of the data they map (ext2_alloc_blocks), runs cut at used blocks.
//   extent - contiguous runs up to the request, boundary only at listed blocks, same flags,
//            accepts NOWAIT.
//   vfat   - fat_direct_IO (fs_vfat.cpp): no holes, runs cut at cluster ends, clusters
//            allocated by the buffered path, a direct write past mmu_private done buffered.
//            Flags DIO_LOCKING|DIO_SKIP_HOLES, no end_io, RWF_NOWAIT rejected (-EOPNOTSUPP).
//   ocfs2  - like extent, but flags 0 and an end_io. With "unwritten" (the default) a hole a
//            write fills becomes an unwritten extent: reads (and lookup) see a hole until the
//            write's end_io converts it; a later write maps it BH_New again.
// Invariants:
//   1. A file block maps to at most one disk block and no two file blocks share one; no indirect
//      block shares a disk block with data.
//   2. get_block never maps more than b_size asks for.
//   3. Every allocation goes through new_blocks (one place for allocation-failure hooks). Disk
//      blocks below first_free_block, listed in used_blocks, or freed by a truncation are never
//      handed out (freed blocks keep their old bytes; the reference model assumes fresh blocks
//      hold the stale pattern).
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/scenario/scenario.hpp"

#include <map>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

class SimFilesystem {
public:
  // The free-space allocator's state: which disk blocks are used, and the extent models'
  // cursor. Several files (scenario "files") share one, so their new blocks interleave.
  struct Space {
    std::vector<bool> used; // by disk block
    uint64_t next_free = 0;
  };
  // `spec`: the file's view (scenario_files.hpp); `shared`: the disk's Space when the scenario
  // has several files (null: this filesystem's own). The Space outlives the filesystem.
  explicit SimFilesystem(const ScenarioSpec& spec, Space* shared = nullptr);
  SimFilesystem(const SimFilesystem&) = delete;
  SimFilesystem& operator=(const SimFilesystem&) = delete;

  static constexpr int64_t kHole = -1;

  int64_t lookup(uint64_t file_block) const;
  // The mapped file blocks in order, for walks that must not visit holes. Unwritten extents
  // (ocfs2) are not in it: they read as holes.
  const std::map<uint64_t, int64_t>& block_map() const { return map_; }
  // The file block mapped to `disk_block`, or kHole when none is.
  int64_t reverse_lookup(uint64_t disk_block) const;
  // Allocates one block for a hole (the buffered write path); returns the disk block.
  int64_t allocate(uint64_t file_block);
  // ext2_truncate_blocks: frees every block at or beyond `size`'s block.
  void truncate_blocks(kern::loff_t size);
  // fallocate (inode_ops.cpp): allocates every hole in file blocks [first, end) as unwritten
  // extents (they read as holes until written); 0, or -ENOSPC / -ENOMEM where allocation stopped
  // (what was allocated stays). punch_blocks frees the blocks (written or not) in [first, end).
  int preallocate(uint64_t first, uint64_t end);
  void punch_blocks(uint64_t first, uint64_t end);
  // Whether the model supports fallocate at all (ext2 in Linux 6.1 has no ->fallocate).
  bool supports_fallocate() const {
    return spec_.fs.model == FsModel::extent || spec_.fs.model == FsModel::ocfs2;
  }

  int dio_flags() const;
  bool supports_nowait() const {
    return spec_.fs.model != FsModel::ext2 && spec_.fs.model != FsModel::vfat;
  }
  // fat_direct_IO: a write ending past mmu_private returns 0 (the VFS then writes buffered).
  bool direct_write_falls_back(kern::loff_t end) const {
    return spec_.fs.model == FsModel::vfat && static_cast<uint64_t>(end) > mmu_private_;
  }
  // cont_write_begin's `bytes` (vfat: mmu_private): a buffered write starting past it first
  // zero-fills the page cache from it up to the write (cont_expand_zero). UINT64_MAX: no gap to
  // fill (the other models leave holes, which read as zeros).
  uint64_t cont_zero_from() const {
    return spec_.fs.model == FsModel::vfat ? mmu_private_ : UINT64_MAX;
  }
  kern::get_block_t* get_block_fn() const { return &SimFilesystem::get_block_entry; }
  kern::dio_iodone_t* end_io_fn() const {
    return spec_.fs.model == FsModel::ocfs2 ? &SimFilesystem::end_io_entry : nullptr;
  }

  uint64_t get_block_calls() const { return get_block_calls_; }
  uint64_t end_io_calls() const { return end_io_calls_; }
  unsigned blkbits() const { return blkbits_; }

private:
  static SimFilesystem* of(kern::inode* inode);
  static int get_block_entry(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                             int create);
  static int end_io_entry(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv);
  int get_block(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh, int create);
  int end_io(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv);
  uint64_t blocks_to_boundary(uint64_t iblock) const; // slots left after this one in its array
  int64_t allocate_run(uint64_t file_block, uint64_t count, uint64_t* got);
  int64_t map_run(uint64_t iblock, uint64_t limit, bool create, uint64_t* count, bool* is_new);
  bool fills_unwritten() const { return spec_.fs.model == FsModel::ocfs2 && spec_.fs.unwritten; }
  // ext2_new_blocks: the first free disk block at or after `goal` (wrapping to the disk's start),
  // and the free blocks right after it, at most `count`; marks them used. -ENOSPC when none.
  int64_t new_blocks(uint64_t goal, uint64_t count, uint64_t* got);
  // ext2 (fs_ext2.cpp). An indirect block is named by the first file block it covers and how
  // many it covers; chain() lists the ones `file_block`'s path goes through, top first.
  using IndirectKey = std::pair<uint64_t, uint64_t>;
  std::vector<IndirectKey> ext2_chain(uint64_t file_block) const;
  uint64_t ext2_find_goal(uint64_t file_block, const std::vector<IndirectKey>& chain) const;
  int64_t ext2_alloc_branch(uint64_t file_block, uint64_t count, uint64_t* got);
  void ext2_free_indirect(uint64_t first_freed_block);
  // vfat (fs_vfat.cpp).
  uint64_t vfat_cluster_blocks() const;
  uint64_t vfat_run_limit(uint64_t iblock, bool create, kern::loff_t i_size) const;
  void vfat_settle_cluster(uint64_t file_block);
  int64_t vfat_alloc(uint64_t file_block, uint64_t count, uint64_t* got);
  void vfat_truncate(kern::loff_t size);

  const ScenarioSpec& spec_;
  unsigned blkbits_;
  std::map<uint64_t, int64_t> map_; // file block -> disk block; absent: a hole (sparse: the cost
                                    // follows the mapped blocks, not the offsets)
  std::map<uint64_t, int64_t> unwritten_; // ocfs2: allocated, not yet written (not in map_)
  Space own_;                             // unless shared
  std::vector<bool>& disk_used_;          // by disk block (the Space's)
  uint64_t& next_free_;                   // the Space's cursor
  uint64_t first_free_block_;
  // ext2: indirect blocks present -> their disk block (kHole: present before the run, placed
  // outside the modelled disk), and ext2_block_alloc_info's sequential-allocation hint.
  std::map<IndirectKey, int64_t> indirect_;
  uint64_t last_alloc_logical_ = 0, last_alloc_physical_ = 0;
  // vfat: MSDOS_I(inode)->mmu_private, and the allocated blocks at or past it.
  uint64_t mmu_private_ = 0;
  std::map<uint64_t, int64_t> reserve_;
  uint64_t get_block_calls_ = 0, end_io_calls_ = 0;
  int private_token_ = 0; // b_private points here when set_private
};

} // namespace diosim::world
