// SPDX-License-Identifier: GPL-2.0-only
// Linux 6.1 mm/readahead.c, the order-0 path: ondemand_readahead and its helpers.
#include "sim/world/readahead.hpp"

#include <algorithm>

namespace diosim::world {

namespace {

uint64_t roundup_pow_of_two(uint64_t x) {
  uint64_t p = 1;
  while (p < x)
    p <<= 1;
  return p;
}

// get_init_ra_size: 4x a small request, 2x a medium one, else the maximum.
uint64_t init_ra_size(uint64_t size, uint64_t max) {
  uint64_t newsize = roundup_pow_of_two(size);
  if (newsize <= max / 32)
    newsize *= 4;
  else if (newsize <= max / 4)
    newsize *= 2;
  else
    newsize = max;
  return newsize;
}

// get_next_ra_size: 4x while small, then 2x, capped at the maximum.
uint64_t next_ra_size(const ReadaheadState& ra, uint64_t max) {
  const uint64_t cur = ra.size;
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

// try_context_readahead: the pages cached just before `index` (page_cache_prev_miss) stand for
// a sequential stream this file state has not seen; 0 when there are none.
bool context_readahead(ReadaheadState& ra, uint64_t index, uint64_t req, uint64_t max,
                       const std::function<bool(uint64_t)>& cached) {
  uint64_t size = 0;
  while (size < max && size < index && cached(index - 1 - size))
    ++size;
  if (!size) return false;
  if (size >= index) size *= 2; // the stream starts at the file's start
  ra.start = index;
  ra.size = std::min(size + req, max);
  ra.async_size = 1;
  return true;
}

// do_page_cache_ra: the window clipped at the page holding i_size - 1.
ReadaheadWindow clip(uint64_t index, uint64_t nr, uint64_t lookahead, uint64_t page_size,
                     uint64_t i_size) {
  ReadaheadWindow w;
  if (!i_size) return w;
  const uint64_t end_index = (i_size - 1) / page_size;
  if (index > end_index) return w;
  nr = std::min(nr, end_index - index + 1);
  w.start = index;
  w.nr = nr;
  // page_cache_ra_unbounded marks page i when i == nr_to_read - lookahead_size.
  w.marked = lookahead && lookahead <= nr;
  w.mark = index + nr - lookahead;
  return w;
}

} // namespace

ReadaheadWindow ondemand_readahead(ReadaheadState& ra, uint64_t index, uint64_t req_pages,
                                   bool marker_hit, uint64_t max_pages, uint64_t page_size,
                                   uint64_t i_size, const std::function<bool(uint64_t)>& cached) {
  const uint64_t max = max_pages;
  bool initial = index == 0;
  if (!initial && (index == ra.start + ra.size - ra.async_size || index == ra.start + ra.size)) {
    ra.start += ra.size; // sequential: the next window, larger
    ra.size = next_ra_size(ra, max);
    ra.async_size = ra.size;
  } else if (!initial && marker_hit) {
    uint64_t start = index + 1; // page_cache_next_miss
    while (start < index + 1 + max && cached(start))
      ++start;
    if (start - index > max) return {};
    ra.start = start;
    ra.size = start - index + req_pages;
    ra.size = next_ra_size(ra, max);
    ra.async_size = ra.size;
  } else if (!initial) {
    const uint64_t prev_index = static_cast<uint64_t>(ra.prev_pos) / page_size;
    initial = req_pages > max || index - prev_index <= 1;
    if (!initial && !context_readahead(ra, index, req_pages, max, cached))
      return clip(index, req_pages, 0, page_size, i_size); // random read: only what is asked
  }
  if (initial) {
    ra.start = index;
    ra.size = init_ra_size(req_pages, max);
    ra.async_size = ra.size > req_pages ? ra.size - req_pages : ra.size;
  }
  if (index == ra.start && ra.size == ra.async_size) { // readit: ramp up
    const uint64_t add = next_ra_size(ra, max);
    if (ra.size + add <= max) {
      ra.async_size = add;
      ra.size += add;
    } else {
      ra.size = max;
      ra.async_size = max >> 1;
    }
  }
  return clip(ra.start, ra.size, ra.async_size, page_size, i_size);
}

} // namespace diosim::world
