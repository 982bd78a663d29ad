// SPDX-License-Identifier: GPL-2.0-only
// The user address space as the kernel sees it: a lookup that pins a page or faults.
#pragma once

#include <cstdint>

namespace kern {

struct page;

// Implemented by the world's user memory.
struct mm_struct {
  virtual ~mm_struct() = default;
  // The page mapped at page-aligned `addr`, or nullptr when touching it faults (unmapped, or
  // read-only when `write`).
  virtual page* lookup(uint64_t addr, bool write) = 0;
};

// Pins up to nr_pages pages starting at page-aligned `start` (get_page on each). Returns the
// number pinned, or -EFAULT when the first page faults.
long get_user_pages_fast(uint64_t start, int nr_pages, bool write, page** pages);

} // namespace kern
