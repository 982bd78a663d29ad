// SPDX-License-Identifier: GPL-2.0-only
// struct page: refcount, dirty bit and PAGE_SIZE bytes of data.
//
// Invariants:
//   1. _refcount never goes below zero (a finding at the put_page line).
//   2. At the end of a run every page is back at its baseline refcount (checked in model/).
//   3. ZERO_PAGE is an ordinary counted page whose data stays zero.
//   4. Kernel::pages is in id order (the end-of-run check reports the first page off its
//      baseline): pages made late with an id reserved earlier (user memory) are inserted.
#pragma once

#include "sim/kernel/runtime.hpp"

#include <cstdint>
#include <memory>

namespace kern {

struct page {
  uint32_t id = 0;
  int _refcount = 0;
  int baseline = 0; // refcount expected when nobody is using it
  bool dirty = false;
  bool is_zero_page = false;
  uint64_t user_addr = 0;   // user virtual address it backs (0: none)
  int64_t cache_index = -1; // page-cache index (-1: not a page-cache page)
  // PAGE_SIZE bytes: owned_data's, or bytes shared read-only with other runs (a user page only
  // read so far; user memory gives it bytes of its own before anything may write them).
  uint8_t* data = nullptr;
  std::unique_ptr<uint8_t[]> owned_data;
};

// Creates a page with PAGE_SIZE bytes set to `fill` and refcount `baseline`.
page* alloc_sim_page(uint8_t fill, int baseline);
// ZERO_PAGE: refcount 1, its bytes one read-only zero page shared by every run.
page* alloc_zero_page();
// Takes a page whose id was reserved earlier (from next_page_id) and keeps it in id order.
page* adopt_sim_page(std::unique_ptr<page> p);

void get_page(page* p);
void put_page(page* p);
inline uint8_t* page_address(page* p) {
  return p->data;
}
inline bool PageCompound(const page*) {
  return false;
}
void set_page_dirty_lock(page* p);
void zero_user(page* p, unsigned start, unsigned size);

inline page* ZERO_PAGE(int) {
  return K().zero_page;
}

} // namespace kern
