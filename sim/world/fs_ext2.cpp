// SPDX-License-Identifier: GPL-2.0-only
// The ext2 model's block placement: Linux 6.1 fs/ext2/inode.c ext2_get_blocks on create, as far
// as it shapes bios. ext2_block_to_path names the indirect blocks on a file block's path;
// ext2_find_goal picks the goal (the sequential hint ext2_block_alloc_info keeps, else
// ext2_find_near: the nearest mapped slot to the left in the same array, else the array's own
// indirect block, else the group's start, here first_free_block); ext2_alloc_blocks takes the
// missing indirect blocks and the data in one ext2_new_blocks call, indirect blocks first, so an
// indirect block lands in front of the data it maps.
// Left out: block groups and their colour offset (one group: the goal falls back to
// first_free_block), reservation windows (one file has no neighbour to reserve against; the
// run still stops at the first used block), and reuse of freed blocks (invariant 3 of
// filesystem.hpp).
// Invariant: an indirect block in indirect_ covers file blocks [first, first + span); every
// mapped file block at or past 12 has its whole chain in indirect_.
#include "sim/world/filesystem.hpp"

namespace diosim::world {

namespace {
constexpr uint64_t kDirectSlots = 12; // EXT2_NDIR_BLOCKS
} // namespace

std::vector<SimFilesystem::IndirectKey> SimFilesystem::ext2_chain(uint64_t file_block) const {
  const uint64_t ptrs = spec_.geometry.fs_block_size / 4;
  std::vector<IndirectKey> chain;
  if (file_block < kDirectSlots) return chain;
  uint64_t base = kDirectSlots, span = ptrs; // the top indirect block of this depth
  uint64_t rel = file_block - kDirectSlots;
  while (rel >= span) { // past this depth's tree: on to double, then triple indirect
    rel -= span;
    base += span;
    span *= ptrs;
  }
  for (uint64_t s = span; s >= ptrs; s /= ptrs) // top level down to the leaf array
    chain.emplace_back(base + rel / s * s, s);
  return chain;
}

// ext2_find_goal and ext2_find_near (fs/ext2/inode.c).
uint64_t SimFilesystem::ext2_find_goal(uint64_t file_block,
                                       const std::vector<IndirectKey>& chain) const {
  if (last_alloc_physical_ != 0 && file_block == last_alloc_logical_ + 1)
    return last_alloc_physical_ + 1;
  auto known = [&](int64_t d) { return d == kHole ? first_free_block_ : static_cast<uint64_t>(d); };
  size_t missing = 0; // the first level of the chain not present (chain.size(): all present)
  while (missing < chain.size() && indirect_.count(chain[missing]))
    ++missing;
  if (missing == chain.size()) { // the slot is in the leaf array: scan its data pointers left
    const uint64_t start = chain.empty() ? 0 : chain.back().first;
    for (uint64_t b = file_block; b-- > start;)
      if (int64_t d = lookup(b); d != kHole) return known(d);
    return chain.empty() ? first_free_block_ : known(indirect_.at(chain.back()));
  }
  const IndirectKey want = chain[missing];
  if (missing > 0) { // the slot is in an indirect block: its siblings to the left, then itself
    const IndirectKey parent = chain[missing - 1];
    for (uint64_t f = want.first; f > parent.first;) {
      f -= want.second;
      if (auto it = indirect_.find({f, want.second}); it != indirect_.end())
        return known(it->second);
    }
    return known(indirect_.at(parent));
  }
  // The slot is in the inode (i_data[12..14]): the indirect slots before it, then the direct ones.
  const uint64_t ptrs = spec_.geometry.fs_block_size / 4;
  for (const auto& [key, d] : indirect_) // the top block of the shallower tree just before
    if (key.second * ptrs == want.second && key.first + key.second == want.first) return known(d);
  for (uint64_t b = kDirectSlots; b-- > 0;)
    if (int64_t d = lookup(b); d != kHole) return known(d);
  return first_free_block_;
}

// ext2_alloc_branch via ext2_alloc_blocks: `count` data blocks wanted at `file_block` (all holes,
// none past the leaf array's end). Maps the data run it got and returns its first disk block.
int64_t SimFilesystem::ext2_alloc_branch(uint64_t file_block, uint64_t count, uint64_t* got) {
  const std::vector<IndirectKey> chain = ext2_chain(file_block);
  size_t missing = 0;
  while (missing < chain.size() && indirect_.count(chain[missing]))
    ++missing;
  const uint64_t goal = ext2_find_goal(file_block, chain);
  std::vector<uint64_t> indirect_blocks;
  const size_t indirect_needed = chain.size() - missing;
  uint64_t target = indirect_needed + count, n = 0;
  int64_t data = -ENOSPC;
  while (true) {
    int64_t cur = new_blocks(goal, target, &n);
    if (cur < 0) { // failed_out: give back the indirect blocks taken so far
      for (uint64_t d : indirect_blocks)
        disk_used_[d] = false;
      return cur;
    }
    target -= n;
    while (indirect_blocks.size() < indirect_needed && n) {
      indirect_blocks.push_back(static_cast<uint64_t>(cur++));
      --n;
    }
    if (n > 0) {
      data = cur;
      break;
    }
  }
  for (size_t i = 0; i < indirect_blocks.size(); ++i)
    indirect_[chain[missing + i]] = static_cast<int64_t>(indirect_blocks[i]);
  for (uint64_t i = 0; i < n; ++i)
    map_[file_block + i] = data + static_cast<int64_t>(i);
  last_alloc_logical_ = file_block + n - 1; // ext2_splice_branch
  last_alloc_physical_ = static_cast<uint64_t>(data) + n - 1;
  *got = n;
  return data;
}

// ext2_free_branches: an indirect block whose every slot lies past the cut is freed.
void SimFilesystem::ext2_free_indirect(uint64_t first_freed_block) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  for (auto it = indirect_.begin(); it != indirect_.end();)
    it = it->first.first >= first_freed_block ? indirect_.erase(it) : std::next(it);
}

} // namespace diosim::world
