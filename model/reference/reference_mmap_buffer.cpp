// SPDX-License-Identifier: GPL-2.0-only
// Reference model: a buffer that maps the file ("mmap" buffers) used as the user memory of a
// read or write (R-MMAP-BUF-READ, R-MMAP-BUF-WRITE, R-MMAP-BUF-PRIVATE, R-MMAP-BUF-SHARED,
// R-MMAP-BUF-SIGBUS). Stated in docs/SEMANTICS.md.
//
// A page of such a buffer shows the file's page as the page cache holds it (read in from the
// file when absent, which is what filemap_fault does), unless the mapping is private and the
// page was written through it: then the page is the process's own copy (copy on write) and the
// file no longer shows through. So before an operation the model refreshes the buffer's pages
// that still show the file (mapping_in), runs the operation on the buffer as on anonymous
// memory, and afterwards (mapping_out) a read's bytes either become the private copy or, in a
// shared mapping, are stored into the cached page, which becomes dirty (the write fault's
// page_mkwrite); then the pages that show the file are refreshed again.
// An ftruncate discards the private copies past the new size (drop_private_copies).
// Given up (R-UNMODELLED / R-CONC-UNMODELLED): a page of the mapping past EOF (SIGBUS: where the
// I/O stops), a mapping of another file, other tasks or AIO running, mmap ops on such a buffer.
#include "model/reference/reference_detail.hpp"
#include "sim/scenario/scenario_files.hpp"

#include <algorithm>

namespace diosim::model::refm {

namespace {
bool own_file(const scenario::Buffer& b) {
  return b.mmap && b.mmap->file == scenario::kDefaultFileName;
}
} // namespace

// The static give-ups: decided from the scenario before any op runs.
void Model::resolve_mappings() {
  bool aio = false;
  for (const OpInfo& info : ops)
    aio = aio || (info.op->aio && !info.reap);
  for (OpInfo& info : ops) {
    if (!info.unknown_why.empty()) continue;
    for (const Seg& sg : info.segs) {
      const scenario::Buffer& b = spec.buffers[sg.buffer];
      if (!b.mmap || !sg.len) continue;
      if (!own_file(b))
        info.unknown_why = "R-MMAP-BUF-OTHER-FILE: its buffer maps another file";
      else if (spec.tasks.size() > 1 || aio)
        info.unknown_why = "R-CONC-UNMODELLED: its buffer maps the file while other tasks or AIO "
                           "run, so what the mapping shows depends on timing";
      else if (scenario::is_mmap_op(info.op->kind))
        info.unknown_why = "R-UNMODELLED: an mmap op whose buffer maps the file";
    }
  }
}

// An op through a buffer that maps the file reads (faults in) and may write (a shared mapping)
// the mapped pages: its page range covers them, so the concurrency rules see it touch them and
// a give-up taints them (R-CONC-UNMODELLED).
void Model::widen_to_mappings(const OpInfo& op, OpRecord& r) const {
  for (const Seg& sg : op.segs) {
    const scenario::Buffer& b = spec.buffers[sg.buffer];
    if (!own_file(b) || !sg.len) continue;
    const uint64_t first = b.mmap->offset + sg.buf_off / g.ps * g.ps;
    const uint64_t end = b.mmap->offset + (sg.buf_off + sg.len + g.ps - 1) / g.ps * g.ps;
    if (r.pages.begin == r.pages.end) {
      r.pages = {first, end};
    } else {
      r.pages.begin = std::min(r.pages.begin, first);
      r.pages.end = std::max(r.pages.end, end);
    }
  }
}

// The mapping's pages that still show the file get the file's bytes now (the cached page, or the
// file's bytes; a fault instantiates the page). "" or why the op is given up (SIGBUS).
std::string Model::mapping_in(const OpInfo& op, State& s) const {
  for (const Seg& sg : op.segs) {
    const scenario::Buffer& b = spec.buffers[sg.buffer];
    if (!b.mmap || !sg.len) continue;
    const uint64_t first = sg.buf_off / g.ps, last = (sg.buf_off + sg.len - 1) / g.ps;
    const uint64_t eof_page =
        (static_cast<uint64_t>(std::max<int64_t>(s.f.i_size, 0)) + g.ps - 1) / g.ps;
    if (b.mmap->offset / g.ps + last >= eof_page)
      return "R-MMAP-BUF-SIGBUS: a page of its buffer maps the file past EOF (where the I/O "
             "stops is not stated)";
    for (uint64_t k = first; k <= last; ++k)
      if (!s.cow.count({sg.buffer, k})) get_page(s.f, b.mmap->offset / g.ps + k);
  }
  refresh_mappings(op, s);
  return "";
}

// Copies the file's cached pages into the mapping pages of `op`'s buffers that show the file.
void Model::refresh_mappings(const OpInfo& op, State& s) const {
  for (const Seg& sg : op.segs) {
    const scenario::Buffer& b = spec.buffers[sg.buffer];
    if (!b.mmap) continue;
    const uint64_t pages = (b.size + g.ps - 1) / g.ps;
    for (uint64_t k = 0; k < pages; ++k) {
      if (s.cow.count({sg.buffer, k})) continue;
      const uint64_t idx = b.mmap->offset / g.ps + k, n = std::min(g.ps, b.size - k * g.ps);
      auto it = s.f.cache.find(idx);
      const Cells bytes =
          it != s.f.cache.end() ? it->second.bytes.slice(0, n) : file_bytes(s.f, idx * g.ps, n);
      s.user[sg.buffer].mut().copy_from(k * g.ps, bytes, 0, n);
    }
  }
}

// After a read into the mapping (the op filled its pages: get_user_pages with FOLL_WRITE, or
// copy_to_user): a private page keeps its bytes as the process's copy (R-MMAP-BUF-PRIVATE); a
// shared page's bytes go to the cached page, dirty whole (R-MMAP-BUF-SHARED).
void Model::mapping_out(const OpInfo& op, State& s, const OpRecord& r) const {
  int64_t done = 0;
  for (int64_t v : r.ret)
    done = std::max(done, v);
  if (op.read && done > 0)
    for (const Seg& sg : op.segs) {
      const scenario::Buffer& b = spec.buffers[sg.buffer];
      if (!b.mmap || !sg.len || sg.req_off >= static_cast<uint64_t>(done)) continue;
      const uint64_t len = std::min(sg.len, static_cast<uint64_t>(done) - sg.req_off);
      for (uint64_t k = sg.buf_off / g.ps; k <= (sg.buf_off + len - 1) / g.ps; ++k) {
        if (b.mmap->private_mapping) {
          s.cow.insert({sg.buffer, k});
          continue;
        }
        const uint64_t n = std::min(g.ps, b.size - k * g.ps);
        Page& p = get_page(s.f, b.mmap->offset / g.ps + k);
        p.bytes.copy_from(0, s.user[sg.buffer].get(), k * g.ps, n);
        p.dirty = true;
        p.dirty_blocks.assign(g.ps / g.bs, 1);
      }
    }
  refresh_mappings(op, s);
}

// ftruncate to `size` (truncate_pagecache -> unmap_mapping_range with even_cows): the private
// copies of pages at or past DIV_ROUND_UP(size, PAGE_SIZE) are discarded (R-MMAP-BUF-PRIVATE).
void Model::drop_private_copies(State& s, uint64_t size) const {
  std::erase_if(s.cow, [&](const std::pair<size_t, uint64_t>& c) {
    const scenario::Buffer& b = spec.buffers[c.first];
    return own_file(b) && b.mmap->offset / g.ps + c.second >= (size + g.ps - 1) / g.ps;
  });
}

} // namespace diosim::model::refm
