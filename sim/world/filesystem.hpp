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
//   extent - contiguous runs up to the request, boundary only at listed blocks, same flags,
//            accepts NOWAIT.
//   ocfs2  - like extent, but flags 0 and an end_io.
// Invariants:
//   1. A file block maps to at most one disk block and no two file blocks share one.
//   2. get_block never maps more than b_size asks for.
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
  explicit SimFilesystem(const ScenarioSpec& spec);

  static constexpr int64_t kHole = -1;

  int64_t lookup(uint64_t file_block) const;
  // The mapped file blocks in order, for walks that must not visit holes.
  const std::map<uint64_t, int64_t>& block_map() const { return map_; }
  // The file block mapped to `disk_block`, or kHole when none is.
  int64_t reverse_lookup(uint64_t disk_block) const;
  // Allocates one block for a hole (the buffered write path); returns the disk block.
  int64_t allocate(uint64_t file_block);
  // ext2_truncate_blocks: frees every block at or beyond `size`'s block.
  void truncate_blocks(kern::loff_t size);

  int dio_flags() const;
  bool supports_nowait() const { return spec_.fs.model != FsModel::ext2; }
  kern::get_block_t* get_block_fn() const { return &SimFilesystem::get_block_entry; }
  kern::dio_iodone_t* end_io_fn() const {
    return spec_.fs.model == FsModel::ocfs2 ? &SimFilesystem::end_io_entry : nullptr;
  }

  uint64_t get_block_calls() const { return get_block_calls_; }
  uint64_t end_io_calls() const { return end_io_calls_; }
  unsigned blkbits() const { return blkbits_; }

private:
  static int get_block_entry(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh,
                             int create);
  static int end_io_entry(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv);
  int get_block(kern::inode* inode, kern::sector_t iblock, kern::buffer_head* bh, int create);
  int end_io(kern::kiocb* iocb, kern::loff_t offset, ssize_t size, void* priv);
  uint64_t blocks_to_boundary(uint64_t iblock) const; // slots left after this one in its array
  int64_t allocate_run(uint64_t file_block, uint64_t count, uint64_t* got);

  const ScenarioSpec& spec_;
  unsigned blkbits_;
  std::map<uint64_t, int64_t> map_; // file block -> disk block; absent: a hole (sparse: the cost
                                    // follows the mapped blocks, not the offsets)
  std::vector<bool> disk_used_;     // by disk block
  uint64_t next_free_;
  uint64_t get_block_calls_ = 0, end_io_calls_ = 0;
  int private_token_ = 0; // b_private points here when set_private
};

} // namespace diosim::world
