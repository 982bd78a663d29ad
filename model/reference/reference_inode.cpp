// SPDX-License-Identifier: GPL-2.0-only
// The reference model's inode operations (docs/SEMANTICS.md, "Inode operations"):
//   R-TRUNCATE        ftruncate: zero the tail of the block holding the new size (when mapped),
//                     set i_size, drop cached pages past it and zero the partial page's tail,
//                     free the blocks past it (ext2_setsize). Returns 0.
//   R-FALLOC-CHECKS   len 0: -EINVAL; PUNCH_HOLE without KEEP_SIZE, or a model without
//                     ->fallocate (ext2): -EOPNOTSUPP (vfs_fallocate).
//   R-FALLOC-PREALLOC every hole in the range becomes an unwritten block (FileState::prealloc):
//                     reads see a hole; the first write that maps it takes it as a new block;
//                     i_size grows to the range's end unless KEEP_SIZE; -ENOSPC / -ENOMEM where
//                     allocation stops (what was allocated stays, i_size does not grow).
//   R-FALLOC-PUNCH    PUNCH_HOLE|KEEP_SIZE: clipped to i_size rounded up to a page; dirty pages
//                     written back (their -EIO returned); partial blocks zeroed; cached pages
//                     wholly inside dropped, partly inside zeroed; whole blocks freed.
//   R-FSYNC           fsync / fdatasync: every dirty page written back; the mapping's -EIO is
//                     returned (once: R-WRITEBACK-ERROR). fdatasync differs only in metadata.
// Concurrency: each records the pages it may change (ftruncate and fsync: from the lowest size
// it touches to the end of the file) as cache-active, so R-CONC-UNMODELLED leaves any
// overlapping concurrent operation unchecked; i_size writes are recorded for R-CONC's i_size
// rule, and R-TRUNCATE lowers every operation's least i_size to the smallest truncation.
#include "model/reference/reference_detail.hpp"

#include <algorithm>

namespace diosim::model::refm {

namespace {
constexpr uint64_t kFileEnd = UINT64_MAX / 2;
}

// Takes the preallocated run at fb (at most `limit` blocks, physically contiguous) as new
// written blocks holding what the disk holds there (never-written blocks: the stale pattern).
int64_t Model::take_prealloc(FileState& f, uint64_t fb, uint64_t limit, uint64_t* count) const {
  const int64_t first = f.prealloc.at(fb);
  uint64_t n = 0;
  for (auto it = f.prealloc.find(fb); n < limit && it != f.prealloc.end() && it->first == fb + n &&
                                      it->second == first + static_cast<int64_t>(n);
       ++n)
    it = std::next(it);
  for (uint64_t i = 0; i < n; ++i) {
    f.map[fb + i] = first + static_cast<int64_t>(i);
    f.content[fb + i] = Cells(g.bs, g.stale);
    if (f.alloc_uncertain) f.disk_uncertain.insert(fb + i);
    f.prealloc.erase(fb + i);
  }
  *count = n;
  return first;
}

// Zeroes file bytes [from, to) of one block: on disk when mapped, and in its cached page.
void Model::zero_file_part(FileState& f, uint64_t from, uint64_t to) const {
  if (from >= to) return;
  if (f.map.count(from / g.bs)) f.content.at(from / g.bs).mut().fill(from % g.bs, to - from, 0);
  for (auto it = f.cache.lower_bound(from / g.ps); it != f.cache.end() && it->first * g.ps < to;
       ++it) {
    const uint64_t lo = std::max(from, it->first * g.ps), hi = std::min(to, (it->first + 1) * g.ps);
    it->second.bytes.fill(lo - it->first * g.ps, hi - lo, 0);
  }
}

int64_t Model::exec_ftruncate(const OpInfo& op, State& s, OpRecord& r) const {
  FileState& f = s.f;
  const uint64_t size = op.op->length, old = static_cast<uint64_t>(f.i_size);
  r.rules.insert("R-TRUNCATE");
  r.pages = {std::min(size, old) / g.ps * g.ps, kFileEnd};
  r.truncated = true;
  r.isize_writes = {static_cast<int64_t>(size)};
  if (size == old) return 0;
  if (size % g.bs) zero_file_part(f, size, (size / g.bs + 1) * g.bs); // block_truncate_page
  f.i_size = static_cast<int64_t>(size);
  f.cache.erase(f.cache.lower_bound((size + g.ps - 1) / g.ps), f.cache.end());
  drop_private_copies(s, size); // R-MMAP-BUF-PRIVATE: truncation discards them
  if (size % g.ps) {
    auto it = f.cache.find(size / g.ps);
    if (it != f.cache.end()) it->second.bytes.fill(size % g.ps, g.ps - size % g.ps, 0);
  }
  truncate_blocks(f, static_cast<int64_t>(size));
  return 0;
}

int64_t Model::exec_punch(const OpInfo& op, State& s, OpRecord& r) const {
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  r.rules.insert("R-FALLOC-PUNCH");
  const uint64_t i_size = static_cast<uint64_t>(f.i_size);
  if (o.offset >= i_size) return 0;
  const uint64_t end = std::min(o.offset + o.length, (i_size + g.ps - 1) / g.ps * g.ps);
  r.pages = {o.offset / g.ps * g.ps, (end + g.ps - 1) / g.ps * g.ps};
  if (write_and_wait(f, static_cast<int64_t>(o.offset), static_cast<int64_t>(end) - 1, r) < 0)
    return kEIO;
  const uint64_t first_block = (o.offset + g.bs - 1) / g.bs, end_block = end / g.bs;
  if (first_block > end_block) {
    zero_file_part(f, o.offset, end);
  } else {
    zero_file_part(f, o.offset, first_block * g.bs);
    zero_file_part(f, end_block * g.bs, end);
  }
  for (auto it = f.cache.lower_bound(o.offset / g.ps);
       it != f.cache.end() && it->first * g.ps < end; ++it) {
    const uint64_t lo = std::max(o.offset, it->first * g.ps);
    const uint64_t hi = std::min(end, (it->first + 1) * g.ps);
    it->second.bytes.fill(lo - it->first * g.ps, hi - lo, 0);
  }
  const uint64_t first_page = (o.offset + g.ps - 1) / g.ps, end_page = end / g.ps;
  if (first_page < end_page)
    f.cache.erase(f.cache.lower_bound(first_page), f.cache.lower_bound(end_page));
  if (first_block < end_block) {
    f.map.erase(f.map.lower_bound(first_block), f.map.lower_bound(end_block));
    f.content.erase(f.content.lower_bound(first_block), f.content.lower_bound(end_block));
    f.prealloc.erase(f.prealloc.lower_bound(first_block), f.prealloc.lower_bound(end_block));
  }
  return 0;
}

int64_t Model::exec_fallocate(const OpInfo& op, State& s, OpRecord& r) const {
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  const bool has_fallocate =
      spec.fs.model == scenario::FsModel::extent || spec.fs.model == scenario::FsModel::ocfs2;
  if (o.length == 0 || (o.punch_hole && !o.keep_size) || !has_fallocate) {
    r.rules.insert("R-FALLOC-CHECKS");
    r.active = false;
    return o.length == 0 ? kEINVAL : kEOPNOTSUPP;
  }
  if (o.punch_hole) return exec_punch(op, s, r);
  r.rules.insert("R-FALLOC-PREALLOC");
  const uint64_t end = o.offset + o.length;
  const uint64_t first = o.offset / g.bs, end_block = (end + g.bs - 1) / g.bs;
  r.pages = {o.offset / g.ps * g.ps, (end + g.ps - 1) / g.ps * g.ps};
  r.allocates = true;
  r.alloc_range = {first * g.bs, end_block * g.bs};
  for (uint64_t fb = first; fb < end_block;) {
    if (f.map.count(fb) || f.prealloc.count(fb)) {
      ++fb;
      continue;
    }
    uint64_t want = 1;
    while (fb + want < end_block && !f.map.count(fb + want) && !f.prealloc.count(fb + want))
      ++want;
    if (alloc_fails(f, scenario::AllocSite::fs_block)) return kENOMEM; // R-ALLOC-FAIL
    uint64_t got = 0;
    const int64_t d = allocate(f, fb, want, &got);
    if (d < 0) return d;
    for (uint64_t i = 0; i < got; ++i) {
      f.prealloc[fb + i] = f.map.at(fb + i);
      f.map.erase(fb + i);
      f.content.erase(fb + i);
      f.disk_uncertain.erase(fb + i);
    }
    fb += got;
  }
  if (!o.keep_size && static_cast<int64_t>(end) > f.i_size) {
    f.i_size = static_cast<int64_t>(end);
    r.isize_writes = {f.i_size};
  }
  return 0;
}

void Model::exec_inode(const OpInfo& op, State& s, OpRecord& r) {
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  r.data = Cells();
  r.active = true;
  r.cache_active = true;
  r.lo_isize = std::min(spec.i_size, min_truncate_size);
  int64_t ret = 0;
  if (o.kind == scenario::OpKind::ftruncate) {
    ret = exec_ftruncate(op, s, r);
  } else if (o.kind == scenario::OpKind::fallocate) {
    ret = exec_fallocate(op, s, r);
  } else {
    r.rules.insert("R-FSYNC");
    r.pages = {0, kFileEnd};
    ret = write_and_wait(f, 0, INT64_MAX, r) < 0 ? kEIO : 0;
  }
  r.file = r.pages;
  r.ret = {ret};
  r.i_size_after = f.i_size;
  if (!ctx.force_taint && !f.isize_tainted && !in_taint(f, r.pages)) return;
  // Unchecked (R-UNMODELLED / R-CONC-UNMODELLED): what it may have changed becomes unknown.
  r.checked = false;
  r.why_unchecked = ctx.force_taint ? ctx.taint_why
                                    : "it touches bytes an unmodelled operation "
                                      "left unknown, or i_size is unknown";
  taint(s, r.pages, r.why_unchecked);
  if (!r.isize_writes.empty() || r.truncated) {
    f.isize_tainted = true;
    taint(s, {static_cast<uint64_t>(r.lo_isize) / g.bs * g.bs, kFileEnd}, r.why_unchecked);
  }
  if (r.allocates) f.alloc_uncertain = true;
}

} // namespace diosim::model::refm
