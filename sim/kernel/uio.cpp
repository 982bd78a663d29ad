// SPDX-License-Identifier: GPL-2.0-only
// iov_iter helpers, following lib/iov_iter.c of Linux 6.1 for ITER_IOVEC.
#include "sim/kernel/uio.hpp"

#include "sim/kernel/mm.hpp"
#include "sim/kernel/page.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/kernel/sched.hpp"

#include <algorithm>

namespace kern {

void iov_iter_init(iov_iter* i, unsigned direction, const iovec* iov, unsigned long nr_segs,
                   size_t count) {
  *i = iov_iter{};
  i->iter_type_ = ITER_IOVEC;
  i->data_source = direction == WRITE;
  i->iov = iov;
  i->nr_segs = nr_segs;
  i->iov_offset = 0;
  i->count = count;
}

unsigned long iov_iter_alignment(const iov_iter* i) {
  unsigned long res = 0;
  size_t size = i->count;
  size_t skip = i->iov_offset;
  for (unsigned long k = 0; k < i->nr_segs; k++, skip = 0) {
    size_t len = i->iov[k].iov_len - skip;
    if (len) {
      res |= i->iov[k].iov_base + skip;
      if (len > size) len = size;
      res |= len;
      size -= len;
      if (!size) break;
    }
  }
  return res;
}

int iov_iter_npages(const iov_iter* i, int maxpages) {
  size_t size = i->count;
  size_t skip = i->iov_offset;
  int npages = 0;
  for (const iovec* p = i->iov; size; p++) {
    const size_t offs = (p->iov_base + skip) & (PAGE_SIZE - 1);
    const size_t len = std::min(p->iov_len - skip, size);
    if (len) {
      size -= len;
      npages += static_cast<int>(DIV_ROUND_UP(offs + len, PAGE_SIZE));
      if (npages > maxpages) return maxpages;
    }
    skip = 0;
  }
  return npages;
}

void iov_iter_advance(iov_iter* i, size_t size) {
  if (size > i->count) size = i->count;
  i->count -= size;
  size += i->iov_offset; // from the start of the current segment
  const iovec* iov = i->iov;
  const iovec* end = i->iov + i->nr_segs;
  for (; iov < end; iov++) {
    if (size < iov->iov_len) break;
    size -= iov->iov_len;
  }
  i->iov_offset = size;
  i->nr_segs -= static_cast<unsigned long>(iov - i->iov);
  i->iov = iov;
}

void iov_iter_revert(iov_iter* i, size_t unroll) {
  if (!unroll) return;
  i->count += unroll;
  if (unroll <= i->iov_offset) {
    i->iov_offset -= unroll;
    return;
  }
  unroll -= i->iov_offset;
  const iovec* iov = i->iov;
  for (;;) {
    const size_t n = (--iov)->iov_len;
    i->nr_segs++;
    if (unroll <= n) {
      i->iov = iov;
      i->iov_offset = n - unroll;
      return;
    }
    unroll -= n;
  }
}

// ITER_BVEC (first_bvec_segment and the get_page loop): the pages of kernel memory, which is
// always there; no fault point, no user access.
static long get_bvec_pages(uint64_t addr, unsigned n, bool write, page** pages) {
  task_struct* t = get_current();
  for (unsigned k = 0; k < n; ++k) {
    page* p = t->mm ? t->mm->lookup(addr + uint64_t{k} * PAGE_SIZE, write) : nullptr;
    if (!p) violation("BUG", "a bvec page is not in memory");
    get_page(p);
    pages[k] = p;
  }
  return n;
}

// lib/iov_iter.c first_iovec_segment(): the first non-empty segment, clamping *size to it.
static uint64_t first_iovec_segment(const iov_iter* i, size_t* size) {
  size_t skip = i->iov_offset;
  for (unsigned long k = 0; k < i->nr_segs; k++, skip = 0) {
    const size_t len = i->iov[k].iov_len - skip;
    if (!len) continue;
    if (*size > len) *size = len;
    return i->iov[k].iov_base + skip;
  }
  violation("BUG", "first_iovec_segment on an empty iterator");
}

ssize_t iov_iter_get_pages2(iov_iter* i, page** pages, size_t maxsize, unsigned maxpages,
                            size_t* start) {
  if (!maxpages) return 0;
  if (maxsize > i->count) maxsize = i->count;
  if (!maxsize) return 0;
  const size_t max_rw_count = 0x7fffffffUL & PAGE_MASK;
  if (maxsize > max_rw_count) maxsize = max_rw_count;
  // 6.1 __iov_iter_get_pages_alloc: user-backed and bvec iterators only; a kvec falls through
  // to -EFAULT (no pages behind kernel virtual addresses it could take references on).
  if (i->iter_type_ == ITER_KVEC) return -EFAULT;
  uint64_t addr = first_iovec_segment(i, &maxsize);
  *start = addr % PAGE_SIZE;
  addr &= PAGE_MASK;
  unsigned n = static_cast<unsigned>(DIV_ROUND_UP(maxsize + *start, PAGE_SIZE));
  if (n > maxpages) n = maxpages;
  // Reading from the device writes user memory (FOLL_WRITE). A bvec's pages are the caller's:
  // get_page on each, nothing to fault in.
  const long res =
      i->iter_type_ == ITER_BVEC
          ? get_bvec_pages(addr, n, iov_iter_rw(i) != WRITE, pages)
          : get_user_pages_fast(addr, static_cast<int>(n), iov_iter_rw(i) != WRITE, pages);
  if (res <= 0) return res;
  maxsize = std::min<size_t>(maxsize, static_cast<size_t>(res) * PAGE_SIZE - *start);
  iov_iter_advance(i, maxsize);
  return static_cast<ssize_t>(maxsize);
}

} // namespace kern
