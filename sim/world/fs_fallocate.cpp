// SPDX-License-Identifier: GPL-2.0-only
// The filesystem side of fallocate: preallocation as unwritten extents and hole punching, for
// the models that have them (extent: ext4-like; ocfs2). A preallocated block reads as a hole
// until a write maps it: a direct write past i_size (create) or a buffered write converts it;
// under ocfs2's "unwritten" mode a direct write's end_io converts it (filesystem.cpp).
// Invariant: a file block is in at most one of map_ and unwritten_.
#include "sim/world/filesystem.hpp"

namespace diosim::world {

using kern::arg;

int SimFilesystem::preallocate(uint64_t first, uint64_t end) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  for (uint64_t fb = first; fb < end;) {
    if (lookup(fb) != kHole || unwritten_.count(fb)) {
      ++fb;
      continue;
    }
    uint64_t want = 1;
    while (fb + want < end && lookup(fb + want) == kHole && !unwritten_.count(fb + want))
      ++want;
    if (kern::alloc_fails(kern::AllocSite::fs_block)) return -ENOMEM;
    uint64_t got = 0;
    const int64_t d = allocate_run(fb, want, &got);
    if (d < 0) return static_cast<int>(d);
    for (uint64_t i = 0; i < got; ++i) { // allocate_run maps them: move them to unwritten_
      unwritten_[fb + i] = map_.at(fb + i);
      map_.erase(fb + i);
    }
    DIOSIM_TRACE_CHANGE("preallocated", "fs",
                        {arg("file_block", static_cast<int64_t>(fb)), arg("disk_block", d),
                         arg("blocks", static_cast<int64_t>(got))});
    fb += got;
  }
  return 0;
}

void SimFilesystem::punch_blocks(uint64_t first, uint64_t end) {
  kern::note_shared(kern::SharedObject::allocator, true); // the shared free space
  // Freed blocks stay marked used: never handed out again (invariant 3).
  map_.erase(map_.lower_bound(first), map_.lower_bound(end));
  unwritten_.erase(unwritten_.lower_bound(first), unwritten_.lower_bound(end));
  DIOSIM_TRACE_CHANGE("punched", "fs",
                      {arg("first_block", static_cast<int64_t>(first)),
                       arg("end_block", static_cast<int64_t>(end))});
}

} // namespace diosim::world
