// SPDX-License-Identifier: GPL-2.0-only
// Reference model: the Linux 6.1 layer around fs/direct-io.c that the simulator implements —
// the syscall entry (kiocb_set_rw_flags, do_iter_read/write), mm/filemap.c
// generic_file_read_iter / generic_file_write_iter / generic_file_direct_write /
// generic_perform_write / filemap_read, and ext2_direct_IO's ext2_write_failed. Rules are stated
// in docs/SEMANTICS.md.
#include "model/reference/reference_detail.hpp"

#include <algorithm>

namespace diosim::model::refm {

// R-BUFFERED-READ (mm/filemap.c filemap_read): the rest of a short direct read below i_size is
// copied from the page cache (pages are read in first), up to i_size, stopping at the first user
// fault. Returns already + copied, or -EFAULT if nothing at all was read.
int64_t Model::filemap_read(const OpInfo& op, State& s, uint64_t req_off, int64_t already,
                            OpRecord& r) {
  FileState& f = s.f;
  r.rules.insert("R-BUFFERED-READ");
  r.cache_active = true;
  f.readahead_maybe = true;
  uint64_t pos = op.offset + req_off;
  int64_t copied = 0, error = 0;
  while (req_off < op.count && static_cast<int64_t>(pos) < f.i_size) {
    const uint64_t n =
        std::min({g.ps - pos % g.ps, op.count - req_off, static_cast<uint64_t>(f.i_size) - pos});
    Page& p = get_page(f, pos / g.ps);
    const uint64_t ff = first_fault(op, req_off);
    const uint64_t kcopy = std::min(n, ff - req_off);
    put_user(s, op, req_off, p.bytes, pos % g.ps, kcopy, false);
    req_off += kcopy;
    pos += kcopy;
    copied += static_cast<int64_t>(kcopy);
    if (kcopy < n) {
      error = kEFAULT;
      break;
    }
  }
  return already + copied ? already + copied : error;
}

// R-BUFFERED-WRITE (mm/filemap.c generic_perform_write): the rest of the request goes through
// the page cache one file page at a time. A chunk whose first user byte faults ends the write
// (fault_in_iov_iter_readable) before anything is allocated; otherwise write_begin allocates the
// chunk's holes, the bytes are copied, the blocks copied into are dirty and i_size grows to
// the end of the copy. Returns the bytes copied, or the error if none.
int64_t Model::buffered_write(const OpInfo& op, State& s, uint64_t req_off, OpRecord& r) {
  FileState& f = s.f;
  r.rules.insert("R-BUFFERED-WRITE");
  r.buffered = r.cache_active = true;
  uint64_t pos = op.offset + req_off;
  int64_t written = 0, status = 0;
  while (req_off < op.count) {
    const uint64_t off = pos % g.ps;
    const uint64_t bytes = std::min(g.ps - off, op.count - req_off);
    const uint64_t ff = first_fault(op, req_off);
    if (ff == req_off) {
      status = kEFAULT;
      break;
    }
    if (spec.fs.model == scenario::FsModel::vfat && pos > f.mmu_private &&
        !cont_expand_zero(s, pos, r)) {
      taint(s, {std::min<uint64_t>(f.mmu_private, f.i_size) / g.ps * g.ps, UINT64_MAX / 2},
            "a buffered write that runs out of disk space");
      status = kENOSPC;
      break;
    }
    // grab_cache_page_write_begin: a page not cached yet is read from the file as it is now
    // (a hole reads as zeros, so the blocks allocated next start zeroed in the page); a cached
    // page keeps its bytes (__block_write_begin_int does not zero new blocks of an uptodate
    // page).
    get_page(f, pos / g.ps);
    const bool nospace = !alloc_holes(f, pos, pos + bytes, r);
    if (nospace) {
      // ext2_write_begin -> ext2_write_failed: not modelled.
      taint_write_failed(s, pos);
      status = kENOSPC;
      break;
    }
    Page& p = get_page(f, pos / g.ps);
    const uint64_t kcopy = std::min(bytes, ff - req_off);
    const Cells src = user_bytes(s, op, req_off, kcopy);
    p.bytes.copy_from(off, src, 0, kcopy);
    if (kcopy) { // block_commit_write dirties the blocks it copied into
      p.dirty = true;
      for (uint64_t bo = off / g.bs * g.bs; bo < off + kcopy; bo += g.bs)
        p.dirty_blocks[bo / g.bs] = 1;
    }
    {
      WriteLog w; // what the page will carry to the file (for the concurrency rules)
      w.file_off = pos;
      w.before = file_bytes(f, pos, kcopy);
      w.after = src;
      r.writes.push_back(std::move(w));
    }
    pos += kcopy;
    req_off += kcopy;
    written += static_cast<int64_t>(kcopy);
    if (static_cast<int64_t>(pos) > f.i_size) f.i_size = static_cast<int64_t>(pos);
    if (kcopy) r.isize_writes.push_back(static_cast<int64_t>(pos)); // write_end, per chunk
    if (kcopy < bytes) {
      // A short copy inside a chunk: Linux retries with the copied length and leaves the
      // chunk's other new blocks zeroed or unwritten depending on i_size, and write_end's
      // ext2_write_failed frees every block past i_size when the chunk reached past it; not
      // modelled.
      const uint64_t chunk_end = pos - kcopy + bytes;
      taint(s,
            {pos, chunk_end > static_cast<uint64_t>(f.i_size) ? UINT64_MAX / 2
                                                              : (pos / g.ps + 1) * g.ps},
            "a buffered write that faults inside a page");
      status = kEFAULT;
      break;
    }
  }
  return written ? written : status;
}

// ext2_write_begin -> ext2_write_failed after -ENOSPC frees every block past i_size, not only
// this write's: everything from i_size (or the write's page, if lower) on is given up.
void Model::taint_write_failed(State& s, uint64_t pos) const {
  const uint64_t from = std::min(pos, static_cast<uint64_t>(s.f.i_size)) / g.ps * g.ps;
  taint(s, {from, UINT64_MAX / 2}, "a buffered write that runs out of disk space");
}

// write_begin's get_block with create: every hole of the blocks under [begin, end) is allocated,
// in order; false at the first that cannot be (those before it stay allocated).
bool Model::alloc_holes(FileState& f, uint64_t begin, uint64_t end, OpRecord& r) const {
  for (uint64_t fb = begin / g.bs; fb <= (end - 1) / g.bs; ++fb) {
    if (f.map.count(fb)) continue;
    if (alloc_block(f, fb) < 0) {
      r.out_of_space = true;
      return false;
    }
    r.allocates = true;
    const Range a{fb * g.bs, (fb + 1) * g.bs};
    r.alloc_range =
        r.alloc_range.begin == r.alloc_range.end
            ? a
            : Range{std::min(r.alloc_range.begin, a.begin), std::max(r.alloc_range.end, a.end)};
  }
  return true;
}

// R-VFAT-ZERO-GAP (fs/buffer.c cont_write_begin -> cont_expand_zero, fat_write_begin): a
// buffered write at `pos` past mmu_private first writes zeros through the page cache over
// [mmu_private, pos), a page at a time: the blocks are allocated in order (fat_get_block raises
// mmu_private a block at a time), the range is zeroed and dirty, and write_end raises i_size to
// its end. false when a block cannot be allocated (-ENOSPC).
bool Model::cont_expand_zero(State& s, uint64_t pos, OpRecord& r) const {
  FileState& f = s.f;
  r.rules.insert("R-VFAT-ZERO-GAP");
  for (uint64_t cur = f.mmu_private; cur < pos; cur = std::max(cur, f.mmu_private)) {
    const uint64_t end = std::min(pos, (cur / g.ps + 1) * g.ps);
    get_page(f, cur / g.ps); // read first: the blocks allocated next start as zeros in it
    if (!alloc_holes(f, cur, end, r)) return false;
    Page& p = get_page(f, cur / g.ps);
    WriteLog w;
    w.file_off = cur;
    w.before = file_bytes(f, cur, end - cur);
    w.after = Cells(end - cur, 0);
    r.writes.push_back(std::move(w));
    p.bytes.fill(cur % g.ps, end - cur, 0);
    p.dirty = true;
    for (uint64_t bo = cur % g.ps / g.bs * g.bs; bo < (end - 1) % g.ps + 1; bo += g.bs)
      p.dirty_blocks[bo / g.bs] = 1;
    if (static_cast<int64_t>(end) > f.i_size) {
      f.i_size = static_cast<int64_t>(end);
      r.isize_writes.push_back(f.i_size);
    }
    cur = end;
  }
  return true;
}

void Model::Results::done(int64_t v, bool queued) {
  rets.insert(v);
  if (aio) {
    submits.insert(v);
    if (queued) submits.insert(kEIOCBQUEUED);
  }
}

// The record's ranges and the lowest i_size the op can see; returns why the op cannot be
// checked ("" when it can). Taint: an operation touching bytes whose structure is unknown, or
// one the concurrency rules could not order, is executed for its effects but not checked.
std::string Model::exec_prologue(const OpInfo& op, const State& s, OpRecord& r) const {
  const FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  const uint64_t offset = op.offset, count = op.count, end = offset + count;
  r.file = {offset, end};
  r.pages = {offset / g.ps * g.ps, (end + g.ps - 1) / g.ps * g.ps};
  r.nowait = o.nowait;
  r.lo_isize = spec.i_size;
  for (size_t i = 0; i < ctx.hb_before.size(); ++i)
    if (ctx.hb_before[i] && ctx.earlier[i])
      for (int64_t v : ctx.earlier[i]->isize_writes)
        r.lo_isize = std::max(r.lo_isize, v);
  r.lo_isize = std::min(r.lo_isize, min_truncate_size); // R-TRUNCATE: i_size may drop
  r.isize_dependent = count && static_cast<int64_t>(end) > r.lo_isize;
  if (ctx.force_taint) return ctx.taint_why;
  if (!op.unknown_why.empty()) return op.unknown_why;
  if (op.direct_unknown)
    return "R-FCNTL: another task sharing its fd toggles O_DIRECT, so whether it is direct or "
           "buffered depends on timing";
  if (count && in_taint(f, r.pages)) return "it touches bytes an unmodelled operation left unknown";
  if (count && f.isize_tainted) return "i_size is unknown";
  if (o.nowait && f.readahead_maybe && spec.fs.model != scenario::FsModel::ext2)
    return "RWF_NOWAIT after a buffered read, whose readahead may have cached more pages";
  return "";
}

// mm/filemap.c generic_file_read_iter, the IOCB_DIRECT branch.
void Model::exec_read(const OpInfo& op, State& s, int branch, OpRecord& r, Results& out) {
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  const uint64_t offset = op.offset, count = op.count, end = offset + count;
  const uint64_t first = offset / g.ps, last = (end - 1) / g.ps;
  bool any_page = false, dirty = false;
  for (auto it = f.cache.lower_bound(first); it != f.cache.end() && it->first <= last; ++it) {
    any_page = true;
    dirty = dirty || it->second.dirty;
  }
  r.cache_active = any_page || o.nowait;
  if (o.nowait && dirty) {
    // R-NOWAIT-CACHE (filemap_range_needs_writeback).
    r.rules.insert("R-NOWAIT-CACHE");
    out.done(kEAGAIN, false);
    return;
  }
  if (!o.nowait &&
      write_and_wait(f, static_cast<int64_t>(offset), static_cast<int64_t>(end) - 1, r) < 0) {
    out.done(kEIO, false); // R-WRITEBACK-ERROR: generic_file_read_iter returns it
    return;
  }
  const std::vector<DioPath> paths = direct_io(op, s, branch, r);
  for (const DioPath& p : paths) {
    int64_t v = p.value;
    if (v >= 0 && static_cast<uint64_t>(v) < count && !o.nowait &&
        static_cast<int64_t>(offset) + v < f.i_size && paths.size() == 1)
      v = filemap_read(op, s, static_cast<uint64_t>(v), v, r);
    out.done(v, p.queued);
  }
}

// What one way the direct write can end leaves: the value the write returns.
int64_t Model::write_path_result(const OpInfo& op, State& s, const DioPath& p, bool& failed_once,
                                 OpRecord& r) {
  FileState& f = s.f;
  const uint64_t offset = op.offset, count = op.count, end = offset + count;
  const int64_t v = p.value;
  if (v < 0) {
    // R-WRITE-FAILED (ext2_direct_IO -> ext2_write_failed): a failed write that reached
    // past i_size drops the cache and the blocks past i_size.
    if (!failed_once && static_cast<int64_t>(end) > f.i_size) {
      r.rules.insert("R-WRITE-FAILED");
      r.truncated = true;
      const uint64_t keep = (static_cast<uint64_t>(f.i_size) + g.ps - 1) / g.ps;
      f.cache.erase(f.cache.lower_bound(keep), f.cache.end());
      truncate_blocks(f, f.i_size);
    }
    failed_once = true;
    return v;
  }
  int64_t written = v;
  if (written > 0 && static_cast<int64_t>(offset) + written > f.i_size) {
    // R-EXTEND (generic_file_direct_write): i_size = offset + written.
    r.rules.insert("R-EXTEND");
    f.i_size = static_cast<int64_t>(offset) + written;
  }
  if (written > 0) r.isize_writes.push_back(static_cast<int64_t>(offset) + written);
  if (static_cast<uint64_t>(written) < count) {
    const int64_t status = buffered_write(op, s, static_cast<uint64_t>(written), r);
    if (status < 0) {
      written = written ? written : status;
    } else {
      const int64_t pos0 = static_cast<int64_t>(offset) + written;
      if (write_and_wait(f, pos0, pos0 + status - 1, r) < 0) {
        written = written ? written : kEIO; // R-WRITEBACK-ERROR: the buffered part not counted
      } else {
        drop_clean(f, static_cast<uint64_t>(pos0) / g.ps,
                   static_cast<uint64_t>(pos0 + status - 1) / g.ps);
        written += status;
      }
    }
  }
  return written;
}

// mm/filemap.c generic_file_write_iter -> __generic_file_write_iter ->
// generic_file_direct_write, under inode_lock.
void Model::exec_write(const OpInfo& op, State& s, int branch, OpRecord& r, Results& out) {
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  const uint64_t offset = op.offset, end = offset + op.count;
  const uint64_t first = offset / g.ps, last = (end - 1) / g.ps;
  bool any_page = false;
  for (auto it = f.cache.lower_bound(first); it != f.cache.end() && it->first <= last; ++it)
    any_page = true;
  r.cache_active = any_page || o.nowait;
  uint64_t align = offset;
  for (const Seg& sg : op.segs)
    align |= sg.addr | sg.len;
  if (o.nowait && o.aio && spec.fs.serialise_unaligned_aio && (align & (g.bs - 1))) {
    r.rules.insert("R-SERIALISE-UNALIGNED"); // it would wait in inode_dio_wait
    out.done(kEAGAIN, false);
    return;
  }
  if (o.nowait && any_page) {
    r.rules.insert("R-NOWAIT-CACHE"); // filemap_range_has_page
    out.done(kEAGAIN, false);
    return;
  }
  if (!o.nowait &&
      write_and_wait(f, static_cast<int64_t>(offset), static_cast<int64_t>(end) - 1, r) < 0) {
    out.done(kEIO, false); // R-WRITEBACK-ERROR: generic_file_direct_write returns it
    return;
  }
  std::vector<DioPath> paths;
  if (!invalidate2(f, first, last)) {
    // R-BUSY-FALLBACK: invalidate_inode_pages2_range failed, generic_file_direct_write
    // returns 0 and the whole write is buffered.
    r.rules.insert("R-BUSY-FALLBACK");
    paths.push_back({0, false});
  } else if (spec.fs.model == scenario::FsModel::vfat && end > f.mmu_private) {
    // R-VFAT-FALLBACK: fat_direct_IO returns 0 for a write ending past mmu_private, and the
    // whole write is buffered.
    r.rules.insert("R-VFAT-FALLBACK");
    paths.push_back({0, false});
  } else {
    if (any_page) r.rules.insert("R-INVALIDATE");
    paths = direct_io(op, s, branch, r);
  }
  bool failed_once = false;
  for (const DioPath& p : paths)
    out.done(write_path_result(op, s, p, failed_once, r), p.queued);
}

// An unchecked op: everything it may have touched becomes unknown.
void Model::exec_taint(const OpInfo& op, State& s, const std::string& taint_why,
                       OpRecord& r) const {
  FileState& f = s.f;
  r.checked = false;
  r.why_unchecked = taint_why;
  taint(s, r.pages, taint_why);
  if (op.read)
    for (const Seg& sg : op.segs)
      s.user[sg.buffer].mut().any(sg.buf_off, sg.len);
  if (op.write && r.isize_dependent && !scenario::is_mmap_op(op.op->kind)) { // R-MMAP-WRITE
    // It may have extended i_size, or (failing) truncated every block past i_size.
    f.isize_tainted = true;
    taint(s, {static_cast<uint64_t>(r.lo_isize) / g.bs * g.bs, UINT64_MAX / 2}, taint_why);
  }
  if (r.allocates) f.alloc_uncertain = true;
}

// R-MEMSET: a task's store into its own memory; the bytes are `fill` afterwards. A concurrent
// operation on the same user memory is not ordered (R-CONC-UNMODELLED: "share user memory one
// of them fills"): both are given up, so a direct write's file bytes there and a direct read's
// buffer are left to the scenario's own expectations.
void Model::exec_memset(const OpInfo& op, State& s, OpRecord& r) const {
  r.rules.insert("R-MEMSET");
  r.active = op.count > 0;
  r.ret = {static_cast<int64_t>(op.count)};
  r.i_size_after = s.f.i_size;
  if (ctx.force_taint) {
    r.checked = false;
    r.why_unchecked = ctx.taint_why;
    for (const Seg& sg : op.segs)
      s.user[sg.buffer].mut().any(sg.buf_off, sg.len);
  } else {
    put_user(s, op, 0, Cells(op.count, op.op->fill), 0, op.count, false);
  }
  r.data = snapshot(s, op);
}

OpRecord Model::exec(const OpInfo& op, State& s, int branch) {
  OpRecord r;
  FileState& f = s.f;
  if (exec_fd(op, s, r)) return r; // R-CLOSE, R-IO-CANCEL, R-IO-DESTROY, R-SYNC-INODE
  if (op.reap) {                   // R-REAP: waits for this task's AIO; returns nothing of its own.
    r.ret = {0};
    r.data = Cells();
    r.rules.insert(op.fcntl ? "R-FCNTL" : "R-REAP"); // R-FCNTL: F_SETFL returns 0
    r.i_size_after = f.i_size;
    return r;
  }
  if (scenario::is_inode_op(op.op->kind)) {
    exec_inode(op, s, r);
    return r;
  }
  if (op.op->kind == scenario::OpKind::memset) {
    exec_memset(op, s, r);
    return r;
  }
  if (op.append) { // R-APPEND, R-O-APPEND: generic_write_checks puts the write at i_size
    OpInfo at_end = op;
    at_end.offset = static_cast<uint64_t>(f.i_size);
    OpRecord rec = exec_io(at_end, s, branch);
    rec.rules.insert(op.op->append ? "R-APPEND" : "R-O-APPEND");
    return rec;
  }
  return exec_io(op, s, branch);
}

OpRecord Model::exec_io(const OpInfo& op, State& s, int branch) {
  OpRecord r;
  FileState& f = s.f;
  const scenario::Operation& o = *op.op;
  std::string taint_why = exec_prologue(op, s, r);
  widen_to_mappings(op, r); // R-MMAP-BUF-*: the pages its buffers map are its pages too
  if (taint_why.empty()) taint_why = mapping_in(op, s); // R-MMAP-BUF-*: what the mapping shows
  // vfat files lack FMODE_NOWAIT too: R-NOWAIT-EXT2 holds for them.
  const bool ext2 =
      spec.fs.model == scenario::FsModel::ext2 || spec.fs.model == scenario::FsModel::vfat;
  Results out;
  out.aio = o.aio;
  if (scenario::is_mmap_op(o.kind)) {
    if (op.count) r.active = true;
    exec_mmap(op, s, r, out); // R-MMAP-*: page faults, no syscall checks
  } else if (o.nowait && ext2 && o.aio) {
    // R-NOWAIT-EXT2 (fs/aio.c aio_prep_rw -> kiocb_set_rw_flags): ext2 files lack FMODE_NOWAIT.
    r.rules.insert("R-NOWAIT-EXT2");
    out.done(kEOPNOTSUPP, false);
  } else if (op.count == 0) {
    // R-COUNT-ZERO: do_iter_read/do_iter_write (sync) and generic_file_read_iter /
    // generic_write_checks (AIO) return 0 for an empty request; fs/direct-io.c:1118-1119.
    r.rules.insert("R-COUNT-ZERO");
    out.done(0, false);
  } else if (o.nowait && ext2) {
    r.rules.insert("R-NOWAIT-EXT2"); // do_iter_readv_writev -> kiocb_set_rw_flags
    out.done(kEOPNOTSUPP, false);
  } else {
    r.active = true;
    if (op.buffered && op.read)
      exec_buffered_read(op, s, r, out);
    else if (op.buffered)
      exec_buffered_write(op, s, r, out);
    else if (op.read)
      exec_read(op, s, branch, r, out);
    else
      exec_write(op, s, branch, r, out);
  }
  r.ret = out.rets;
  if (o.aio) r.submit = out.submits;
  if (taint_why.empty()) mapping_out(op, s, r);
  r.data = snapshot(s, op);
  r.i_size_after = f.i_size;
  if (!taint_why.empty()) exec_taint(op, s, taint_why, r);
  return r;
}

} // namespace diosim::model::refm
