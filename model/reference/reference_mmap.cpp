// SPDX-License-Identifier: GPL-2.0-only
// Reference model: access to the file through a shared mapping — the ops mmap_read and
// mmap_write (R-MMAP-READ, R-MMAP-WRITE, R-MMAP-SIGBUS, R-MMAP-READAROUND). Stated in
// docs/SEMANTICS.md.
//
// Each page touched faults (Linux 6.1 mm/filemap.c filemap_fault): a page at or past
// DIV_ROUND_UP(i_size, PAGE_SIZE) raises SIGBUS, which the scenario sees as -EFAULT after the
// earlier pages were copied; a page below comes from the page cache (read in from the file as it
// is). Only the bytes below i_size are copied either way (the simulator's documented
// simplification). A write dirties the page's blocks (set_page_dirty) and, where they are holes,
// takes them at the fault (block_page_mkwrite's allocation); it never changes i_size. Read-around
// (do_sync_mmap_readahead) caches clean pages equal to the disk on both sides of the fault: the
// model does not hold them, but widens the op's page range so that the concurrency rules treat
// any op near it as interacting through the cache (R-CONC-UNMODELLED).
#include "model/reference/reference_detail.hpp"

#include <algorithm>

namespace diosim::model::refm {

namespace {
// VM_READAHEAD_PAGES (128 KiB): read-around starts ra_pages/2 before the fault, and an async
// window started from its mark reaches at most another ra_pages past the fault.
constexpr uint64_t kReadaroundBytes = 131072;
} // namespace

// R-MMAP-WRITE: the first `n` bytes of the op stored page by page into cached pages (read in
// from the file as it is when absent), up to the first user fault; a page stored into has every
// block dirty (block_dirty_folio), so writeback allocates its holes (R-WRITEBACK). Returns the
// bytes stored.
int64_t Model::mapped_store(const OpInfo& op, State& s, uint64_t n, OpRecord& r) {
  FileState& f = s.f;
  uint64_t req_off = 0;
  while (req_off < n) {
    const uint64_t pos = op.offset + req_off, off = pos % g.ps;
    const uint64_t bytes = std::min(g.ps - off, n - req_off);
    const uint64_t kcopy = std::min(bytes, first_fault(op, req_off) - req_off);
    Page& p = get_page(f, pos / g.ps);
    const Cells src = user_bytes(s, op, req_off, kcopy);
    WriteLog w; // what the page will carry to the file (for the concurrency rules)
    w.file_off = pos;
    w.before = file_bytes(f, pos, kcopy);
    w.after = src;
    r.writes.push_back(std::move(w));
    p.bytes.copy_from(off, src, 0, kcopy);
    if (kcopy) {
      p.dirty = true;
      p.dirty_blocks.assign(g.ps / g.bs, 1);
    }
    req_off += kcopy;
    if (kcopy < bytes) break;
  }
  return static_cast<int64_t>(req_off);
}

void Model::exec_mmap(const OpInfo& op, State& s, OpRecord& r, Results& out) {
  FileState& f = s.f;
  const bool write = op.op->kind == scenario::OpKind::mmap_write;
  r.rules.insert(write ? "R-MMAP-WRITE" : "R-MMAP-READ");
  r.rules.insert("R-MMAP-READAROUND");
  r.cache_active = r.buffered = true;
  r.isize_dependent = true; // where the copy stops and where SIGBUS starts are i_size's
  const uint64_t back = std::min<uint64_t>(r.pages.begin, kReadaroundBytes / 2);
  r.pages.begin -= back;
  r.pages.end += 2 * kReadaroundBytes + g.ps;
  f.readahead_maybe = true;
  const uint64_t size = static_cast<uint64_t>(f.i_size);
  const uint64_t sigbus_at = (size + g.ps - 1) / g.ps * g.ps;
  const uint64_t below = op.offset < size ? std::min(op.count, size - op.offset) : 0;
  int64_t got = 0;
  if (below && write) {
    got = mapped_store(op, s, below, r);
  } else if (below) {
    got = filemap_read(op, s, 0, 0, r);
    r.rules.erase("R-BUFFERED-READ");
  }
  if (got < static_cast<int64_t>(below)) {
    out.done(kEFAULT, false); // a user page faulted (SIGSEGV), or no space for the block
    return;
  }
  if (op.count && op.offset + op.count > sigbus_at) { // no page touched, no fault
    r.rules.insert("R-MMAP-SIGBUS");
    out.done(kEFAULT, false);
    return;
  }
  out.done(got, false);
}

} // namespace diosim::model::refm
