// SPDX-License-Identifier: GPL-2.0-only
// Page-cache coherency at the end of a run: a clean, up-to-date cached page must hold what the
// file holds on disk (below i_size), or a later buffered read returns stale bytes — the
// direct-I/O / page-cache coherency bugs (the 2017 invalidation fixes, dio_warn_stale_pagecache)
// show only there. Dirty pages are skipped (their bytes are newer than the disk by design), and
// so are pages whose last writeback failed (their buffers are no longer uptodate).
#include "sim/world/world.hpp"

#include "sim/scenario/scenario_files.hpp"

#include <cstring>

namespace diosim::world {

std::optional<std::string> World::first_incoherent_page() const {
  const uint64_t ps = spec_.geometry.page_size;
  std::optional<std::string> found;
  for (const SimFile& f : files_) {
    const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
    // Captured through one pointer so std::function holds the visitor inline (no allocation:
    // this runs at the end of every execution).
    auto check = [&](uint64_t index, const uint8_t* bytes, bool clean_uptodate) {
      if (found || !clean_uptodate || index * ps >= size) return;
      const uint64_t n = std::min<uint64_t>(ps, size - index * ps);
      const std::vector<uint8_t> disk = file_bytes(index * ps, n, f.index);
      if (std::memcmp(disk.data(), bytes, n) == 0) return;
      uint64_t at = 0;
      while (disk[at] == bytes[at])
        ++at;
      found = (f.index ? file_name(spec_, f.index) + ": " : std::string()) + "page " +
              std::to_string(index) + " (file offset " + std::to_string(index * ps + at) +
              ") is clean in the page cache with " + ByteRuns::describe(bytes + at, 1) +
              " but the disk holds " + ByteRuns::describe(disk.data() + at, 1);
    };
    f.cache.visit_pages([c = &check](uint64_t index, const uint8_t* bytes, bool clean_uptodate) {
      (*c)(index, bytes, clean_uptodate);
    });
    if (found) break;
  }
  return found;
}

} // namespace diosim::world
