// SPDX-License-Identifier: GPL-2.0-only
// Readahead for a buffered read, as Linux 6.1 mm/readahead.c decides it for one open file
// (struct file_ra_state): page_cache_sync_ra on a cache miss, page_cache_async_ra on a page
// carrying the readahead mark, both through ondemand_readahead; do_page_cache_ra clips the
// window at i_size and page_cache_ra_unbounded skips pages already cached and marks the page
// `lookahead` from the window's end (PG_readahead).
//
// Modelled: the default window ra_pages = VM_READAHEAD_PAGES = 128 KiB / page size (32 pages
// of 4 KiB), get_init_ra_size / get_next_ra_size, the sequential, marker-hit, random
// (prev_pos), context (page_cache_prev_miss) and initial cases, and the "ramp up" at readit.
// Not modelled: large folios (order 0 only), bdi io_pages larger than ra_pages, FMODE_RANDOM,
// and the I/O itself: the window's pages are filled from the disk at once (the reader would
// wait for them under the page lock anyway). docs/SEMANTICS.md R-READAHEAD.
// Invariant: a window never reaches past the page holding the last byte below i_size.
#pragma once

#include <cstdint>
#include <functional>

namespace diosim::world {

struct ReadaheadState { // struct file_ra_state (file_ra_state_init: prev_pos = -1)
  uint64_t start = 0, size = 0, async_size = 0;
  int64_t prev_pos = -1;
};

// The pages to instantiate: [start, start + nr), and the page to mark (mark < start + nr) when
// `marked`. nr == 0: nothing to read.
struct ReadaheadWindow {
  uint64_t start = 0, nr = 0, mark = 0;
  bool marked = false;
};

// ondemand_readahead for a read of `req_pages` pages at `index`; `marker_hit`: the async case
// (the page at `index` is cached and carried the mark). `cached(i)`: whether page i is cached.
// `i_size` clips the window (do_page_cache_ra). Updates `ra`.
ReadaheadWindow ondemand_readahead(ReadaheadState& ra, uint64_t index, uint64_t req_pages,
                                   bool marker_hit, uint64_t max_pages, uint64_t page_size,
                                   uint64_t i_size, const std::function<bool(uint64_t)>& cached);

// VM_READAHEAD_PAGES for `page_size`: 128 KiB of pages.
inline uint64_t default_ra_pages(uint64_t page_size) {
  return page_size >= 131072 ? 1 : 131072 / page_size;
}

} // namespace diosim::world
