// SPDX-License-Identifier: GPL-2.0-only
// Reference model: the state the operations act on — byte sets, the initial state (R-INIT), the
// filesystem models' get_block and allocator (R-FS-*), the page cache's writeback and
// invalidation (R-WRITEBACK, R-INVALIDATE) and user memory. Rules are stated in docs/SEMANTICS.md.
#include "model/reference/reference_detail.hpp"

#include <algorithm>

namespace diosim::model::refm {

// ---------------------------------------------------------------------------------- Cells

ReferenceCounters& counters() {
  thread_local ReferenceCounters c;
  return c;
}

Cells Cells::of(const uint8_t* bytes, uint64_t n) {
  Cells c(n, n ? bytes[0] : 0);
  for (uint64_t i = 1; i < n; ++i)
    if (bytes[i] != bytes[0]) {
      c.v_.assign(bytes, bytes + n);
      counters().expanded_bytes += n;
      break;
    }
  return c;
}

void Cells::dense() {
  if (!v_.empty() || !n_) return;
  v_.assign(n_, fill_);
  counters().expanded_bytes += n_;
}

void Cells::append_values(std::vector<uint8_t>& out) const {
  if (v_.empty())
    out.insert(out.end(), n_, fill_);
  else
    out.insert(out.end(), v_.begin(), v_.end());
}

void Cells::put(uint64_t i, const ByteSet& s) {
  if (s.count() <= 1) {
    if (!s.none()) put(i, s.first());
    return; // an empty set never arises; keep the value
  }
  dense();
  if (sets_.empty()) sets_.resize(n_);
  if (!s.test(v_[i])) v_[i] = s.first();
  sets_[i] = s;
}

void Cells::fill(uint64_t off, uint64_t n, uint8_t x) {
  if (off == 0 && n == n_) { // the whole run: one value
    v_.clear();
    sets_.clear();
    fill_ = x;
    return;
  }
  if (v_.empty() && x == fill_) return;
  dense();
  std::fill(v_.begin() + static_cast<std::ptrdiff_t>(off),
            v_.begin() + static_cast<std::ptrdiff_t>(off + n), x);
  if (!sets_.empty())
    std::fill(sets_.begin() + static_cast<std::ptrdiff_t>(off),
              sets_.begin() + static_cast<std::ptrdiff_t>(off + n), ByteSet());
}

void Cells::any(uint64_t off, uint64_t n) {
  if (!n) return;
  dense();
  if (sets_.empty()) sets_.resize(n_);
  std::fill(sets_.begin() + static_cast<std::ptrdiff_t>(off),
            sets_.begin() + static_cast<std::ptrdiff_t>(off + n), ByteSet::all_values());
}

void Cells::copy_from(uint64_t dst, const Cells& src, uint64_t so, uint64_t n) {
  if (!n) return;
  if (src.v_.empty()) { // src is one exact value there
    fill(dst, n, src.fill_);
    return;
  }
  if (dst == 0 && n == n_ && so == 0 && n == src.n_) {
    *this = src;
    return;
  }
  dense();
  std::copy(src.v_.begin() + static_cast<std::ptrdiff_t>(so),
            src.v_.begin() + static_cast<std::ptrdiff_t>(so + n),
            v_.begin() + static_cast<std::ptrdiff_t>(dst));
  if (src.sets_.empty()) {
    if (!sets_.empty())
      std::fill(sets_.begin() + static_cast<std::ptrdiff_t>(dst),
                sets_.begin() + static_cast<std::ptrdiff_t>(dst + n), ByteSet());
    return;
  }
  if (sets_.empty()) sets_.resize(n_);
  std::copy(src.sets_.begin() + static_cast<std::ptrdiff_t>(so),
            src.sets_.begin() + static_cast<std::ptrdiff_t>(so + n),
            sets_.begin() + static_cast<std::ptrdiff_t>(dst));
}

void Cells::widen_from(uint64_t dst, const Cells& src, uint64_t so, uint64_t n) {
  if (src.v_.empty()) {
    widen_fill(dst, n, src.fill_);
    return;
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (value(dst + i) == src.v_[so + i] && exact(dst + i) && src.exact(so + i)) continue;
    const ByteSet a = at(dst + i), u = a | src.at(so + i);
    if (u != a) put(dst + i, u);
  }
}

void Cells::widen_fill(uint64_t off, uint64_t n, uint8_t x) {
  if (v_.empty() && x == fill_) return;
  for (uint64_t i = 0; i < n; ++i)
    if (!(value(off + i) == x && exact(off + i))) {
      ByteSet s = at(off + i);
      s.set(x);
      put(off + i, s);
    }
}

Cells Cells::slice(uint64_t off, uint64_t n) const {
  Cells c(n, 0);
  c.copy_from(0, *this, off, n);
  return c;
}

bool Cells::operator==(const Cells& o) const {
  if (n_ != o.n_) return false;
  if (v_.empty() && o.v_.empty()) return fill_ == o.fill_ || n_ == 0;
  if (!v_.empty() && !o.v_.empty() && v_ != o.v_) return false;
  for (uint64_t i = 0; i < n_; ++i)
    if (value(i) != o.value(i) || (!(exact(i) && o.exact(i)) && at(i) != o.at(i))) return false;
  return true;
}

std::string errno_name(int64_t v) {
  switch (v) {
  case kEIO:
    return "-EIO";
  case kEAGAIN:
    return "-EAGAIN";
  case kENOMEM:
    return "-ENOMEM";
  case kEFAULT:
    return "-EFAULT";
  case kENOTBLK:
    return "-ENOTBLK";
  case kEBUSY:
    return "-EBUSY";
  case kEINVAL:
    return "-EINVAL";
  case kENOSPC:
    return "-ENOSPC";
  case kEOPNOTSUPP:
    return "-EOPNOTSUPP";
  case kEIOCBQUEUED:
    return "-EIOCBQUEUED";
  case -1:
    return "-EPERM";
  case -27:
    return "-EFBIG";
  default:
    return std::to_string(v);
  }
}

// ------------------------------------------------------------------------------- R-INIT

// R-INIT: every disk byte never written holds disk.stale_byte; an extent's `data` (default:
// stale) is on disk; a cached page holds its `data` or what the file holds there (zeros in a
// hole); user buffers hold their fill byte, and bytes of unmapped pages read as '?'.
State Model::initial_state() const {
  State s;
  FileState& f = s.f;
  f.i_size = spec.i_size;
  uint64_t last_used = 0;
  for (const scenario::Extent& e : spec.extents) {
    // Run by run: a block inside one run stays one value (Cells), never expanded.
    const uint64_t data_size = e.data ? e.data->size() : 0;
    size_t run = 0;
    uint64_t run_begin = 0; // offset of runs[run] in the extent's data
    for (uint64_t i = 0; i < e.blocks; ++i) {
      f.map[e.file_block + i] = static_cast<int64_t>(e.disk_block + i);
      Cells c(g.bs, g.stale);
      if (data_size >= (i + 1) * g.bs)
        for (uint64_t o = i * g.bs; o < (i + 1) * g.bs;) {
          const scenario::ByteRuns::Run& r = e.data->runs[run];
          if (run_begin + r.len <= o) {
            run_begin += r.len;
            ++run;
            continue;
          }
          const uint64_t n = std::min(run_begin + r.len, (i + 1) * g.bs) - o;
          c.fill(o - i * g.bs, n, r.byte);
          o += n;
        }
      f.content[e.file_block + i] = std::move(c);
      if (spec.fs.model == scenario::FsModel::ext2)
        for (const IndKey& k : ext2_path(e.file_block + i))
          f.indirect.emplace(k, -1);
    }
    last_used = std::max(last_used, e.disk_block + e.blocks);
  }
  f.next_free = spec.fs.first_free_block ? spec.fs.first_free_block : last_used;
  if (spec.fs.model == scenario::FsModel::vfat) { // R-FS-VFAT: mmu_private starts at i_size
    f.mmu_private = static_cast<uint64_t>(spec.i_size);
    for (const auto& [fb, d] : std::map<uint64_t, int64_t>(f.map))
      vfat_settle(f, fb);
  }
  for (const scenario::CachedPage& c : spec.page_cache) {
    Page p;
    p.bytes = file_bytes(f, c.index * g.ps, g.ps);
    if (c.data) {
      const std::vector<uint8_t> d = c.data->expand();
      const uint64_t n = std::min<uint64_t>(d.size(), g.ps);
      p.bytes.copy_from(0, Cells::of(d.data(), n), 0, n);
    }
    p.dirty = c.dirty;
    p.dirty_blocks.assign(g.ps / g.bs, c.dirty ? 1 : 0); // a page dirtied through a mapping
    p.busy = c.busy;
    p.writeback_error = c.writeback_error;
    f.cache[c.index] = std::move(p);
  }
  for (const scenario::Buffer& b : spec.buffers) {
    Cells c(b.size, b.fill);
    // Whether a byte of b is mapped depends only on its page: ask once per page, so the cost
    // is pages x buffers, not bytes x buffers.
    for (uint64_t i = 0; i < b.size;) {
      const uint64_t n = std::min<uint64_t>(b.size - i, g.ps - (b.address + i) % g.ps);
      if (!user_mapped(b.address + i)) c.fill(i, n, kUnmappedByte);
      i += n;
    }
    s.user.push_back(std::move(c));
  }
  return s;
}

// -------------------------------------------------------------------------- R-FS models

// R-FS-EXT2-MAP: ext2 counts the pointer slots left after this one in its array: 12 direct
// slots, then blocksize/4 per indirect block (ext2_block_to_path). R-FS-EXTENT-MAP: the other
// models end a run only at a listed boundary block.
uint64_t Model::blocks_to_boundary(uint64_t fb) const {
  if (spec.fs.model == scenario::FsModel::ext2) {
    const uint64_t ptrs = g.bs / 4;
    if (fb < 12) return 12 - 1 - fb;
    return ptrs - 1 - ((fb - 12) & (ptrs - 1));
  }
  uint64_t best = UINT64_MAX;
  for (uint64_t b : spec.fs.boundary_blocks)
    if (b >= fb) best = std::min(best, b - fb);
  return best;
}

// get_block as the scenario's filesystem model answers it (SCENARIOS.md "filesystem"):
// R-FS-GET-BLOCK-ERROR the error block fails and no run reaches it; a mapped block starts a run
// of physically contiguous blocks, at most maxblocks (and max_blocks_per_map), never past the
// end of a pointer array / boundary block; a hole with create allocates one contiguous run from
// the allocator (R-FS-ALLOC, reference_alloc.cpp; new blocks hold stale bytes, -ENOSPC when
// the disk is full);
// a hole without create stays unmapped.
Mapping Model::get_block(FileState& f, uint64_t fb, uint64_t maxblocks, bool create) const {
  Mapping m;
  if (spec.fs.error_at_block && *spec.fs.error_at_block == fb) {
    m.err = spec.fs.error_errno;
    return m;
  }
  uint64_t limit = maxblocks;
  if (spec.fs.max_blocks_per_map) limit = std::min(limit, spec.fs.max_blocks_per_map);
  if (spec.fs.error_at_block && *spec.fs.error_at_block > fb)
    limit = std::min<uint64_t>(limit, *spec.fs.error_at_block - fb);
  if (spec.fs.model == scenario::FsModel::vfat) {
    limit = std::min(limit, vfat_limit(f, fb, create));
    if (!limit) return m; // R-FS-VFAT: past what fat_bmap maps
  }
  const uint64_t btb = blocks_to_boundary(fb);
  auto it = f.map.find(fb);
  if (it != f.map.end()) {
    m.mapped = true;
    m.disk = it->second;
    m.count = 1;
    while (m.count < limit && m.count <= btb) {
      auto nx = f.map.find(fb + m.count);
      if (nx == f.map.end() || nx->second != m.disk + static_cast<int64_t>(m.count)) break;
      ++m.count;
    }
    return m;
  }
  if (!create) return m;
  if (f.prealloc.count(fb)) { // R-FALLOC-PREALLOC: the unwritten run, mapped new
    m.mapped = m.is_new = true;
    m.disk = take_prealloc(f, fb, std::min(limit, btb == UINT64_MAX ? limit : btb + 1), &m.count);
    return m;
  }
  uint64_t want = 1;
  while (want < limit && want <= btb && !f.map.count(fb + want) && !f.prealloc.count(fb + want))
    ++want;
  if (alloc_fails(f, scenario::AllocSite::fs_block)) { // R-ALLOC-FAIL (ext2_alloc_branch)
    m.err = kENOMEM;
    return m;
  }
  const int64_t d = allocate(f, fb, want, &m.count);
  if (d < 0) {
    m.err = d;
    return m;
  }
  m.mapped = m.is_new = true;
  m.disk = d;
  return m;
}

int64_t Model::alloc_block(FileState& f, uint64_t fb) const {
  auto it = f.map.find(fb);
  if (it != f.map.end()) return it->second;
  uint64_t got = 0;
  if (f.prealloc.count(fb)) return take_prealloc(f, fb, 1, &got); // R-FALLOC-PREALLOC
  return allocate(f, fb, 1, &got);
}

// R-WRITE-FAILED (ext2_truncate_blocks): every block at or past the block holding byte `size`
// rounded up is freed, and so is every ext2 indirect block wholly past it; freed disk blocks are
// never handed out again (R-FS-ALLOC).
void Model::truncate_blocks(FileState& f, int64_t size) const {
  if (spec.fs.model == scenario::FsModel::vfat) return vfat_truncate(f, size);
  const uint64_t first = (static_cast<uint64_t>(size) + g.bs - 1) / g.bs;
  f.map.erase(f.map.lower_bound(first), f.map.end());
  f.content.erase(f.content.lower_bound(first), f.content.end());
  f.prealloc.erase(f.prealloc.lower_bound(first), f.prealloc.end());
  for (auto it = f.indirect.begin(); it != f.indirect.end();) // ext2_free_branches
    it = it->first.first >= first ? f.indirect.erase(it) : std::next(it);
}

Cells Model::file_bytes(const FileState& f, uint64_t off, uint64_t n) const {
  Cells out(n, 0);
  for (uint64_t i = 0; i < n;) {
    const uint64_t pos = off + i, fb = pos / g.bs, bo = pos % g.bs;
    const uint64_t k = std::min<uint64_t>(n - i, g.bs - bo);
    auto it = f.content.find(fb);
    if (it != f.content.end()) out.copy_from(i, it->second.get(), bo, k);
    i += k;
  }
  return out;
}

void Model::put_file(FileState& f, uint64_t off, const Cells& c, uint64_t co, uint64_t n,
                     bool widen) const {
  for (uint64_t i = 0; i < n;) {
    const uint64_t pos = off + i, fb = pos / g.bs, bo = pos % g.bs;
    const uint64_t k = std::min<uint64_t>(n - i, g.bs - bo);
    auto it = f.content.find(fb);
    if (it != f.content.end()) {
      if (widen)
        it->second.mut().widen_from(bo, c, co + i, k);
      else
        it->second.mut().copy_from(bo, c, co + i, k);
    }
    i += k;
  }
}

// ------------------------------------------------------------------------ page cache

Page& Model::get_page(FileState& f, uint64_t idx) const {
  auto it = f.cache.find(idx);
  if (it != f.cache.end()) return it->second;
  Page p;
  p.bytes = file_bytes(f, idx * g.ps, g.ps);
  p.dirty_blocks.assign(g.ps / g.bs, 0);
  return f.cache[idx] = std::move(p);
}

// R-WRITEBACK (mm/filemap.c filemap_write_and_wait_range -> ext2_writepage ->
// fs/buffer.c block_write_full_page): each dirty page overlapping [start, end] is written and
// becomes clean. Only its dirty blocks are written (a hole among them is allocated first); a
// page straddling i_size first zeroes its bytes past i_size and writes only blocks starting
// below i_size; a page wholly past i_size is not written.
int64_t Model::write_and_wait(FileState& f, int64_t start, int64_t end, OpRecord& r) const {
  if (end < start) return 0;
  int64_t ret = 0;
  const uint64_t first = static_cast<uint64_t>(start) / g.ps,
                 last = static_cast<uint64_t>(end) / g.ps;
  for (auto it = f.cache.lower_bound(first); it != f.cache.end() && it->first <= last; ++it) {
    Page& p = it->second;
    if (!p.dirty) continue;
    r.rules.insert("R-WRITEBACK");
    p.dirty = false;
    const uint64_t idx = it->first;
    const uint64_t i_size = static_cast<uint64_t>(f.i_size);
    const uint64_t end_index = i_size / g.ps;
    uint64_t limit = g.ps; // bytes of the page whose blocks are written
    if (idx >= end_index) {
      const uint64_t off = i_size % g.ps;
      if (idx > end_index || off == 0) continue;
      p.bytes.fill(off, g.ps - off, 0);
      limit = off;
    }
    std::vector<char> dirty_blocks(g.ps / g.bs, 0);
    std::swap(dirty_blocks, p.dirty_blocks);
    if (p.writeback_error) {
      // R-WRITEBACK-ERROR: nothing reaches the disk, the page is left clean, and the
      // mapping's -EIO is returned by this same call (filemap_check_errors).
      r.rules.insert("R-WRITEBACK-ERROR");
      r.wb_error = true;
      ret = kEIO;
      continue;
    }
    for (uint64_t bo = 0; bo < limit; bo += g.bs) {
      if (!dirty_blocks[bo / g.bs]) continue;
      const uint64_t fb = (idx * g.ps + bo) / g.bs;
      if (!f.map.count(fb)) {
        if (alloc_block(f, fb) < 0) { // no space: the bytes stay in the cache only
          r.out_of_space = true;
          continue;
        }
        r.allocates = true;
        r.alloc_range = {
            std::min(r.alloc_range.begin == r.alloc_range.end ? fb * g.bs : r.alloc_range.begin,
                     fb * g.bs),
            std::max(r.alloc_range.end, (fb + 1) * g.bs)};
      }
      f.content[fb].mut().copy_from(0, p.bytes, bo, g.bs);
    }
  }
  return ctx.wb_error_taken ? 0 : ret;
}

// R-FINAL-FILE: the file at the end of the run is the disk after the writeback that close or
// unmount does: every dirty page written as R-WRITEBACK says (its dirty blocks starting below
// i_size, bytes past i_size zeroed; a page whose writeback fails writes nothing). A dirty block
// over a hole shows its bytes (writeback would allocate it; running out of space there is not
// stated). Only `content` changes: the final image is all that is read afterwards.
void Model::final_writeback(FileState& f) const {
  const uint64_t i_size = static_cast<uint64_t>(std::max<int64_t>(f.i_size, 0));
  for (const auto& [idx, p] : f.cache) {
    if (!p.dirty || p.writeback_error) continue;
    for (uint64_t bo = 0; bo < g.ps; bo += g.bs) {
      const uint64_t pos = idx * g.ps + bo;
      if (!p.dirty_blocks[bo / g.bs] || pos >= i_size) continue;
      Cells block(g.bs, 0);
      block.copy_from(0, p.bytes, bo, std::min(g.bs, i_size - pos));
      f.content[pos / g.bs] = std::move(block);
    }
  }
}

bool Model::alloc_fails(FileState& f, scenario::AllocSite site) const {
  const uint64_t nth = ++f.alloc_calls[static_cast<size_t>(site)];
  for (const scenario::AllocFailure& a : spec.alloc_failures)
    if (a.site == site && a.nth == nth) return true;
  return false;
}

// R-INVALIDATE (invalidate_inode_pages2_range): clean pages that are not busy are dropped; a
// dirty or busy page stays and the call fails with -EBUSY.
bool Model::invalidate2(FileState& f, uint64_t first, uint64_t last) const {
  bool ok = true;
  for (auto it = f.cache.lower_bound(first); it != f.cache.end() && it->first <= last;) {
    if (it->second.dirty || it->second.busy) {
      ok = false;
      ++it;
    } else {
      it = f.cache.erase(it);
    }
  }
  return ok;
}

// invalidate_mapping_pages after a buffered fallback write: drops clean, not busy pages.
void Model::drop_clean(FileState& f, uint64_t first, uint64_t last) const {
  for (auto it = f.cache.lower_bound(first); it != f.cache.end() && it->first <= last;) {
    if (it->second.dirty || it->second.busy)
      ++it;
    else
      it = f.cache.erase(it);
  }
}

// ------------------------------------------------------------------------- user memory

bool Model::user_mapped(uint64_t addr) const {
  for (const scenario::Buffer& b : spec.buffers) {
    const uint64_t first_page = b.address / g.ps;
    const uint64_t last_page = (b.address + b.size - 1) / g.ps;
    const uint64_t page = addr / g.ps;
    if (page < first_page || page > last_page) continue;
    const uint64_t idx = page - first_page;
    if (std::find(b.unmapped_pages.begin(), b.unmapped_pages.end(), idx) != b.unmapped_pages.end())
      return false;
    if (addr >= b.address && addr < b.address + b.size) return true;
  }
  // A byte of a page shared with another buffer, or outside every buffer: mapped only if some
  // buffer maps that page (buffers never share an unmapped page).
  for (const scenario::Buffer& b : spec.buffers) {
    const uint64_t page = addr / g.ps;
    if (page >= b.address / g.ps && page <= (b.address + b.size - 1) / g.ps) return true;
  }
  return false;
}

uint64_t Model::first_fault(const OpInfo& op, uint64_t from) const {
  for (const Seg& s : op.segs) {
    if (!s.len || s.req_off + s.len <= from) continue;
    uint64_t a = s.addr + (from > s.req_off ? from - s.req_off : 0);
    const uint64_t end = s.addr + s.len;
    while (a < end) {
      if (!user_mapped(a)) return s.req_off + (a - s.addr);
      a = (a / g.ps + 1) * g.ps;
    }
  }
  return op.count;
}

Cells Model::user_bytes(const State& s, const OpInfo& op, uint64_t req_off, uint64_t n) const {
  Cells out(n, 0);
  for (const Seg& sg : op.segs) {
    const uint64_t b = std::max(req_off, sg.req_off),
                   e = std::min(req_off + n, sg.req_off + sg.len);
    if (b >= e) continue;
    out.copy_from(b - req_off, s.user[sg.buffer].get(), sg.buf_off + (b - sg.req_off), e - b);
  }
  return out;
}

void Model::put_user(State& s, const OpInfo& op, uint64_t req_off, const Cells& c, uint64_t co,
                     uint64_t n, bool widen) const {
  for (const Seg& sg : op.segs) {
    const uint64_t b = std::max(req_off, sg.req_off),
                   e = std::min(req_off + n, sg.req_off + sg.len);
    if (b >= e) continue;
    Cells& buf = s.user[sg.buffer].mut();
    const uint64_t bo = sg.buf_off + (b - sg.req_off);
    if (widen)
      buf.widen_from(bo, c, co + (b - req_off), e - b);
    else
      buf.copy_from(bo, c, co + (b - req_off), e - b);
  }
}

Cells Model::snapshot(const State& s, const OpInfo& op) const {
  return user_bytes(s, op, 0, op.count);
}

// ------------------------------------------------------------------------------- taint

// R-UNMODELLED: bytes whose structure (hole or block, cached or not) the model cannot state:
// their contents may be anything, and any later operation touching them is not checked.
void Model::taint(State& s, Range r, const std::string& why) const {
  if (r.begin >= r.end) return;
  bool covered = false;
  for (const Range& t : s.f.tainted)
    covered = covered || (t.begin <= r.begin && r.end <= t.end);
  s.f.tainted.push_back(r);
  s.f.taint_why.push_back(why);
  // Inside a range tainted before, the blocks and pages of then already allow every value, and
  // what came since was written by operations that touched the range, which in_taint left
  // unchecked; the final file does not check the range either. Tainting them again changes
  // nothing checked, and would cost every block past i_size for every extending writer after the
  // first (quadratic in the tasks).
  if (covered) return;
  // Only the blocks and pages in the range (a sorted map's lower_bound): tainting one write's
  // bytes costs that write, not every block the file has (quadratic over many writers).
  for (auto it = s.f.content.lower_bound(r.begin / g.bs);
       it != s.f.content.end() && it->first * g.bs < r.end; ++it) {
    ++counters().block_visits;
    const uint64_t b = it->first * g.bs, e = b + g.bs;
    const uint64_t lo = std::max(b, r.begin), hi = std::min(e, r.end);
    it->second.mut().any(lo - b, hi - lo);
  }
  for (auto it = s.f.cache.lower_bound(r.begin / g.ps);
       it != s.f.cache.end() && it->first * g.ps < r.end; ++it) {
    ++counters().block_visits;
    const uint64_t b = it->first * g.ps, e = b + g.ps;
    const uint64_t lo = std::max(b, r.begin), hi = std::min(e, r.end);
    it->second.bytes.any(lo - b, hi - lo);
  }
}

bool Model::in_taint(const FileState& f, Range r) {
  for (const Range& t : f.tainted)
    if (t.overlaps(r)) return true;
  return false;
}

} // namespace diosim::model::refm
