// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/page_cache.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::world {

using kern::arg;

PageCache::PageCache(const ScenarioSpec& spec, kern::inode& inode, SimDisk& disk, SimFilesystem& fs)
    : spec_(spec), inode_(inode), disk_(disk), fs_(fs) {}

void PageCache::populate() {
  const ScenarioSpec& spec = spec_;
  for (const CachedPage& c : spec.page_cache) {
    Entry& e = get(c.index);
    if (c.data) {
      const std::vector<uint8_t> bytes = c.data->expand();
      std::memcpy(kern::page_address(e.page), bytes.data(),
                  std::min<size_t>(bytes.size(), spec.geometry.page_size));
    }
    if (c.dirty) mark_dirty(e, 0, spec.geometry.page_size / spec.geometry.fs_block_size - 1);
    e.declared = true; // any page the scenario lists: its initial state, not the run's doing
    e.busy = c.busy;
    e.writeback_error = c.writeback_error;
  }
}

void PageCache::sync_nrpages() {
  inode_.i_data.nrpages = pages_.size();
}

void PageCache::fill_from_disk(uint64_t index, uint8_t* dst) const {
  const unsigned ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  for (unsigned off = 0; off < ps; off += bs) {
    const uint64_t fblock = (index * ps + off) / bs;
    const int64_t d = fs_.lookup(fblock);
    if (d == SimFilesystem::kHole)
      std::memset(dst + off, 0, bs);
    else
      disk_.read(static_cast<uint64_t>(d) * bs, dst + off, bs);
  }
}

PageCache::Entry& PageCache::get(uint64_t index) {
  auto it = pages_.find(index);
  if (it != pages_.end()) return it->second;
  kern::page* p = kern::alloc_sim_page(0, 1);
  p->cache_index = static_cast<int64_t>(index);
  fill_from_disk(index, kern::page_address(p));
  Entry& e = pages_[index] =
      Entry{p, false, false, false,
            std::vector<bool>(spec_.geometry.page_size / spec_.geometry.fs_block_size, false)};
  sync_nrpages();
  return e;
}

void PageCache::mark_dirty(Entry& e, unsigned first_block, unsigned last_block) {
  for (unsigned b = first_block; b <= last_block; ++b)
    e.dirty_blocks[b] = true;
  e.dirty = true;
  e.write_failed = false;
}

// block_write_full_page: a page wholly past i_size is not written; the part of a page past
// i_size is zeroed first; only dirty blocks go to disk. A failed writeback writes nothing,
// leaves the page clean and records -EIO in the mapping (end_buffer_async_write).
bool PageCache::write_back(uint64_t index, Entry& e) {
  const unsigned ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  const uint64_t i_size = static_cast<uint64_t>(inode_.i_size);
  const uint64_t page_pos = index * ps;
  bool ok = true;
  if (page_pos < i_size) {
    if (i_size < page_pos + ps)
      std::memset(kern::page_address(e.page) + (i_size - page_pos), 0, page_pos + ps - i_size);
    // The engine's FaultSite has no writeback label; Decision::site is informational only.
    ok = !e.writeback_error &&
         !(spec_.explore_faults.writeback_error &&
           kern::K().sched.choose_fault(engine::FaultSite::bio_status, 2) == 1);
    for (unsigned off = 0, b = 0; ok && off < ps; off += bs, ++b) {
      if (!e.dirty_blocks[b] || page_pos + off >= i_size) continue;
      int64_t d = fs_.lookup((page_pos + off) / bs);
      if (d == SimFilesystem::kHole) d = fs_.allocate((page_pos + off) / bs);
      if (d < 0) { // no space: the bytes stay only in the cache, which no longer claims the disk
        e.write_failed = true;
        continue;
      }
      disk_.write(static_cast<uint64_t>(d) * bs, kern::page_address(e.page) + off, bs);
    }
  }
  e.dirty = false;
  e.dirty_blocks.assign(e.dirty_blocks.size(), false);
  if (!ok) {
    e.write_failed = true;
    ++writeback_errors_;
    DIOSIM_TRACE_CHANGE("writeback_error", "fault",
                        {arg("index", static_cast<int64_t>(index)), arg("ret", -EIO)});
    kern::mapping_set_error(&inode_.i_data, -EIO);
    return false;
  }
  ++writebacks_;
  DIOSIM_TRACE_CHANGE("writeback", "fs", {arg("index", static_cast<int64_t>(index))});
  return true;
}

std::map<uint64_t, std::vector<uint8_t>>
PageCache::final_writeback_blocks(uint64_t first_block, uint64_t end_block) const {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  const uint64_t i_size = static_cast<uint64_t>(inode_.i_size);
  std::map<uint64_t, std::vector<uint8_t>> out;
  for (auto it = pages_.lower_bound(first_block * bs / ps);
       it != pages_.end() && it->first * ps < end_block * bs; ++it) {
    const Entry& e = it->second;
    if (!e.dirty || e.writeback_error) continue;
    for (uint64_t b = 0; b < ps / bs; ++b) {
      const uint64_t pos = it->first * ps + b * bs, fb = pos / bs;
      if (!e.dirty_blocks[b] || pos >= i_size || fb < first_block || fb >= end_block) continue;
      std::vector<uint8_t>& block = out[fb];
      const uint8_t* src = kern::page_address(e.page) + b * bs;
      block.assign(src, src + bs);
      if (pos + bs > i_size) std::fill(block.begin() + (i_size - pos), block.end(), 0);
    }
  }
  return out;
}

bool PageCache::block_dirty(uint64_t file_block) const {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  auto it = pages_.find(file_block * bs / ps);
  return it != pages_.end() && it->second.dirty_blocks[(file_block * bs % ps) / bs];
}

bool PageCache::range_has_page(kern::loff_t start, kern::loff_t end) const {
  const uint64_t ps = spec_.geometry.page_size;
  auto it = pages_.lower_bound(static_cast<uint64_t>(start) / ps);
  return it != pages_.end() && it->first <= static_cast<uint64_t>(end) / ps;
}

bool PageCache::range_needs_writeback(kern::loff_t start, kern::loff_t end) const {
  const uint64_t ps = spec_.geometry.page_size;
  for (auto it = pages_.lower_bound(static_cast<uint64_t>(start) / ps);
       it != pages_.end() && it->first <= static_cast<uint64_t>(end) / ps; ++it)
    if (it->second.dirty) return true;
  return false;
}

int PageCache::write_and_wait_range(kern::address_space*, kern::loff_t start, kern::loff_t end) {
  if (end < start) return 0;
  const uint64_t ps = spec_.geometry.page_size;
  bool failed = false;
  for (auto& [index, e] : pages_)
    if (e.dirty && index >= static_cast<uint64_t>(start) / ps &&
        index <= static_cast<uint64_t>(end) / ps)
      failed = !write_back(index, e) || failed;
  // __filemap_fdatawait_range: the writer sleeps until the failed page's I/O ends; the error is
  // already in the mapping, so whoever checks it first gets it. (Only a failed writeback is a
  // yield point, so runs without writeback errors keep their steps and traces.)
  if (failed)
    kern::yield_point(engine::StepOp::hook,
                      kern::obj(engine::ObjectKind::inode, kern::inode_file(&inode_)),
                      "writeback_wait", "fs");
  return 0;
}

int PageCache::invalidate_range(kern::address_space*, kern::pgoff_t start, kern::pgoff_t end) {
  int ret = 0;
  for (auto it = pages_.lower_bound(start); it != pages_.end() && it->first <= end;) {
    if (it->second.dirty || it->second.busy) {
      ret = -EBUSY; // invalidate_complete_folio2 refuses dirty folios; busy ones are pinned
      ++it;
      continue;
    }
    it = pages_.erase(it);
  }
  sync_nrpages();
  DIOSIM_TRACE_CHANGE("invalidate_result", "fs", {arg("ret", ret)});
  return ret;
}

void PageCache::drop_clean(kern::pgoff_t start, kern::pgoff_t end) {
  for (auto it = pages_.lower_bound(start); it != pages_.end() && it->first <= end;) {
    if (it->second.dirty || it->second.busy)
      ++it;
    else
      it = pages_.erase(it);
  }
  sync_nrpages();
}

void PageCache::truncate(kern::loff_t size) {
  const uint64_t ps = spec_.geometry.page_size;
  const uint64_t first = (static_cast<uint64_t>(size) + ps - 1) / ps;
  for (auto it = pages_.lower_bound(first); it != pages_.end();)
    it = pages_.erase(it);
  sync_nrpages();
}

void PageCache::zero_range(kern::loff_t start, kern::loff_t end) {
  const uint64_t ps = spec_.geometry.page_size;
  const uint64_t b = static_cast<uint64_t>(start), e = static_cast<uint64_t>(end);
  for (auto it = pages_.lower_bound(b / ps); it != pages_.end() && it->first * ps < e; ++it) {
    const uint64_t lo = std::max(b, it->first * ps), hi = std::min(e, (it->first + 1) * ps);
    std::memset(kern::page_address(it->second.page) + (lo - it->first * ps), 0, hi - lo);
  }
}

void PageCache::drop_pages(kern::pgoff_t first, kern::pgoff_t last) {
  pages_.erase(pages_.lower_bound(first), pages_.upper_bound(last));
  sync_nrpages();
}

// generic_buffers_fsync: file_write_and_wait_range, whose error (AS_EIO, cleared as
// filemap_check_errors does) returns before the flush.
int PageCache::fsync_range(kern::kiocb* iocb, kern::loff_t start, kern::loff_t end) {
  write_and_wait_range(iocb->ki_filp->f_mapping, start, end);
  if (const int err = kern::filemap_check_errors(iocb->ki_filp->f_mapping)) return err;
  ++flushes_;
  DIOSIM_TRACE_CHANGE("flush", "fs", {arg("start", start), arg("end", end)});
  return 0;
}

size_t PageCache::buffered_read(UserMemory& mem, uint64_t user_addr, kern::loff_t pos, size_t len) {
  const uint64_t ps = spec_.geometry.page_size;
  size_t done = 0;
  while (done < len) {
    const uint64_t p = static_cast<uint64_t>(pos) + done;
    if (p >= static_cast<uint64_t>(inode_.i_size)) break;
    const uint64_t off = p % ps;
    size_t n = std::min<size_t>(len - done, ps - off);
    n = std::min<size_t>(n, static_cast<uint64_t>(inode_.i_size) - p);
    Entry& e = get(p / ps);
    const size_t copied = mem.copy_to_user(user_addr + done, kern::page_address(e.page) + off, n);
    done += copied;
    if (copied < n) break;
  }
  if (done)
    DIOSIM_TRACE_CHANGE("buffered_read", "fs",
                        {arg("pos", pos), arg("bytes", static_cast<int64_t>(done))});
  return done;
}

// ext2_write_failed / fat_write_failed after a write_begin or a short write_end: when the write
// reached past i_size, the cache past i_size is truncated (truncate_pagecache: the partial page
// zeroed past it) and every block past it freed (ext2_truncate_blocks / fat_truncate_blocks).
void PageCache::write_failed(uint64_t to) {
  const uint64_t size = static_cast<uint64_t>(inode_.i_size), ps = spec_.geometry.page_size;
  if (to <= size) return;
  truncate(inode_.i_size);
  if (size % ps) zero_range(inode_.i_size, static_cast<kern::loff_t>((size / ps + 1) * ps));
  fs_.truncate_blocks(inode_.i_size);
}

// The blocks of [pos, end) that are holes, allocated (write_begin's get_block with create), in
// order; false when one could not be (-ENOSPC), after those before it.
bool PageCache::allocate_range(uint64_t pos, uint64_t end, std::vector<uint64_t>& fresh) {
  const uint64_t bs = spec_.geometry.fs_block_size;
  for (uint64_t b = pos / bs; b <= (end - 1) / bs; ++b) {
    if (fs_.lookup(b) != SimFilesystem::kHole) continue;
    if (fs_.allocate(b) < 0) return false;
    fresh.push_back(b);
  }
  return true;
}

// cont_write_begin -> cont_expand_zero (fs/buffer.c, vfat): before a buffered write at `pos`
// past mmu_private, [mmu_private, pos) is written with zeros through the page cache, one page at
// a time: each block is allocated in order (fat_get_block: mmu_private grows a block at a time),
// the range zeroed and dirty, and write_end raises i_size to its end. false on -ENOSPC.
bool PageCache::cont_expand_zero(uint64_t pos) {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  for (uint64_t cur = fs_.cont_zero_from(); cur < pos; cur = std::max(cur, fs_.cont_zero_from())) {
    const uint64_t end = std::min(pos, (cur / ps + 1) * ps);
    const bool was_cached = pages_.count(cur / ps) != 0;
    std::vector<uint64_t> fresh;
    const bool ok = allocate_range(cur, end, fresh);
    Entry& e = get(cur / ps);
    if (!was_cached)
      for (uint64_t b : fresh) // a new block of a page read in starts as zeros
        std::memset(kern::page_address(e.page) + (b * bs) % ps, 0, bs);
    if (!ok) return false;
    std::memset(kern::page_address(e.page) + cur % ps, 0, end - cur);
    mark_dirty(e, static_cast<unsigned>(cur % ps / bs), static_cast<unsigned>((end - 1) % ps / bs));
    if (static_cast<kern::loff_t>(end) > inode_.i_size)
      kern::i_size_write(&inode_, static_cast<kern::loff_t>(end));
    DIOSIM_TRACE_CHANGE(
        "cont_expand_zero", "fs",
        {arg("pos", static_cast<int64_t>(cur)), arg("bytes", static_cast<int64_t>(end - cur))});
    cur = end;
  }
  return true;
}

// generic_perform_write, one page chunk at a time: fault_in_iov_iter_readable (nothing readable:
// stop), write_begin for the whole chunk (cont_expand_zero first on vfat; every hole of the
// chunk allocated, even past what the user memory lets it copy), the copy, write_end (i_size
// grows to the end of the copy). A short copy (a user fault inside the chunk) keeps what was
// copied: Linux's block_write_end rejects it on a page that is not up to date and the loop
// retries with the copied length, so both ways the copied bytes land, the chunk's other new
// blocks are zeroed and dirty, and write_failed drops what lies past i_size.
int64_t PageCache::buffered_write(const CopyIn& copy_in, kern::loff_t pos, size_t len) {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  std::vector<uint8_t> chunk(ps);
  size_t done = 0;
  while (done < len) {
    const uint64_t p = static_cast<uint64_t>(pos) + done;
    const uint64_t off = p % ps;
    const size_t n = std::min<size_t>(len - done, ps - off);
    const size_t copied = copy_in(chunk.data(), done, n);
    if (!copied) break;
    if (fs_.cont_zero_from() < p && !cont_expand_zero(p)) {
      write_failed(p + n);
      return done ? static_cast<int64_t>(done) : -ENOSPC;
    }
    std::vector<uint64_t> fresh;
    const bool ok = allocate_range(p, p + n, fresh);
    const bool was_cached = pages_.count(p / ps) != 0;
    Entry& e = get(p / ps);
    // __block_write_begin zeroes a new block around the write, unless the page is up to date
    // (every cached page is): then the cached bytes stand. page_zero_new_buffers leaves the new
    // blocks the copy did not reach (a failed write_begin, a short copy) zeroed and dirty.
    if (!was_cached)
      for (uint64_t b : fresh)
        std::memset(kern::page_address(e.page) + (b * bs) % ps, 0, bs);
    for (uint64_t b : fresh)
      mark_dirty(e, static_cast<unsigned>((b * bs) % ps / bs),
                 static_cast<unsigned>((b * bs) % ps / bs));
    if (!ok) { // write_begin returns -ENOSPC
      write_failed(p + n);
      return done ? static_cast<int64_t>(done) : -ENOSPC;
    }
    std::memcpy(kern::page_address(e.page) + off, chunk.data(), copied);
    mark_dirty(e, static_cast<unsigned>(off / bs), static_cast<unsigned>((off + copied - 1) / bs));
    done += copied;
    if (static_cast<kern::loff_t>(p + copied) > inode_.i_size)
      kern::i_size_write(&inode_, static_cast<kern::loff_t>(p + copied));
    if (copied < n) {
      write_failed(p + n);
      break;
    }
  }
  if (done)
    DIOSIM_TRACE_CHANGE("buffered_write", "fs",
                        {arg("pos", pos), arg("bytes", static_cast<int64_t>(done))});
  return static_cast<int64_t>(done);
}

size_t PageCache::mapped_write(const CopyIn& copy_in, kern::loff_t pos, size_t n) {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  const uint64_t p = static_cast<uint64_t>(pos);
  Entry& e = get(p / ps);
  const size_t copied = copy_in(kern::page_address(e.page) + p % ps, 0, n);
  if (copied) mark_dirty(e, 0, static_cast<unsigned>(ps / bs - 1));
  DIOSIM_TRACE_CHANGE("mapped_write", "fs",
                      {arg("pos", pos), arg("bytes", static_cast<int64_t>(copied))});
  return copied;
}

kern::page* PageCache::fault_page(uint64_t index, bool write) {
  const uint64_t ps = spec_.geometry.page_size, bs = spec_.geometry.fs_block_size;
  Entry& e = get(index);
  if (write) mark_dirty(e, 0, static_cast<unsigned>(ps / bs - 1));
  DIOSIM_TRACE_CHANGE("mapping_fault", "fs",
                      {arg("index", static_cast<int64_t>(index)), arg("write", write ? 1 : 0)});
  return e.page;
}

const uint8_t* PageCache::peek_page(uint64_t index, uint8_t* scratch) const {
  if (auto it = pages_.find(index); it != pages_.end()) return it->second.page->data;
  fill_from_disk(index, scratch);
  return scratch;
}

void PageCache::read_ahead(const ReadaheadWindow& w) {
  uint64_t fresh = 0;
  for (uint64_t i = w.start; i < w.start + w.nr; ++i) {
    if (pages_.count(i)) continue; // page_cache_ra_unbounded skips cached pages
    Entry& e = get(i);
    e.readahead_mark = w.marked && i == w.mark;
    ++fresh;
  }
  DIOSIM_TRACE_CHANGE("readahead", "fs",
                      {arg("start", static_cast<int64_t>(w.start)),
                       arg("pages", static_cast<int64_t>(w.nr)),
                       arg("instantiated", static_cast<int64_t>(fresh))});
}

bool PageCache::take_readahead_mark(uint64_t index) {
  auto it = pages_.find(index);
  if (it == pages_.end() || !it->second.readahead_mark) return false;
  it->second.readahead_mark = false;
  return true;
}

void PageCache::visit_pages(const std::function<void(uint64_t, const uint8_t*, bool)>& fn) const {
  for (const auto& [index, e] : pages_)
    fn(index, kern::page_address(e.page), !e.dirty && !e.write_failed && !e.declared);
}

} // namespace diosim::world
