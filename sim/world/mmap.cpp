// SPDX-License-Identifier: GPL-2.0-only
// Access to the file through a shared mapping (MAP_SHARED, PROT_READ|PROT_WRITE of the task's
// fd): the scenario ops mmap_read and mmap_write, a memcpy between one user iovec and the
// mapping at a file offset. Linux 6.1: each page touched faults (mm/memory.c handle_mm_fault ->
// __do_fault -> mm/filemap.c filemap_fault; a write fault then do_page_mkwrite ->
// filemap_page_mkwrite / block_page_mkwrite).
//
// Modelled, per page touched (each a yield point on the inode, noted as a write since a fault
// may instantiate pages):
//   - filemap_fault's SIGBUS: a page at or past DIV_ROUND_UP(i_size, PAGE_SIZE) (the op stops
//     there and returns -EFAULT, "SIGBUS"; the bytes of earlier pages were copied);
//   - a miss: do_sync_mmap_readahead's read-around (ra->start = index - ra_pages/2, size
//     ra_pages, async_size ra_pages/4, clipped at i_size by do_page_cache_ra) on the fd's
//     file_ra_state; a hit on a page with PG_readahead: do_async_mmap_readahead;
//   - the copy: mmap_read copies the page's bytes below i_size to the user; mmap_write copies
//     the user's bytes below i_size into the page and dirties all its blocks (ext2's
//     filemap_page_mkwrite -> folio_mark_dirty -> block_dirty_folio); a hole under them gets
//     its block at writeback (block_write_full_page's get_block, R-WRITEBACK), as on ext2.
//     A user page that faults (SIGSEGV) also stops the op with -EFAULT.
// Simplifications (docs/SEMANTICS.md R-MMAP-*): bytes of the last page past i_size are neither
// read nor written (Linux maps them: reads see the page's tail, writes are lost at writeback,
// block_write_full_page zeroes them); every filesystem model takes ext2's page_mkwrite (no
// block_page_mkwrite allocation at the fault); mmap_miss (MMAP_LOTSAMISS) and
// VM_RAND/SEQ_READ are not modelled; no mmap_lock (no other op here takes it).
// Invariant: an mmap op never calls into the port (sim/dio/) and never changes i_size.
#include "sim/world/world.hpp"

#include <algorithm>

namespace diosim::world {

using kern::arg;

// do_sync_mmap_readahead (a miss) / do_async_mmap_readahead (a hit on the mark) for page `index`.
void World::mmap_fault_in(SimFile& f, OpenFile& fd, uint64_t index) {
  const uint64_t ps = spec_.geometry.page_size, ra_pages = default_ra_pages(ps);
  const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
  ReadaheadState& ra = fd.ra;
  if (!f.cache.cached(index)) {
    ra.start = index > ra_pages / 2 ? index - ra_pages / 2 : 0;
    ra.size = ra_pages;
    ra.async_size = ra_pages / 4;
    ReadaheadWindow w; // do_page_cache_ra: clipped at the page of the last byte
    w.start = ra.start;
    const uint64_t end_index = size ? (size - 1) / ps : 0;
    if (size && w.start <= end_index) {
      w.nr = std::min<uint64_t>(ra.size, end_index - w.start + 1);
      w.marked = w.nr > ra.async_size;
      w.mark = w.start + w.nr - ra.async_size; // page_cache_ra_unbounded's lookahead mark
    }
    if (w.nr) f.cache.read_ahead(w);
    return;
  }
  if (f.cache.take_readahead_mark(index)) {
    const auto cached = [&](uint64_t i) { return f.cache.cached(i); };
    f.cache.read_ahead(ondemand_readahead(ra, index, ra_pages, true, ra_pages, ps, size, cached));
  }
}

void World::run_mmap_op(SimFile& f, const Operation& op, OpOutcome& out, OpenFile& fd) {
  const bool write = op.kind == OpKind::mmap_write;
  const uint64_t ps = spec_.geometry.page_size;
  const IoVec& v = op.iov.at(0);
  uint64_t user = 0;
  for (const Buffer& b : spec_.buffers)
    if (b.name == v.buffer) user = b.address + v.offset;
  int64_t ret = 0;
  for (uint64_t done = 0; done < v.len;) {
    const uint64_t pos = op.offset + done, index = pos / ps;
    announce_page(f, "filemap_fault", static_cast<kern::loff_t>(pos), true);
    const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
    if (index >= (size + ps - 1) / ps) { // filemap_fault: VM_FAULT_SIGBUS
      ret = -EFAULT;
      break;
    }
    mmap_fault_in(f, fd, index);
    const uint64_t chunk = std::min(v.len - done, ps - pos % ps);
    const uint64_t n = pos < size ? std::min(chunk, size - pos) : 0; // below i_size
    uint64_t got = n;
    if (n && write) {
      const PageCache::CopyIn copy_in = [&](uint8_t* dst, size_t from, size_t k) {
        return mem_.copy_from_user(dst, user + done + from, k);
      };
      got = f.cache.mapped_write(copy_in, static_cast<kern::loff_t>(pos), n);
    } else if (n) {
      got = f.cache.buffered_read(mem_, user + done, static_cast<kern::loff_t>(pos), n);
    }
    ret += static_cast<int64_t>(got);
    if (got < n) { // a user page faulted (SIGSEGV)
      ret = -EFAULT;
      break;
    }
    done += chunk;
  }
  kern::note_file(f.index, true);
  mem_.note_read(user, v.len);
  out.ki_pos_after = static_cast<int64_t>(op.offset);
  out.data = ByteImage();
  mem_.append_snapshot(out.data, user, v.len);
  op_done(out, ret, f.inode);
}

} // namespace diosim::world
