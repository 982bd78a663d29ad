// SPDX-License-Identifier: GPL-2.0-only
// Reference model: __blockdev_direct_IO (fs/direct-io.c) as a block-level rule set. The request
// is walked in "dio blocks" (the fs block, or the device's logical block when the request is
// aligned only to that), in order; get_block answers decide what each block does. No pages, no
// bios: only which file bytes go where, what is returned, and which bytes a failing bio may
// leave untouched. Each rule names the lines of fs/direct-io.c it states; docs/SEMANTICS.md
// has them in prose.
#include "model/reference/reference_detail.hpp"

#include <algorithm>
#include <optional>

namespace diosim::model::refm {

namespace {

struct IoBlock {
  uint64_t j = 0;       // dio block of the request
  int64_t disk_dio = 0; // dio block on the disk
  bool zero_page = false;
  uint64_t fb = 0; // fs block of the file
};

struct ZeroSection {
  uint64_t file_off = 0, len = 0;
  int64_t disk_dio = 0;
  uint64_t fb = 0;
};

// One request through __blockdev_direct_IO: the state its phases share, in the order
// fs/direct-io.c computes it. Model::direct_io runs the phases in order.
class DioRequest {
public:
  DioRequest(Model& m, const OpInfo& op, State& s, int branch, OpRecord& r)
      : m(m), op(op), s(s), f(s.f), o(*op.op), r(r), write(op.write), count(op.count),
        offset(op.offset), end(offset + count), fail(branch == 1) {}

  std::optional<std::vector<Model::DioPath>> prelude();
  void walk();
  void bio_errors();
  void effects();
  std::vector<Model::DioPath> paths();
  void unwritten_effect();

private:
  bool map_more();          // false: the walk ends
  bool defer_alloc_fails(); // R-ALLOC-FAIL at fs/direct-io.c:643-644
  void log_write(uint64_t file_off, const Cells& c);
  int64_t complete(int64_t ret, int64_t io_error);
  bool sector_hit(int64_t disk_dio, uint64_t blocks, uint64_t fb, const scenario::DiskErrorRule& e,
                  bool* uncertain) const;
  void rule_hits(const scenario::DiskErrorRule& e, uint64_t min_before, uint64_t max_before,
                 bool& hit_may, bool& hit_must) const;

  Model& m;
  const OpInfo& op;
  State& s;
  FileState& f;
  const scenario::Operation& o;
  OpRecord& r;
  const bool write;
  const uint64_t count, offset, end;
  const bool fail; // branch 1: some bio fails

  // prelude
  int64_t dio_i_size = 0;
  unsigned blkbits = 0;
  bool is_async = false;
  // walk (do_direct_IO)
  unsigned k = 0; // blkfactor
  uint64_t b = 0, n = 0, fb0 = 0, mask = 0, fault_j = 0;
  bool skip_holes = true;
  std::vector<IoBlock> io;
  std::vector<uint64_t> hole_j;
  std::vector<ZeroSection> zeros;
  std::vector<uint64_t> allocated;
  uint64_t avail = 0, result = 0, j = 0;
  int64_t next_io = 0, stop = 0, page_errors = 0;
  bool cur_new = false, start_zero_done = false, zero_fill = false;
  bool defer_set = false; // dio->defer_completion (fs/direct-io.c:561-563)
  int64_t retval = 0;
  // bio errors
  bool st_ioerr = false, st_again = false, reap_possible = false;
};

std::optional<std::vector<Model::DioPath>> DioRequest::prelude() {
  // fs/direct-io.c:1118-1119 — a zero-length read (unreachable through the VFS, R-COUNT-ZERO).
  if (!write && count == 0) return std::vector<Model::DioPath>{{0, false}};

  // R-ALLOC-FAIL, fs/direct-io.c:1121-1123: the struct dio allocation fails: -ENOMEM, nothing
  // done.
  if (m.alloc_fails(f, scenario::AllocSite::dio)) {
    r.rules.insert("R-ALLOC-FAIL");
    return std::vector<Model::DioPath>{{kENOMEM, false}};
  }

  // R-EOF-READ, fs/direct-io.c:1138-1142: i_size is sampled once; a read starting at or past
  // it returns 0 before the alignment check.
  dio_i_size = f.i_size;
  if (!write && static_cast<int64_t>(offset) >= dio_i_size) {
    r.rules.insert("R-EOF-READ");
    return std::vector<Model::DioPath>{{0, false}};
  }

  // R-ALIGN, fs/direct-io.c:1144-1150: offset, every iovec base and length must be aligned to
  // the fs block, or else to the device's logical block (which then becomes the dio block).
  uint64_t align = offset;
  for (const Seg& sg : op.segs)
    if (sg.len) align |= sg.addr | sg.len;
  blkbits = m.g.fs_bits;
  if (align & (m.g.bs - 1)) {
    blkbits = m.g.lbs_bits;
    r.rules.insert("R-ALIGN");
    if (align & (m.g.lbs - 1)) return std::vector<Model::DioPath>{{kEINVAL, false}};
  }

  // R-AIO-EXTEND-SYNC, fs/direct-io.c:1166-1171: AIO is async unless it is a write ending past
  // i_size.
  is_async = o.aio;
  if (o.aio && write && static_cast<int64_t>(end) > f.i_size) {
    is_async = false;
    r.rules.insert("R-AIO-EXTEND-SYNC");
  }
  // R-SERIALISE-UNALIGNED: serialise_unaligned_aio runs an unaligned AIO write synchronously
  // (ext4/XFS: IOMAP_DIO_FORCE_WAIT), after the direct I/O in flight (inode_dio_wait).
  if (o.aio && write && m.spec.fs.serialise_unaligned_aio && (align & (m.g.bs - 1))) {
    is_async = false;
    r.rules.insert("R-SERIALISE-UNALIGNED");
  }

  // R-ALLOC-FAIL, fs/direct-io.c:1185-1199 and 559-565: an async write creates the dio-done
  // workqueue when there is none yet (an O_DSYNC one also marks the dio deferred); the
  // allocation failing ends the request with -ENOMEM before any I/O.
  if (is_async && write) {
    defer_set = o.dsync || f.i_sync; // iocb_is_dsync: IOCB_DSYNC or IS_SYNC (R-SYNC-INODE)
    if (!f.dio_done_wq) {
      if (m.alloc_fails(f, scenario::AllocSite::dio_done_wq)) {
        r.rules.insert("R-ALLOC-FAIL");
        return std::vector<Model::DioPath>{{kENOMEM, false}};
      }
      f.dio_done_wq = true;
    }
  }
  return std::nullopt;
}

// get_more_blocks, fs/direct-io.c:592-647, and what do_direct_IO does with its answer.
bool DioRequest::map_more() {
  if (page_errors) { // fs/direct-io.c:608
    stop = page_errors;
    return false;
  }
  const uint64_t fs_start = (fb0 + j) >> k, fs_end = (fb0 + n - 1) >> k;
  bool create = write;
  // R-SKIP-HOLES-CREATE, fs/direct-io.c:630-635.
  const bool forbid = write && skip_holes && f.i_size &&
                      fs_start <= static_cast<uint64_t>(f.i_size - 1) >> m.g.fs_bits;
  if (forbid) create = false;
  const Mapping mp = m.get_block(f, fs_start, fs_end - fs_start + 1, create);
  cur_new = false; // map_bh->b_state = 0 (fs/direct-io.c:616)
  if (mp.err) {
    // R-GET-BLOCK-ERROR, fs/direct-io.c:925-929, then 1237-1239.
    stop = mp.err;
    r.out_of_space = r.out_of_space || mp.err == kENOSPC;
    r.rules.insert(mp.err == kENOMEM && !m.spec.alloc_failures.empty() ? "R-ALLOC-FAIL"
                                                                       : "R-GET-BLOCK-ERROR");
    return false;
  }
  if (!mp.mapped) {
    if (write) {
      // R-ENOTBLK, fs/direct-io.c:967-974 (and 1241-1247).
      stop = kENOTBLK;
      r.rules.insert("R-ENOTBLK");
      if (forbid) r.rules.insert("R-SKIP-HOLES-CREATE");
      return false;
    }
    // R-HOLE-READ / R-HOLE-EOF, fs/direct-io.c:980-992: zeros up to the dio-block-aligned
    // i_size, and the read stops at a hole past it.
    const uint64_t i_size_aligned = (static_cast<uint64_t>(f.i_size) + b - 1) & ~(b - 1);
    if (fb0 + j >= i_size_aligned >> blkbits) {
      r.rules.insert("R-HOLE-EOF");
      return false;
    }
    r.rules.insert("R-HOLE-READ");
    hole_j.push_back(j);
    result += b;
    ++j;
    return true; // avail stays 0: the next block is mapped afresh
  }
  if (mp.is_new) {
    r.allocates = true;
    r.rules.insert("R-FS-ALLOC");
    const Range a{fs_start * m.g.bs, (fs_start + mp.count) * m.g.bs};
    r.alloc_range =
        r.alloc_range.begin == r.alloc_range.end
            ? a
            : Range{std::min(r.alloc_range.begin, a.begin), std::max(r.alloc_range.end, a.end)};
    for (uint64_t i = 0; i < mp.count; ++i)
      allocated.push_back(fs_start + i);
  }
  if (defer_alloc_fails()) {
    stop = kENOMEM;
    return false;
  }
  cur_new = mp.is_new;
  avail = mp.count << k;
  next_io = mp.disk << k;
  if (k) { // fs/direct-io.c:944-963
    const uint64_t rem = (fb0 + j) & mask;
    if (!cur_new) next_io += static_cast<int64_t>(rem);
    avail -= rem;
  }
  return true;
}

// R-ALLOC-FAIL, fs/direct-io.c:643-644: the first BH_Defer_Completion mapping of a request
// creates the dio-done workqueue if there is none; failing, get_more_blocks returns -ENOMEM.
bool DioRequest::defer_alloc_fails() {
  if (!m.spec.fs.defer_completion || defer_set) return false;
  defer_set = true;
  if (f.dio_done_wq) return false;
  if (m.alloc_fails(f, scenario::AllocSite::dio_done_wq)) {
    r.rules.insert("R-ALLOC-FAIL");
    return true;
  }
  f.dio_done_wq = true;
  return false;
}

// ---- R-WALK: do_direct_IO, fs/direct-io.c:892-1045.
void DioRequest::walk() {
  r.rules.insert("R-WALK");
  k = m.g.fs_bits - blkbits;
  b = 1ull << blkbits, n = count >> blkbits, fb0 = offset >> blkbits;
  mask = (1ull << k) - 1;
  // R-FS-OCFS2: the ocfs2 model passes flags 0 (no DIO_SKIP_HOLES) and has an end_io.
  skip_holes = m.spec.fs.model != scenario::FsModel::ocfs2;
  // R-ITER-KVEC: Linux 6.1's iov_iter_get_pages2 takes pages of user-backed and bvec iterators
  // only; a kvec gets -EFAULT at the first page, as an unmapped user page would.
  const bool kvec = op.op && op.op->iter == scenario::IterKind::kvec;
  if (kvec) r.rules.insert("R-ITER-KVEC");
  const uint64_t fault = kvec ? 0 : m.first_fault(op, 0);
  fault_j = fault >= count ? n : fault >> blkbits;
  while (j < n) {
    // dio_get_page -> dio_refill_pages (fs/direct-io.c:166-220, 903-908): the first byte of an
    // unmapped user page is met before its blocks are mapped.
    if (j == fault_j && !zero_fill) {
      if (write && avail > 0) {
        // R-FAULT-WRITE-ZERO, fs/direct-io.c:174-190: the blocks get_block already mapped are
        // written from ZERO_PAGE so they cannot expose stale data; -EFAULT is kept.
        page_errors = kEFAULT;
        zero_fill = true;
        r.rules.insert("R-FAULT-WRITE-ZERO");
      } else {
        // R-FAULT-READ / R-FAULT-WRITE-SHORT, fs/direct-io.c:199, 905-907.
        stop = kEFAULT;
        r.rules.insert(write ? "R-FAULT-WRITE-SHORT" : "R-FAULT-READ");
        break;
      }
    }
    if (avail == 0) {
      const uint64_t j_before = j;
      if (!map_more()) break;
      if (j != j_before) continue; // a hole read as zeros
    }
    // R-NEW-ZERO (head), fs/direct-io.c:1000-1001 -> dio_zero_block 841-874.
    if (k && !start_zero_done) {
      start_zero_done = true;
      const uint64_t rem = (fb0 + j) & mask;
      if (cur_new && rem) {
        zeros.push_back({(fb0 + j - rem) * b, rem * b, next_io, (fb0 + j) >> k});
        next_io += static_cast<int64_t>(rem);
        r.rules.insert("R-NEW-ZERO");
      }
    }
    io.push_back({j, next_io, zero_fill, (fb0 + j) >> k});
    ++next_io;
    --avail;
    result += b;
    ++j;
  }
  // R-NEW-ZERO (tail), fs/direct-io.c:1252 -> dio_zero_block(end=1).
  if (k && cur_new && ((fb0 + j) & mask)) {
    const uint64_t tail = (1ull << k) - ((fb0 + j) & mask);
    zeros.push_back({(fb0 + j) * b, tail * b, next_io, (fb0 + j) >> k});
    r.rules.insert("R-NEW-ZERO");
  }
  retval = stop == kENOTBLK ? 0 : stop; // fs/direct-io.c:1241-1247
  r.bios_lo = io.empty() && zeros.empty() ? 0 : 1;
  r.bios_hi = io.size() + zeros.size();
}

bool DioRequest::sector_hit(int64_t disk_dio, uint64_t blocks, uint64_t fb,
                            const scenario::DiskErrorRule& e, bool* uncertain) const {
  if (f.disk_uncertain.count(fb)) *uncertain = true;
  const uint64_t first = static_cast<uint64_t>(disk_dio) * b / 512;
  const uint64_t last = (static_cast<uint64_t>(disk_dio) + blocks) * b / 512 - 1;
  return first <= e.sector_last && e.sector_first <= last;
}

// Whether rule `e` may / must hit a bio of this request; bios before it number
// min_before..max_before.
void DioRequest::rule_hits(const scenario::DiskErrorRule& e, uint64_t min_before,
                           uint64_t max_before, bool& hit_may, bool& hit_must) const {
  switch (e.kind) {
  case scenario::DiskErrorRule::Kind::sectors: {
    bool unc = false, hit = false;
    for (const IoBlock& x : io)
      hit = sector_hit(x.disk_dio, 1, x.fb, e, &unc) || hit;
    for (const ZeroSection& z : zeros)
      hit = sector_hit(z.disk_dio, z.len / b, z.fb, e, &unc) || hit;
    hit_may = hit || unc;
    hit_must = hit && !unc;
    break;
  }
  case scenario::DiskErrorRule::Kind::bio_ordinal:
    hit_may = e.bio >= min_before + 1 && e.bio <= max_before + r.bios_hi;
    hit_must =
        min_before == max_before && e.bio >= min_before + 1 && e.bio <= min_before + r.bios_lo;
    break;
  case scenario::DiskErrorRule::Kind::probability:
    hit_may = true;
    hit_must = static_cast<uint64_t>(e.probability * 1'000'000.0) >= 1'000'000;
    break;
  }
}

// ---- R-BIO-ERROR: which disk error rules may hit a bio of this request. A failed bio sets
// dio->io_error: -EAGAIN for BLK_STS_AGAIN on a REQ_NOWAIT bio (only writes carry it,
// fs/direct-io.c:1174-1177), else -EIO (dio_bio_complete, 494-499); the last one wins.
void DioRequest::bio_errors() {
  bool may = false, must = false;
  if (r.bios_hi && !m.spec.disk.errors.empty()) { // the bounds below cost every op
    uint64_t min_before = 0, max_before = 0;
    for (size_t i = 0; i < m.ctx.earlier.size(); ++i) {
      const OpRecord* e = m.ctx.earlier[i];
      if (m.ops[i].task == op.task) {
        min_before += e ? e->bios_lo : 0;
        max_before += e ? e->bios_hi : m.ops[i].static_bios_max;
      }
    }
    for (const OpInfo& other : m.ops)
      if (other.task != op.task) max_before += other.static_bios_max;
    for (const scenario::DiskErrorRule& e : m.spec.disk.errors) {
      bool hit_may = false, hit_must = false;
      rule_hits(e, min_before, max_before, hit_may, hit_must);
      if (hit_may) {
        may = true;
        (e.again ? st_again : st_ioerr) = true;
      }
      must = must || hit_must;
    }
  }
  r.may_fail = may;
  r.must_fail = must;
  if (fail) r.rules.insert("R-BIO-ERROR");
  // dio_bio_reap (fs/direct-io.c:534-555, called from dio_new_bio 658-660) runs from the reap
  // threshold's dio_new_bio call on and returns blk_status_to_errno of a completed failed bio,
  // which stops the submission.
  const uint64_t reap_from =
      std::max<uint64_t>(static_cast<uint64_t>(std::max(m.spec.geometry.reap_threshold, 0)), 1);
  reap_possible = fail && r.bios_hi >= reap_from + 1;
  if (reap_possible) r.rules.insert("R-REAP-ERROR");
}

void DioRequest::log_write(uint64_t file_off, const Cells& c) {
  WriteLog w;
  w.file_off = file_off;
  w.before = m.file_bytes(f, file_off, c.size());
  // R-FS-UNWRITTEN: a block this write filled reads as zeros until its end_io.
  if (m.spec.fs.model == scenario::FsModel::ocfs2 && m.spec.fs.unwritten)
    for (uint64_t fb : allocated) {
      const uint64_t lo = std::max(fb * m.g.bs, file_off),
                     hi = std::min((fb + 1) * m.g.bs, file_off + c.size());
      if (lo < hi) w.before.fill(lo - file_off, hi - lo, 0);
    }
  m.put_file(f, file_off, c, 0, c.size(), fail);
  w.after = fail ? m.file_bytes(f, file_off, c.size()) : c;
  r.writes.push_back(std::move(w));
}

// ---- effects on the user buffer (reads) or the file (writes).
void DioRequest::effects() {
  const bool may_stop_early = reap_possible;
  if (!write) {
    // R-READ-OVERLAP: when two iovecs share user bytes, which block lands last is a matter of
    // timing: such a byte may hold any value written to it.
    for (int pass = 0; pass < (op.self_overlap ? 2 : 1); ++pass) {
      for (uint64_t hj : hole_j) {
        Cells z(b, 0);
        m.put_user(s, op, hj * b, z, 0, b, may_stop_early || pass);
      }
      for (const IoBlock& x : io) {
        const Cells c = m.file_bytes(f, (fb0 + x.j) * b, b);
        m.put_user(s, op, x.j * b, c, 0, b, fail || pass);
        if (!pass) r.reads.push_back({x.j * b, (fb0 + x.j) * b, b});
      }
    }
    if (op.self_overlap && (!io.empty() || !hole_j.empty())) r.rules.insert("R-READ-OVERLAP");
  } else {
    for (const ZeroSection& z : zeros)
      log_write(z.file_off, Cells(z.len, 0));
    for (const IoBlock& x : io)
      log_write((fb0 + x.j) * b, x.zero_page ? Cells(b, 0) : m.user_bytes(s, op, x.j * b, b));
    unwritten_effect();
  }
  if (fail && may_stop_early && r.allocates) {
    // A reaped error may stop the walk before some allocation: the cursor differs between runs,
    // and blocks it would have allocated inside i_size may stay holes.
    f.alloc_uncertain = true;
    for (uint64_t fb : allocated)
      if (static_cast<int64_t>(fb * m.g.bs) < f.i_size)
        m.taint(s, {fb * m.g.bs, (fb + 1) * m.g.bs},
                "a reaped bio error may stop an allocating write early");
  }
}

// R-FS-UNWRITTEN (ocfs2 with "unwritten"): the holes this write filled read as holes until
// end_io converts them, which it does only when dio_complete hands it a positive count and it
// succeeds (ocfs2_dio_end_io_write). Certain failure: they stay allocated but unwritten
// (ocfs2_dio_end_io only frees the write context), so they read as holes and a later write maps
// them as new blocks without allocating (FileState::prealloc, as fallocate's unwritten blocks).
// Possible failure: hole or written, so those bytes are not stated.
void DioRequest::unwritten_effect() {
  if (m.spec.fs.model != scenario::FsModel::ocfs2 || !m.spec.fs.unwritten || allocated.empty())
    return;
  const bool never = m.spec.fs.end_io_error != 0 || r.must_fail;
  if (!never && !fail && !page_errors && stop >= 0) return;
  r.rules.insert("R-FS-UNWRITTEN");
  for (uint64_t fb : allocated) {
    if (never) {
      if (const auto it = f.map.find(fb); it != f.map.end()) f.prealloc[fb] = it->second;
      f.map.erase(fb);
      f.content.erase(fb);
    } else {
      m.taint(s, {fb * m.g.bs, (fb + 1) * m.g.bs},
              "an unwritten extent whose conversion depends on whether the write fails");
    }
  }
}

// ---- R-PRECEDENCE: dio_complete, fs/direct-io.c:233-273 (the order: 261-266).
int64_t DioRequest::complete(int64_t ret, int64_t io_error) {
  const bool has_end_io = m.spec.fs.model == scenario::FsModel::ocfs2;
  int64_t transferred = 0;
  if (result) {
    transferred = static_cast<int64_t>(result);
    // R-READ-CLAMP, fs/direct-io.c:249-255.
    if (!write && static_cast<int64_t>(offset) + transferred > dio_i_size) {
      transferred = dio_i_size - static_cast<int64_t>(offset);
      r.rules.insert("R-READ-CLAMP");
    }
    if (ret == kEFAULT && transferred) ret = 0; // fs/direct-io.c:256-258
  }
  if (ret == 0) ret = page_errors;
  if (ret == 0) ret = io_error;
  if (ret == 0) ret = transferred;
  if (has_end_io && m.spec.fs.end_io_error) { // R-END-IO, fs/direct-io.c:268-273
    ret = m.spec.fs.end_io_error;
    r.rules.insert("R-END-IO");
  }
  return ret;
}

std::vector<Model::DioPath> DioRequest::paths() {
  // R-AIO-QUEUE, fs/direct-io.c:1290-1299: -EIOCBQUEUED only for async I/O that set up bios for
  // all of a write (or any of a read) without error; with no bio in flight (or all completed
  // before drop_refcount) the submitter completes it itself (fs/direct-io.c:246-247).
  const auto queued = [&](int64_t rv) {
    return is_async && rv == 0 && result && (!write || result == count) && r.bios_hi > 0;
  };
  std::vector<Model::DioPath> out;
  if (!fail) {
    out.push_back({complete(retval, 0), queued(retval)});
  } else {
    const int64_t io_errs[2] = {st_ioerr ? kEIO : 0,
                                st_again ? (write && o.nowait ? kEAGAIN : kEIO) : 0};
    for (int64_t e : io_errs)
      if (e) out.push_back({complete(retval, e), queued(retval)});
    if (reap_possible) {
      if (st_ioerr) out.push_back({complete(kEIO, 0), false});
      if (st_again) out.push_back({complete(kEAGAIN, 0), false});
    }
  }
  for (const Model::DioPath& p : out)
    if (p.queued) {
      r.may_be_queued = true;
      r.rules.insert("R-AIO-QUEUE");
    }
  return out;
}

} // namespace

// Returns the paths the request can take: each is the value __blockdev_direct_IO (or, once
// queued, dio_complete) produces, and whether the submission may return -EIOCBQUEUED.
std::vector<Model::DioPath> Model::direct_io(const OpInfo& op, State& s, int branch, OpRecord& r) {
  DioRequest d(*this, op, s, branch, r);
  if (auto early = d.prelude()) return *early;
  d.walk();
  d.bio_errors();
  d.effects();
  return d.paths();
}

} // namespace diosim::model::refm
