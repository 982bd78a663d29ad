// SPDX-License-Identifier: GPL-2.0-only
// A small page cache for the one file: cached pages with dirty and busy bits, writeback to
// the disk through the block map, invalidation that can fail, and the buffered read and write
// paths that direct I/O falls back to.
//
// Writeback and buffered I/O copy bytes directly between cache pages and the disk store (no
// bios): they are the environment of direct-io.c, not the subject.
// Invariants:
//   1. address_space::nrpages == number of cached pages.
//   2. A dirty or busy page survives invalidation, and the call returns -EBUSY.
//   3. A writeback that fails (the page's writeback_error, or an explored fault) writes nothing,
//      cleans the page as Linux 6.1 does (end_buffer_async_write: the folio is not redirtied)
//      and sets AS_EIO in the mapping; the writer then waits (a yield point), so another task
//      may check the mapping's error first (docs/SEMANTICS.md, R-WRITEBACK-ERROR).
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/world/disk.hpp"
#include "sim/world/filesystem.hpp"
#include "sim/world/readahead.hpp"
#include "sim/world/user_memory.hpp"

#include <functional>
#include <map>

namespace diosim::world {

class PageCache final : public kern::page_cache_ops {
public:
  PageCache(const ScenarioSpec& spec, kern::inode& inode, SimDisk& disk, SimFilesystem& fs);
  // Creates the scenario's cached pages; call once the disk holds the file's data.
  void populate();

  int write_and_wait_range(kern::address_space* mapping, kern::loff_t start,
                           kern::loff_t end) override;
  int invalidate_range(kern::address_space* mapping, kern::pgoff_t start,
                       kern::pgoff_t end) override;
  int fsync_range(kern::kiocb* iocb, kern::loff_t start, kern::loff_t end) override;

  // filemap_read: copies [pos, min(pos+len, i_size)) to user memory, stopping at a fault.
  // Returns the bytes copied.
  size_t buffered_read(UserMemory& mem, uint64_t user_addr, kern::loff_t pos, size_t len);
  // The source of a buffered write: copies its bytes [from, from + n) to dst, across iovec
  // segments, stopping at a user fault; returns the bytes copied.
  using CopyIn = std::function<size_t(uint8_t* dst, size_t from, size_t n)>;
  // generic_perform_write: copies the source's bytes into cache pages a page at a time
  // (allocating blocks for holes, as ext2's write_begin does; on vfat zero-filling the gap from
  // mmu_private first), stopping at a fault; raises i_size to the end of each copy. Returns the
  // bytes copied, or -ENOSPC when nothing was copied because a block could not be allocated.
  int64_t buffered_write(const CopyIn& copy_in, kern::loff_t pos, size_t len);
  // A store through a shared mapping into page `pos / page_size` (mmap.cpp): copies the source's
  // bytes [0, n) to [pos, pos + n) of the page (n stays inside it), stopping at a user fault, and
  // dirties every block of the page as block_dirty_folio does, holes included (writeback
  // allocates them, R-WRITEBACK). Returns the bytes copied.
  size_t mapped_write(const CopyIn& copy_in, kern::loff_t pos, size_t n);
  // A fault on page `index` through a buffer that maps the file (mmap_buffer.cpp): the page,
  // read in from the disk when absent; `write` (a shared mapping) dirties every block of it at
  // the fault, as filemap_page_mkwrite -> block_dirty_folio does before the store.
  kern::page* fault_page(uint64_t index, bool write);
  // Page `index`'s bytes as a mapping shows them now, without instantiating it: the cached
  // page's bytes, else the disk's read into `scratch` (page_size bytes).
  const uint8_t* peek_page(uint64_t index, uint8_t* scratch) const;
  // Readahead (readahead.hpp): whether page `index` is cached; instantiates the window's pages
  // that are not cached from the disk, marking the window's mark page (PG_readahead) if new;
  // takes (tests and clears) page `index`'s mark.
  bool cached(uint64_t index) const { return pages_.count(index) != 0; }
  void read_ahead(const ReadaheadWindow& w);
  bool take_readahead_mark(uint64_t index);
  // Visits every cached page: index, bytes (page_size), and whether it is a clean, up-to-date
  // page the run is answerable for (not dirty, last writeback did not fail, not declared).
  void visit_pages(const std::function<void(uint64_t, const uint8_t*, bool)>& fn) const;
  // For tests of the coherency check: page `index`'s bytes, instantiating it from the disk.
  uint8_t* page_bytes_for_test(uint64_t index) { return kern::page_address(get(index).page); }
  // The end-of-run writeback (docs/SEMANTICS.md R-FINAL-FILE): every dirty block of a dirty page
  // that writeback would write (starting below i_size; bytes past i_size zeroed), by file block,
  // as block_write_full_page would put it on disk. Pages whose writeback always fails are left
  // out (their bytes never reach the disk).
  std::map<uint64_t, std::vector<uint8_t>> final_writeback_blocks(uint64_t first_block,
                                                                  uint64_t end_block) const;
  // Whether the cache holds file block `file_block` dirty.
  bool block_dirty(uint64_t file_block) const;
  // filemap_range_has_page / filemap_range_needs_writeback over [start, end] bytes.
  bool range_has_page(kern::loff_t start, kern::loff_t end) const;
  bool range_needs_writeback(kern::loff_t start, kern::loff_t end) const;
  // invalidate_mapping_pages: drops clean pages in the range, never fails.
  void drop_clean(kern::pgoff_t start, kern::pgoff_t end);
  // Truncates cached pages at or beyond `size` (truncate_pagecache).
  void truncate(kern::loff_t size);
  // truncate_inode_pages_range's partial pages: zeroes the cached bytes in [start, end), keeping
  // the pages and their dirty bits.
  void zero_range(kern::loff_t start, kern::loff_t end);
  // Drops the cached pages [first, last] whatever their state (truncate_pagecache_range's whole
  // pages: dirty data is discarded, as a hole punch does).
  void drop_pages(kern::pgoff_t first, kern::pgoff_t last);

  uint64_t writebacks() const { return writebacks_; }
  uint64_t flushes() const { return flushes_; }
  uint64_t writeback_errors() const { return writeback_errors_; }

private:
  struct Entry {
    kern::page* page;
    bool dirty; // any block dirty
    bool busy;
    bool writeback_error;           // every writeback of it fails
    std::vector<bool> dirty_blocks; // per fs block of the page (buffer_head dirty bits)
    bool readahead_mark = false;    // PG_readahead: reading it starts the next window
    // Its last writeback failed: end_buffer_async_write cleared the buffers' uptodate bit, so
    // its bytes are not claimed to equal the disk (the coherency check skips it).
    bool write_failed = false;
    // Clean with bytes the scenario gave (`page_cache[].data`): an initial state the scenario
    // chose, which may differ from the disk on purpose; the coherency check leaves the page alone
    // while it is cached (it reports what a run did, not what it was given).
    bool declared = false;
  };
  void mark_dirty(Entry& e, unsigned first_block, unsigned last_block);
  void write_failed(uint64_t to);
  bool allocate_range(uint64_t pos, uint64_t end, std::vector<uint64_t>& fresh);
  bool cont_expand_zero(uint64_t pos);
  Entry& get(uint64_t index); // creates the page from disk contents when absent
  void fill_from_disk(uint64_t index, uint8_t* dst) const;
  // false: the writeback failed (nothing written, AS_EIO set).
  bool write_back(uint64_t index, Entry& e);
  void sync_nrpages();

  const ScenarioSpec& spec_;
  kern::inode& inode_;
  SimDisk& disk_;
  SimFilesystem& fs_;
  std::map<uint64_t, Entry> pages_;
  uint64_t writebacks_ = 0, flushes_ = 0, writeback_errors_ = 0;
};

} // namespace diosim::world
