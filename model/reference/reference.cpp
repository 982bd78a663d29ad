// SPDX-License-Identifier: GPL-2.0-only
// The reference model's driver: runs the operations serially on the abstract state
// (reference_vfs.cpp, reference_dio.cpp), splits into worlds where a possible bio failure would
// change the file's structure, applies the concurrency rules (R-CONC-*), unites the worlds into
// an ExpectedRun (reference_compare.cpp compares a run with it). docs/SEMANTICS.md states every
// rule.
#include "model/reference/reference.hpp"

#include "model/reference/reference_detail.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace diosim::model {

using namespace refm;

namespace {

constexpr size_t kMaxWorlds = 64;
constexpr int kMaxPasses = 6;

bool same_structure(const State& a, const State& b) {
  const FileState &x = a.f, &y = b.f;
  if (x.i_size != y.i_size || x.map != y.map || x.next_free != y.next_free || x.taken != y.taken ||
      x.indirect != y.indirect || x.last_logical != y.last_logical ||
      x.last_physical != y.last_physical || x.mmu_private != y.mmu_private ||
      x.reserve != y.reserve || x.readahead_maybe != y.readahead_maybe ||
      x.alloc_uncertain != y.alloc_uncertain || x.disk_uncertain != y.disk_uncertain ||
      x.isize_tainted != y.isize_tainted || x.prealloc != y.prealloc ||
      x.cache.size() != y.cache.size() || x.tainted.size() != y.tainted.size())
    return false;
  for (size_t i = 0; i < x.tainted.size(); ++i)
    if (x.tainted[i].begin != y.tainted[i].begin || x.tainted[i].end != y.tainted[i].end)
      return false;
  for (auto i = x.cache.begin(), j = y.cache.begin(); i != x.cache.end(); ++i, ++j)
    if (i->first != j->first || i->second.dirty != j->second.dirty ||
        i->second.busy != j->second.busy || i->second.dirty_blocks != j->second.dirty_blocks)
      return false;
  return true;
}

void unite_cells(Cells& into, const Cells& other) {
  if (into == other) return;
  into.widen_from(0, other, 0, std::min(into.size(), other.size()));
}

// a and b have the same structure: unite their bytes into a.
void unite_state(State& a, const State& b) {
  for (auto& [fb, c] : a.f.content)
    if (!(c.get() == b.f.content.at(fb).get())) unite_cells(c.mut(), b.f.content.at(fb).get());
  for (auto& [idx, p] : a.f.cache)
    unite_cells(p.bytes, b.f.cache.at(idx).bytes);
  for (size_t i = 0; i < a.user.size(); ++i)
    if (!(a.user[i].get() == b.user[i].get())) unite_cells(a.user[i].mut(), b.user[i].get());
}

void unite_record(OpRecord& a, const OpRecord& b) {
  a.ret.insert(b.ret.begin(), b.ret.end());
  a.submit.insert(b.submit.begin(), b.submit.end());
  if (a.data && b.data) unite_cells(*a.data, *b.data);
  a.rules.insert(b.rules.begin(), b.rules.end());
  a.checked = a.checked && b.checked;
  if (a.why_unchecked.empty()) a.why_unchecked = b.why_unchecked;
  a.may_be_queued = a.may_be_queued || b.may_be_queued;
  a.cache_active = a.cache_active || b.cache_active;
  a.buffered = a.buffered || b.buffered;
  if (b.allocates)
    a.alloc_range = !a.allocates ? b.alloc_range
                                 : Range{std::min(a.alloc_range.begin, b.alloc_range.begin),
                                         std::max(a.alloc_range.end, b.alloc_range.end)};
  a.allocates = a.allocates || b.allocates;
  a.out_of_space = a.out_of_space || b.out_of_space;
  a.truncated = a.truncated || b.truncated;
  a.isize_writes.insert(a.isize_writes.end(), b.isize_writes.begin(), b.isize_writes.end());
  // Logs: the failure branch's logs already hold the union of both branches' values.
  if (!b.writes.empty()) a.writes = b.writes;
  a.bios_lo = std::min(a.bios_lo, b.bios_lo);
  a.bios_hi = std::max(a.bios_hi, b.bios_hi);
}

struct WorldResult {
  std::vector<OpRecord> recs;
  State final;
  std::vector<int> choices; // one per fork point met
  std::vector<size_t> fork_ops;
  std::vector<std::string> conflicts;
};

bool overlap_user(const OpInfo& a, const OpInfo& b) {
  for (const Seg& x : a.segs)
    for (const Seg& y : b.segs)
      if (x.len && y.len && x.buffer == y.buffer && x.buf_off < y.buf_off + y.len &&
          y.buf_off < x.buf_off + x.len)
        return true;
  return false;
}

} // namespace

namespace refm {

Model::Model(const scenario::ScenarioSpec& s) : spec(s) {
  g.ps = spec.geometry.page_size;
  g.bs = spec.geometry.fs_block_size;
  g.lbs = spec.geometry.logical_block_size;
  g.fs_bits = static_cast<unsigned>(__builtin_ctzll(g.bs));
  g.lbs_bits = static_cast<unsigned>(__builtin_ctzll(g.lbs));
  g.disk_blocks = spec.geometry.disk_blocks;
  g.stale = static_cast<uint8_t>(spec.disk.stale_byte);
  for (size_t t = 0; t < spec.tasks.size(); ++t)
    for (size_t i = 0; i < spec.tasks[t].ops.size(); ++i) {
      const scenario::Operation& o = spec.tasks[t].ops[i];
      OpInfo info;
      info.index = ops.size();
      info.task = t;
      info.pos = i;
      info.op = &o;
      info.fcntl = o.kind == scenario::OpKind::fcntl;
      info.fd_op = scenario::is_fd_op(o.kind);
      info.reap = o.kind == scenario::OpKind::reap || o.kind == scenario::OpKind::barrier ||
                  info.fcntl || info.fd_op;
      // io_destroy waits for every request of the context (R-IO-DESTROY).
      info.full_reap = (o.kind == scenario::OpKind::reap && o.events == 0) ||
                       o.kind == scenario::OpKind::io_destroy;
      info.append = o.kind == scenario::OpKind::pwrite && (o.append || spec.tasks[t].o_append);
      if (o.kind == scenario::OpKind::barrier) {
        barrier_ops.resize(spec.tasks.size());
        for (size_t k : barrier_ops[t])
          info.barrier_generation += ops[k].op->barrier == o.barrier;
        barrier_ops[t].push_back(ops.size());
      }
      if (o.kind == scenario::OpKind::ftruncate)
        min_truncate_size = std::min(min_truncate_size, static_cast<int64_t>(o.length));
      // A memset fills user memory as a read does: the concurrency rules treat it as one.
      info.read = o.kind == scenario::OpKind::pread || o.kind == scenario::OpKind::mmap_read ||
                  o.kind == scenario::OpKind::memset;
      info.write = o.kind == scenario::OpKind::pwrite || o.kind == scenario::OpKind::mmap_write;
      info.offset = o.offset;
      for (const scenario::IoVec& v : o.iov) {
        Seg sg;
        for (size_t b = 0; b < spec.buffers.size(); ++b)
          if (spec.buffers[b].name == v.buffer) {
            sg.buffer = b;
            sg.addr = spec.buffers[b].address + v.offset;
          }
        sg.len = v.len;
        sg.buf_off = v.offset;
        sg.req_off = info.count;
        info.count += v.len;
        info.segs.push_back(sg);
      }
      info.static_bios_max = info.reap || !info.count ? 0 : info.count / g.lbs + 2;
      for (size_t a = 0; a < info.segs.size(); ++a)
        for (size_t b = 0; b < a; ++b) {
          const Seg &x = info.segs[a], &y = info.segs[b];
          if (x.len && y.len && x.buffer == y.buffer && x.buf_off < y.buf_off + y.len &&
              y.buf_off < x.buf_off + x.len)
            info.self_overlap = true;
        }
      ops.push_back(std::move(info));
    }
  resolve_fd_modes();
  resolve_fd_states();
  resolve_mappings();
}

} // namespace refm

namespace {

class Driver {
public:
  explicit Driver(Model& m) : m_(m), n_(m.ops.size()) {}

  ExpectedRun run();

private:
  // hb(j, i), j < i: op j happens before op i: in the same task when j cannot still be in
  // flight at i; across tasks through a barrier (R-BARRIER). Across tasks only in the serial
  // order (j < i): an op of a later-listed task ordered before one of an earlier-listed task is
  // treated as concurrent, which allows more outcomes, never fewer.
  bool hb(const std::vector<OpRecord>& recs, size_t j, size_t i) const {
    if (m_.ops[j].task != m_.ops[i].task) return j < i && barrier_orders(recs, j, i);
    return finished_by(recs, j, i);
  }
  // Op j has finished when its task reaches position i (same task, j < i).
  bool finished_by(const std::vector<OpRecord>& recs, size_t j, size_t i) const {
    if (!recs[j].may_be_queued) return true;
    for (size_t k = j + 1; k < i; ++k)
      if (m_.ops[k].full_reap) return true;
    return false;
  }
  // Op j's task passes a barrier after j has finished, and op i's task passes the same barrier
  // (that generation or a later one) before i.
  bool barrier_orders(const std::vector<OpRecord>& recs, size_t j, size_t i) const {
    if (m_.barrier_ops.empty()) return false;
    const OpInfo &a = m_.ops[j], &b = m_.ops[i];
    for (size_t k : m_.barrier_ops[a.task]) {
      if (k <= j || !finished_by(recs, j, k)) continue;
      for (size_t l : m_.barrier_ops[b.task]) {
        if (l >= i) break;
        if (m_.ops[l].op->barrier == m_.ops[k].op->barrier &&
            m_.ops[l].barrier_generation >= m_.ops[k].barrier_generation)
          return true;
      }
    }
    return false;
  }
  WorldResult run_world(const std::vector<int>& prefix, const std::vector<OpRecord>* prev,
                        const std::vector<char>& forced, const std::vector<std::string>& why);
  WorldResult run_fixpoint(const std::vector<int>& prefix);
  void widen_for_concurrency(size_t i, std::vector<OpRecord>& recs, State& s,
                             const std::vector<OpRecord>* prev);
  void widen_for_wb_error(size_t i, std::vector<OpRecord>& recs, const State& pre,
                          const std::vector<OpRecord>* prev);
  std::vector<std::string> find_conflicts(const std::vector<OpRecord>& recs,
                                          std::vector<char>& forced, std::vector<std::string>& why);

  // Every world the run can go through, or the first kMaxWorlds of them (overflow).
  struct Explored {
    std::vector<WorldResult> worlds;
    bool overflow = false;
    size_t first_fork = 0; // the first operation whose other branch was not explored
  };
  using Note = std::function<void(const std::string&)>; // why the result is not exact
  Explored explore_worlds();
  bool isizes_after(size_t i, const std::vector<OpRecord>& recs, std::set<int64_t>& isizes,
                    OpRecord& r) const;
  ExpectedOp expected_op(size_t i, const Explored& x, const Note& note) const;
  void expected_file(const Explored& x, const Note& note, ExpectedRun& out) const;
  void expected_blocks(const Explored& x, uint64_t size, ExpectedFile& file) const;

  Model& m_;
  size_t n_;
};

WorldResult Driver::run_world(const std::vector<int>& prefix, const std::vector<OpRecord>* prev,
                              const std::vector<char>& forced,
                              const std::vector<std::string>& why) {
  WorldResult w;
  State s = m_.initial_state();
  w.recs.resize(n_);
  bool writeback_errors = false;
  for (const scenario::CachedPage& p : m_.spec.page_cache)
    writeback_errors = writeback_errors || p.writeback_error;
  const bool no_failures =
      m_.spec.disk.errors.empty() && m_.spec.alloc_failures.empty() && !writeback_errors;
  for (size_t i = 0; i < n_; ++i) {
    const OpInfo& op = m_.ops[i];
    Model::ExecContext& c = m_.ctx;
    c.earlier.assign(i, nullptr);
    c.hb_before.assign(i, 0);
    for (size_t j = 0; j < i; ++j) {
      c.earlier[j] = &w.recs[j];
      c.hb_before[j] = hb(w.recs, j, i);
    }
    c.force_taint = forced[i];
    c.taint_why = why[i];
    if (no_failures) {
      // No bio, allocation or writeback may fail: the op runs on the state itself. A copy per op
      // would cost every block and page the file has, quadratic over many writers.
      w.recs[i] = m_.exec(op, s, 0);
      widen_for_concurrency(i, w.recs, s, prev);
      continue;
    }
    const State pre = s;
    State s0 = s;
    OpRecord r0 = m_.exec(op, s0, 0);
    OpRecord rec;
    if (r0.may_fail) {
      State s1 = s;
      OpRecord r1 = m_.exec(op, s1, 1);
      if (r0.must_fail) {
        s = std::move(s1);
        rec = std::move(r1);
      } else if (same_structure(s0, s1)) {
        unite_state(s0, s1);
        unite_record(r0, r1);
        s = std::move(s0);
        rec = std::move(r0);
        rec.data = m_.snapshot(s, op);
      } else {
        // R-FORK: the failure changes i_size, the block map or the cache: two worlds.
        const size_t f = w.choices.size();
        const int choice = f < prefix.size() ? prefix[f] : 0;
        w.choices.push_back(choice);
        w.fork_ops.push_back(i);
        s = choice ? std::move(s1) : std::move(s0);
        rec = choice ? std::move(r1) : std::move(r0);
        rec.rules.insert("R-FORK");
      }
    } else {
      s = std::move(s0);
      rec = std::move(r0);
    }
    w.recs[i] = std::move(rec);
    widen_for_wb_error(i, w.recs, pre, prev);
    widen_for_concurrency(i, w.recs, s, prev);
  }
  m_.final_writeback(s.f); // R-FINAL-FILE
  w.final = std::move(s);
  return w;
}

// R-CONC-BYTES: a byte written by op i may instead end with the value of a concurrent writer
// that came before it in the serial order; a byte op i read may be the value before a
// concurrent writer (serially earlier) or the value a concurrent writer (serially later, from
// the previous pass) wrote.
void Driver::widen_for_concurrency(size_t i, std::vector<OpRecord>& recs, State& s,
                                   const std::vector<OpRecord>* prev) {
  OpRecord& r = recs[i];
  const OpInfo& op = m_.ops[i];
  if (op.reap || !r.active) return;
  bool touched = false;
  for (size_t j = 0; j < n_; ++j) {
    if (j == i) continue;
    const bool earlier = j < i;
    const OpRecord* w = earlier ? &recs[j] : (prev ? &(*prev)[j] : nullptr);
    if (!w || w->writes.empty()) continue;
    const bool conc = earlier ? !hb(recs, j, i) : (m_.ops[j].task != op.task || !hb(recs, i, j));
    if (!conc) continue;
    if (op.write && earlier) {
      for (const WriteLog& mine : r.writes)
        for (const WriteLog& other : w->writes) {
          const uint64_t b = std::max(mine.file_off, other.file_off);
          const uint64_t e =
              std::min(mine.file_off + mine.after.size(), other.file_off + other.after.size());
          if (b >= e) continue;
          m_.put_file(s.f, b, other.after, b - other.file_off, e - b, true);
          r.rules.insert("R-CONC-BYTES");
        }
    }
    if (op.read) {
      for (const ReadLog& rd : r.reads)
        for (const WriteLog& other : w->writes) {
          const uint64_t b = std::max(rd.file_off, other.file_off);
          const uint64_t e = std::min(rd.file_off + rd.len, other.file_off + other.after.size());
          if (b >= e) continue;
          const Cells& src = earlier ? other.before : other.after;
          m_.put_user(s, op, rd.data_index + (b - rd.file_off), src, b - other.file_off, e - b,
                      true);
          touched = true;
          r.rules.insert("R-CONC-BYTES");
        }
    }
  }
  if (touched) r.data = m_.snapshot(s, op);
}

// R-WRITEBACK-ERROR across tasks, for reads (find_conflicts gives up when a write is involved):
// AS_EIO is mapping-wide, so a read of another task may take the -EIO a failed writeback set
// (returning it with its buffer untouched), and the read whose writeback failed may then run as
// if it had not. Reads leave the file as they found it either way.
void Driver::widen_for_wb_error(size_t i, std::vector<OpRecord>& recs, const State& pre,
                                const std::vector<OpRecord>* prev) {
  OpRecord& r = recs[i];
  const OpInfo& op = m_.ops[i];
  if (!op.read || !r.active || !r.checked || op.op->nowait) return;
  bool other_failed = false, other_checks = false;
  for (size_t j = 0; j < n_; ++j) {
    if (j == i || m_.ops[j].task == op.task) continue; // other tasks: always concurrent
    const OpRecord* o = j < i ? &recs[j] : (prev ? &(*prev)[j] : nullptr);
    if (!o || !o->active || m_.ops[j].op->nowait) continue;
    other_failed = other_failed || o->wb_error;
    other_checks = true;
  }
  if (other_failed) {
    r.ret.insert(kEIO);
    if (op.op->aio) r.submit.insert(kEIO);
    if (r.data) r.data->widen_from(0, m_.snapshot(pre, op), 0, r.data->size());
    r.rules.insert("R-WRITEBACK-ERROR");
  }
  if (r.wb_error && other_checks) {
    State alt = pre;
    m_.ctx.wb_error_taken = true;
    const OpRecord r2 = m_.exec(op, alt, 0);
    m_.ctx.wb_error_taken = false;
    r.ret.insert(r2.ret.begin(), r2.ret.end());
    r.submit.insert(r2.submit.begin(), r2.submit.end());
    if (r.data && r2.data) r.data->widen_from(0, *r2.data, 0, r.data->size());
  }
}

// R-CONC-UNMODELLED: pairs of operations that may overlap in time and interact through
// something other than plain file bytes — the page cache, i_size, allocation, or a user buffer
// one of them fills — are not ordered by the model: both are tainted. Returns the texts of the
// pairs that gave up an operation not given up before.
std::vector<std::string> Driver::find_conflicts(const std::vector<OpRecord>& recs,
                                                std::vector<char>& forced,
                                                std::vector<std::string>& why) {
  std::vector<std::string> found;
  bool fault_pages = false;
  for (const scenario::Buffer& b : m_.spec.buffers)
    fault_pages = fault_pages || !b.unmapped_pages.empty();
  bool sector_rules = false;
  for (const scenario::DiskErrorRule& e : m_.spec.disk.errors)
    sector_rules = sector_rules || e.kind == scenario::DiskErrorRule::Kind::sectors;
  // Could allocation reach the end of the disk? Then who allocates first matters.
  uint64_t alloc_need = m_.initial_state().f.next_free + m_.spec.page_cache.size();
  for (const scenario::DiskRun& u : m_.spec.fs.used_blocks)
    alloc_need += u.blocks;
  for (const OpInfo& o : m_.ops) // data, partial blocks, ext2's indirect blocks
    alloc_need += o.count / m_.g.bs + 2 + o.count / m_.g.bs / (m_.g.bs / 4) + 3;
  const bool space_tight = alloc_need >= m_.g.disk_blocks;
  for (size_t i = 0; i < n_; ++i)
    for (size_t j = 0; j < i; ++j) {
      const OpRecord &a = recs[j], &b = recs[i];
      const OpInfo &oa = m_.ops[j], &ob = m_.ops[i];
      if (oa.reap || ob.reap || hb(recs, j, i)) continue;
      const bool cross = oa.task != ob.task;
      std::string reason;
      // Every operation reports its iovecs' bytes, so even one that did nothing races with a
      // concurrent read filling them.
      if (((oa.read && a.active) || (ob.read && b.active)) && overlap_user(oa, ob))
        reason = "share user memory one of them fills";
      else if (!a.active || !b.active)
        continue;
      else if ((!a.checked || !b.checked) && a.pages.overlaps(b.pages))
        reason = "overlap, and the model gave up on one of them";
      else if (a.pages.overlaps(b.pages) && (a.cache_active || b.cache_active))
        reason = "overlap in pages the page cache holds or they read or write through it";
      else if (cross && ((!a.isize_writes.empty() || a.truncated) && b.isize_dependent))
        reason = "one changes i_size or truncates while the other reaches past i_size";
      else if (cross && ((!b.isize_writes.empty() || b.truncated) && a.isize_dependent))
        reason = "one changes i_size or truncates while the other reaches past i_size";
      else if ((oa.append && !b.isize_writes.empty()) || (ob.append && !a.isize_writes.empty()))
        reason = "one appends at i_size, which the other changes";
      else if (cross && !m_.spec.alloc_failures.empty())
        reason = "which allocation is the nth that fails depends on which runs first";
      else if (cross && (a.wb_error || b.wb_error) && !(oa.read && ob.read))
        reason = "a writeback failed, and the mapping's -EIO goes to whichever checks it first";
      else if (cross && a.allocates && b.allocates && (sector_rules || fault_pages || space_tight))
        reason = "both allocate, and which disk blocks each gets matters";
      else if (cross && space_tight && (a.allocates || a.out_of_space) &&
               (b.allocates || b.out_of_space) && (a.out_of_space || b.out_of_space))
        reason = "both need disk blocks and one found none: which runs first gets them";
      else if (cross && ((a.allocates && a.alloc_range.overlaps(b.pages)) ||
                         (b.allocates && b.alloc_range.overlaps(a.pages))))
        reason = "one allocates blocks the other touches";
      // A pair whose operations were both given up adds nothing: each keeps its first reason
      // (n tasks extending a file at once would otherwise build n^2 texts).
      if (reason.empty() || (forced[j] && forced[i])) continue;
      const std::string text =
          oa.op->where + " and " + ob.op->where + " may run at the same time and " + reason;
      for (size_t k : {j, i})
        if (!forced[k]) {
          forced[k] = 1;
          why[k] = text;
        }
      found.push_back(text);
    }
  return found;
}

WorldResult Driver::run_fixpoint(const std::vector<int>& prefix) {
  std::vector<char> forced(n_, 0);
  std::vector<std::string> why(n_);
  WorldResult w = run_world(prefix, nullptr, forced, why);
  bool concurrency = false; // any two operations that may overlap in time?
  for (size_t i = 0; i < n_ && !concurrency; ++i)
    for (size_t j = 0; j < i && !concurrency; ++j)
      concurrency = !m_.ops[i].reap && !m_.ops[j].reap && !hb(w.recs, j, i);
  if (!concurrency) return w;
  std::vector<std::string> conflicts; // each operation's first reason, over every pass
  for (int pass = 1; pass < kMaxPasses; ++pass) {
    const std::vector<char> before = forced;
    for (std::string& c : find_conflicts(w.recs, forced, why))
      conflicts.push_back(std::move(c));
    w.conflicts = conflicts;
    WorldResult next = run_world(prefix, &w.recs, forced, why);
    bool stable = forced == before;
    for (size_t i = 0; stable && i < n_; ++i)
      stable = next.recs[i].data == w.recs[i].data &&
               next.recs[i].writes.size() == w.recs[i].writes.size();
    for (size_t i = 0; stable && i < n_; ++i)
      for (size_t k = 0; stable && k < next.recs[i].writes.size(); ++k)
        stable = next.recs[i].writes[k].after == w.recs[i].writes[k].after;
    next.conflicts = w.conflicts;
    w = std::move(next);
    if (stable) return w;
  }
  // Not stable after kMaxPasses: concurrent reads and writes feeding each other; give up on
  // every operation that reads or writes bytes of another concurrent one.
  for (size_t i = 0; i < n_; ++i)
    if (w.recs[i].active) {
      w.recs[i].checked = false;
      w.recs[i].why_unchecked = "concurrent operations whose bytes feed each other";
    }
  w.final.f.tainted.push_back({0, UINT64_MAX / 2});
  w.final.f.taint_why.push_back("concurrent operations whose bytes feed each other");
  return w;
}

std::vector<std::pair<uint64_t, uint64_t>> ranges_of(const std::vector<uint64_t>& idx) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (uint64_t i : idx) {
    if (!out.empty() && out.back().second == i)
      ++out.back().second;
    else
      out.push_back({i, i + 1});
  }
  return out;
}

// Splits byte sets into the ExpectedOp / ExpectedFile form: free ranges (every value allowed)
// and alternatives, at offsets `base` + index, appended.
void split_alternatives(const Cells& c, std::vector<std::pair<uint64_t, uint64_t>>& free,
                        std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& alts,
                        uint64_t base = 0) {
  std::vector<uint64_t> free_idx;
  for (uint64_t i = 0; i < c.sets().size(); ++i) {
    const ByteSet& s = c.sets()[i];
    if (s.none()) continue;
    if (s.all())
      free_idx.push_back(base + i);
    else
      alts.push_back({base + i, s.values()});
  }
  for (const auto& r : ranges_of(free_idx))
    free.push_back(r);
}

// Sorts and merges free ranges, and drops the alternatives they cover (every value is allowed
// there anyway).
void normalise_free(ExpectedFile& file) {
  std::vector<std::pair<uint64_t, uint64_t>>& free = file.free;
  std::sort(free.begin(), free.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : free) {
    if (r.first >= r.second) continue;
    if (!merged.empty() && r.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  free = std::move(merged);
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> alts;
  size_t fi = 0;
  for (auto& a : file.alternatives) {
    while (fi < free.size() && free[fi].second <= a.first)
      ++fi;
    if (fi < free.size() && free[fi].first <= a.first) continue;
    alts.push_back(std::move(a));
  }
  file.alternatives = std::move(alts);
}

// Appends one block's expected bytes to the image: a block of one exact value as a run, other
// blocks' bytes into `pending` (flushed as one piece when the bytes stop being adjacent).
struct ImageBuilder {
  explicit ImageBuilder(FileImage& f) : image(f) {}
  FileImage& image;
  std::vector<uint8_t> pending;
  uint64_t pending_at = 0;

  void flush() {
    counters().expanded_bytes += pending.size();
    if (!pending.empty()) image.add_copy(pending_at, pending);
    pending.clear();
  }
  void add(uint64_t offset, const Cells& c) {
    const std::optional<uint8_t> one = c.one_value();
    if (!pending.empty() && (one || pending_at + pending.size() != offset)) flush();
    if (one) {
      image.add_fill(offset, c.size(), *one);
      return;
    }
    if (pending.empty()) pending_at = offset;
    c.append_values(pending);
  }
};

// An operation's expected bytes as an image: runs of one value stay runs.
FileImage image_of(const Cells& c) {
  FileImage f;
  f.size = c.size();
  ImageBuilder b(f);
  b.add(0, c);
  b.flush();
  return f;
}

// Worlds are explored by the position of the split that starts them, earliest first, so that
// when there are too many, every combination of the earliest splits has been seen.
Driver::Explored Driver::explore_worlds() {
  Explored x;
  x.first_fork = n_;
  std::multimap<size_t, std::pair<std::vector<int>, size_t>>
      work; // split index -> (prefix, its op)
  work.insert({0, {{}, 0}});
  while (!work.empty()) {
    if (x.worlds.size() >= kMaxWorlds) {
      x.overflow = true;
      for (const auto& [f, item] : work)
        x.first_fork = std::min(x.first_fork, item.second);
      break;
    }
    std::vector<int> prefix = std::move(work.begin()->second.first);
    work.erase(work.begin());
    WorldResult w = run_fixpoint(prefix);
    for (size_t f = prefix.size(); f < w.choices.size(); ++f) {
      std::vector<int> child(w.choices.begin(), w.choices.begin() + static_cast<std::ptrdiff_t>(f));
      child.push_back(1);
      work.insert({f, {std::move(child), w.fork_ops[f]}});
    }
    x.worlds.push_back(std::move(w));
  }
  return x;
}

// R-CONC-ISIZE: i_size when op i finishes (in world `recs`) is the largest of what happened
// before it, its own, and any subset of what concurrent operations set. Adds the possible
// values to `isizes`; returns false when an unmodelled write makes it unknown.
bool Driver::isizes_after(size_t i, const std::vector<OpRecord>& recs, std::set<int64_t>& isizes,
                          OpRecord& r) const {
  const OpInfo& op = m_.ops[i];
  bool known = true;
  for (size_t j = 0; j < n_; ++j)
    if (j != i && m_.ops[j].write && !recs[j].checked &&
        !(j > i && m_.ops[j].task == op.task && hb(recs, i, j)))
      known = false; // an unmodelled write before it or concurrent with it
  if (m_.min_truncate_size != INT64_MAX) {
    // R-TRUNCATE: i_size may drop, so "the largest" no longer holds: the serial value, unless
    // an operation that may overlap op i in time changes i_size.
    for (size_t j = 0; j < n_; ++j) {
      const bool ordered = j < i ? hb(recs, j, i) : m_.ops[j].task == op.task && hb(recs, i, j);
      const bool sizes = !recs[j].isize_writes.empty() || recs[j].truncated;
      if (j != i && ((!ordered && sizes) || (!recs[j].checked && (sizes || m_.ops[j].write))))
        return false;
    }
    isizes.insert(recs[i].i_size_after);
    r.rules.insert("R-TRUNCATE");
    return known;
  }
  int64_t base = m_.spec.i_size;
  for (int64_t v : recs[i].isize_writes)
    base = std::max(base, v);
  std::vector<int64_t> conc;
  for (size_t j = 0; j < n_; ++j) {
    if (j == i) continue;
    const bool before = j < i ? hb(recs, j, i) : false;
    const bool after = j > i ? (m_.ops[j].task == op.task && hb(recs, i, j)) : false;
    for (int64_t v : recs[j].isize_writes) {
      if (before)
        base = std::max(base, v);
      else if (!after)
        conc.push_back(v);
    }
  }
  isizes.insert(base);
  for (int64_t v : conc)
    if (v > base) {
      isizes.insert(v);
      r.rules.insert("R-CONC-ISIZE");
    }
  return known;
}

// Op i's expected outcome: the union over all worlds.
ExpectedOp Driver::expected_op(size_t i, const Explored& x, const Note& note) const {
  const OpInfo& op = m_.ops[i];
  OpRecord r = x.worlds[0].recs[i];
  std::set<int64_t> isizes;
  bool isize_unknown = false;
  bool checked = true;
  std::string why_un;
  for (size_t wi = 0; wi < x.worlds.size(); ++wi) {
    const OpRecord& rec = x.worlds[wi].recs[i];
    if (wi) unite_record(r, rec);
    if (!rec.checked) {
      checked = false;
      if (why_un.empty()) why_un = rec.why_unchecked;
    }
    if (!op.reap && !isizes_after(i, x.worlds[wi].recs, isizes, r)) isize_unknown = true;
  }
  if (x.overflow && i >= x.first_fork) {
    checked = false;
    why_un = "more than " + std::to_string(kMaxWorlds) +
             " ways the run can go (bio failures that change the file's structure)";
  }
  ExpectedOp e;
  if (!checked) {
    e.rules = {"R-UNMODELLED"};
    note(op.op->where + ": " + why_un);
    return e;
  }
  e.allowed_ret.assign(r.ret.begin(), r.ret.end());
  e.allowed_submit_ret.assign(r.submit.begin(), r.submit.end());
  if (r.data) {
    e.data = image_of(*r.data);
    split_alternatives(*r.data, e.data_free, e.data_alternatives);
    if (!e.data_free.empty()) note(op.op->where + ": user bytes the model cannot state");
  }
  if (!op.reap && !isize_unknown) e.allowed_i_size_after.assign(isizes.begin(), isizes.end());
  if (isize_unknown) note(op.op->where + ": i_size after it");
  e.rules.assign(r.rules.begin(), r.rules.end());
  return e;
}

// The file at the end, and the final i_size, united over all worlds.
void Driver::expected_file(const Explored& x, const Note& note, ExpectedRun& out) const {
  uint64_t size = static_cast<uint64_t>(std::max<int64_t>(m_.spec.i_size, 0));
  for (const OpInfo& o : m_.ops)
    size = std::max(size, o.offset + o.count);
  for (const scenario::Extent& e : m_.spec.extents)
    size = std::max(size, (e.file_block + e.blocks) * m_.g.bs);
  size = (size + m_.g.bs - 1) / m_.g.bs * m_.g.bs;
  std::set<int64_t> final_isizes;
  bool isize_known = true;
  for (const WorldResult& w : x.worlds) {
    final_isizes.insert(w.final.f.i_size);
    if (w.final.f.isize_tainted) isize_known = false;
    for (const Range& t : w.final.f.tainted)
      if (t.begin < size) out.file.free.push_back({t.begin, std::min<uint64_t>(t.end, size)});
    for (const std::string& c : w.conflicts)
      note(c);
    for (const std::string& t : w.final.f.taint_why)
      note(t);
  }
  if (x.overflow) {
    out.file.free.push_back({0, size});
    isize_known = false;
    note("more than " + std::to_string(kMaxWorlds) + " ways the run can go");
  }
  out.file.size = out.file.value.size = size;
  expected_blocks(x, size, out.file);
  if (isize_known)
    out.allowed_final_i_size.assign(final_isizes.begin(), final_isizes.end());
  else
    note("the final i_size");
}

// The file's bytes at the end, block by block over the blocks some world maps (the rest are
// holes in every world and read as zero), united over all worlds: the cost follows the mapped
// blocks, never the file's size.
void Driver::expected_blocks(const Explored& x, uint64_t size, ExpectedFile& file) const {
  const uint64_t bs = m_.g.bs;
  std::vector<uint64_t> blocks;
  for (const WorldResult& w : x.worlds)
    for (const auto& [fb, c] : w.final.f.content) {
      if (fb * bs >= size) break;
      blocks.push_back(fb);
    }
  if (x.worlds.size() > 1) {
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  }
  ImageBuilder image(file.value);
  const Cells hole(bs, 0);
  for (uint64_t fb : blocks) {
    const auto block_of = [&](const WorldResult& w) -> const Cells& {
      auto it = w.final.f.content.find(fb);
      return it == w.final.f.content.end() ? hole : it->second.get();
    };
    const Cells& first = block_of(x.worlds[0]);
    if (x.worlds.size() == 1) {
      image.add(fb * bs, first);
      split_alternatives(first, file.free, file.alternatives, fb * bs);
      continue;
    }
    Cells c = first;
    for (size_t wi = 1; wi < x.worlds.size(); ++wi)
      unite_cells(c, block_of(x.worlds[wi]));
    image.add(fb * bs, c);
    split_alternatives(c, file.free, file.alternatives, fb * bs);
  }
  image.flush();
  normalise_free(file);
}

ExpectedRun Driver::run() {
  const Explored x = explore_worlds();
  ExpectedRun out;
  std::vector<std::string> why; // in the order first noted
  std::set<std::string> noted;  // a search per note, not a scan: n tasks racing give n^2 notes
  const Note note = [&](const std::string& s) {
    if (noted.insert(s).second) why.push_back(s);
  };
  for (size_t i = 0; i < n_; ++i)
    out.ops.push_back(expected_op(i, x, note));
  expected_file(x, note, out);
  out.exact = why.empty();
  for (size_t k = 0; k < why.size(); ++k)
    out.why_not_exact += (k ? "; " : "") + why[k];
  return out;
}

} // namespace

const ReferenceCounters& reference_counters() {
  return counters();
}

ExpectedRun reference_outcome(const scenario::ScenarioSpec& spec) {
  refm::Model m(spec);
  Driver d(m);
  return d.run();
}

} // namespace diosim::model
