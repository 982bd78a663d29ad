// SPDX-License-Identifier: GPL-2.0-only
// struct iov_iter over user iovecs (ITER_IOVEC) with the 6.1 helpers direct-io.c calls. The same
// segments may stand for one user buffer (ITER_UBUF) or kernel memory (ITER_BVEC, ITER_KVEC):
// only the type changes what iov_iter_get_pages2 and user_backed_iter do.
//
// Invariants:
//   1. count == sum of the remaining segment bytes after iov_offset.
//   2. iov_iter_get_pages2 pins pages of the current (first non-empty) segment only, up to
//      maxpages, sets *start, advances the iterator by what it returns, returns a partial count
//      when a later page faults and -EFAULT when the first page faults.
#pragma once

#include "sim/kernel/types.hpp"

#include <cstdint>

namespace kern {

struct page;

struct iovec {
  uint64_t iov_base = 0; // user virtual address
  size_t iov_len = 0;
};

enum iter_type : uint8_t { ITER_IOVEC, ITER_KVEC, ITER_BVEC, ITER_UBUF };

struct iov_iter {
  iter_type iter_type_ = ITER_IOVEC;
  bool data_source = false; // true: WRITE (user memory is the source)
  size_t iov_offset = 0;
  size_t count = 0;
  const iovec* iov = nullptr;
  unsigned long nr_segs = 0;
};

void iov_iter_init(iov_iter* i, unsigned direction, const iovec* iov, unsigned long nr_segs,
                   size_t count);
inline size_t iov_iter_count(const iov_iter* i) {
  return i->count;
}
inline int iov_iter_rw(const iov_iter* i) {
  return i->data_source ? WRITE : READ;
}
inline bool user_backed_iter(const iov_iter* i) {
  return i->iter_type_ == ITER_IOVEC || i->iter_type_ == ITER_UBUF; // 6.1: i->user_backed
}
unsigned long iov_iter_alignment(const iov_iter* i);
int iov_iter_npages(const iov_iter* i, int maxpages);
void iov_iter_advance(iov_iter* i, size_t size);
void iov_iter_revert(iov_iter* i, size_t unroll);
ssize_t iov_iter_get_pages2(iov_iter* i, page** pages, size_t maxsize, unsigned maxpages,
                            size_t* start);

} // namespace kern
