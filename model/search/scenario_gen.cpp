// SPDX-License-Identifier: GPL-2.0-only
// Scenario generators: raw parts of shrinkable numbers, assembled into a valid ScenarioSpec.
// See scenario_gen.hpp for the shape and the shrinking order.
#include "model/search/scenario_gen.hpp"

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <tuple>

namespace diosim::model {

using namespace diosim::scenario;

// ---------------------------------------------------------------------------------------------
// Building blocks

rc::Gen<size_t> gen_choice(std::vector<unsigned> weights) {
  return [weights](const rc::Random& random, int) {
    const uint64_t total = std::accumulate(weights.begin(), weights.end(), uint64_t{0});
    uint64_t v = rc::Random(random).next() % total;
    size_t i = 0;
    while (v >= weights[i])
      v -= weights[i++];
    return rc::shrinkable::shrinkRecur(i,
                                       [](size_t x) { return rc::shrink::towards<size_t>(x, 0); });
  };
}

rc::Gen<uint64_t> gen_uniform(uint64_t lo, uint64_t hi) {
  return [lo, hi](const rc::Random& random, int) {
    const uint64_t span = hi - lo;
    const uint64_t r = rc::Random(random).next();
    const uint64_t v = span == UINT64_MAX ? r : lo + r % (span + 1);
    return rc::shrinkable::shrinkRecur(
        v, [lo](uint64_t x) { return rc::shrink::towards<uint64_t>(x, lo); });
  };
}

rc::Gen<bool> gen_flag(unsigned percent) {
  return rc::gen::map(gen_choice({100 - percent, percent}), [](size_t i) { return i == 1; });
}

rc::Seq<uint64_t> shrink_bytes(uint64_t value, uint64_t block) {
  // Multiples of `unit` below value, towards 0 and then the largest one; without those that are
  // multiples of `skip_unit` (already tried).
  auto scaled = [value](uint64_t unit, uint64_t skip_unit) {
    const uint64_t k = value / unit;
    return rc::seq::filter(
        rc::seq::map(rc::seq::concat(rc::shrink::towards<uint64_t>(k, 0), rc::seq::just(k)),
                     [unit](uint64_t n) { return n * unit; }),
        [value, skip_unit](uint64_t x) {
          return x < value && (skip_unit == 0 || x % skip_unit != 0);
        });
  };
  // Whole blocks first, then sectors that are not whole blocks, then bytes that are not sectors.
  return rc::seq::concat(scaled(block, 0), scaled(512, block), scaled(1, 512));
}

rc::Gen<uint64_t> gen_bytes(uint64_t max_bytes, std::vector<unsigned> weights) {
  return [=](const rc::Random& random, int) {
    rc::Random r(random);
    const uint64_t total = std::accumulate(weights.begin(), weights.end(), uint64_t{0});
    uint64_t w = r.split().next() % total;
    size_t kind = 0;
    while (w >= weights[kind])
      w -= weights[kind++];
    const uint64_t x = r.next();
    uint64_t v = 0;
    switch (kind) {
    case 0:
      v = (x % (max_bytes / 4096 + 1)) * 4096;
      break;
    case 1:
      v = (x % (max_bytes / 1024 + 1)) * 1024;
      break;
    case 2:
      v = (x % (max_bytes / 512 + 1)) * 512;
      break;
    case 3:
      v = max_bytes ? 1 + x % max_bytes : 0;
      break;
    default:
      v = 0;
      break;
    }
    return rc::shrinkable::shrinkRecur(v, [](uint64_t y) { return shrink_bytes(y, 4096); });
  };
}

namespace {

// A vector of `weights.size() - 1` elements at most, its length drawn with the weights (index =
// length). Shrinks by dropping chunks (never below the shortest length with a weight), then
// element by element.
template <typename T>
rc::Gen<std::vector<T>> gen_list(std::vector<unsigned> weights, rc::Gen<T> elem) {
  size_t min = 0;
  while (min < weights.size() && weights[min] == 0)
    ++min;
  return [=](const rc::Random& random, int size) {
    rc::Random r(random);
    const uint64_t total = std::accumulate(weights.begin(), weights.end(), uint64_t{0});
    uint64_t w = r.split().next() % total;
    size_t count = 0;
    while (w >= weights[count])
      w -= weights[count++];
    std::vector<rc::Shrinkable<T>> elems;
    for (size_t i = 0; i < count; ++i)
      elems.push_back(elem(r.split(), size));
    using Elems = std::vector<rc::Shrinkable<T>>;
    auto shrinkable = rc::shrinkable::shrinkRecur(elems, [min](const Elems& xs) {
      return rc::seq::concat(
          rc::seq::filter(rc::shrink::removeChunks(xs),
                          [min](const Elems& ys) { return ys.size() >= min; }),
          rc::shrink::eachElement(xs, [](const rc::Shrinkable<T>& s) { return s.shrinks(); }));
    });
    return rc::shrinkable::map(std::move(shrinkable), [](const Elems& xs) {
      std::vector<T> out;
      out.reserve(xs.size());
      for (const auto& x : xs)
        out.push_back(x.value());
      return out;
    });
  };
}

// Either `def` (shrinks to nothing) or a value in [lo, hi] (shrinks to `def`, then towards lo).
rc::Gen<uint64_t> gen_default_or(uint64_t def, uint64_t lo, uint64_t hi, unsigned percent_small) {
  return [=](const rc::Random& random, int) {
    rc::Random r(random);
    const bool small = r.split().next() % 100 < percent_small;
    const uint64_t v = small ? lo + r.next() % (hi - lo + 1) : def;
    return rc::shrinkable::shrinkRecur(v, [def, lo](uint64_t x) {
      if (x == def) return rc::Seq<uint64_t>();
      return rc::seq::concat(rc::seq::just(def),
                             rc::seq::filter(rc::shrink::towards<uint64_t>(x, lo),
                                             [def](uint64_t y) { return y != def; }));
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Raw parts

struct RawTop {
  size_t mode = 0; // timed, explore
  uint64_t seed = 1;
  size_t step_cost = 0;                                    // index into kStepCosts
  std::vector<size_t> explore_faults;                      // fault kinds, in ExploreFaults order
  std::vector<std::pair<size_t, uint64_t>> alloc_failures; // (site, nth)
  bool barrier = false;       // every task (but a reaper) waits at barrier "b0" once
  bool shared_reaper = false; // the last task only reaps task0's AIO through task0's context
};
constexpr uint64_t kStepCosts[] = {100, 0, 1000, 20000};

struct RawUsed {
  uint64_t gap = 0; // free disk blocks before it
  uint64_t blocks = 1;
};

struct RawFs {
  size_t model = 0; // ext2, extent, ocfs2, vfat
  uint64_t max_blocks_per_map = 0;
  std::vector<uint64_t> boundary_blocks;
  bool defer_completion = false;
  bool set_private = false;
  bool get_block_error = false;
  uint64_t error_block = 0;
  size_t error_errno = 0;  // index into kGetBlockErrnos
  size_t end_io_error = 0; // 0: none, else index + 1 into kEndIoErrnos
  size_t first_free = 0;   // 0: default, else extents end + first_free_gap
  uint64_t first_free_gap = 1;
  bool mapped_fill = false;  // ocfs2: "unwritten": false (the stale-data quirk)
  bool serialise = false;    // extent/ocfs2: serialise_unaligned_aio
  size_t cluster_shift = 0;  // vfat: cluster_size = fs_block_size << cluster_shift
  std::vector<RawUsed> used; // used_blocks, from the allocator's start on
};
constexpr int kGetBlockErrnos[] = {-5 /*EIO*/, -28 /*ENOSPC*/, -12 /*ENOMEM*/, -27 /*EFBIG*/};
constexpr int kEndIoErrnos[] = {-5 /*EIO*/, -28 /*ENOSPC*/, -1 /*EPERM*/};

struct RawExtent {
  uint64_t gap_blocks = 0; // hole before it in the file
  uint64_t blocks = 1;
  uint64_t disk_gap = 0; // unused disk blocks before it
  size_t data = 0;       // 0: stale, 1: one letter, 2: two letters
};

struct RawPage {
  uint64_t gap = 0; // pages skipped before it
  bool dirty = false;
  bool busy = false;
  bool writeback_error = false;
  size_t data = 0; // 0: what the disk holds, 1: 'C', 2: 'C' then 'P'
};

struct RawFile {
  uint64_t i_size = 0;
  std::vector<RawExtent> extents;
  std::vector<RawPage> pages;
};

struct RawError {
  size_t kind = 0; // bio, sectors, probability
  uint64_t bio = 1;
  uint64_t target = 0; // sectors: an extent's block (index < extents) or a block past them
  uint64_t sector_offset = 0;
  uint64_t sector_span = 0;
  size_t probability = 0; // index into kProbabilities
  bool again = false;
};
constexpr double kProbabilities[] = {0.5, 0.1, 1.0, 0.25};

struct RawDisk {
  size_t latency = 0; // index into kLatencies
  uint64_t queue_depth = 32;
  bool small = false; // disk_blocks just past what the layout needs: ENOSPC
  uint64_t spare_blocks = 0;
  std::vector<RawError> errors;
};
constexpr std::pair<uint64_t, uint64_t> kLatencies[] = {
    {20'000, 200'000}, {0, 1'000}, {5'000, 5'000}, {1, 1'000'000}};

struct RawBuffer {
  uint64_t misalign = 0; // bytes past the page boundary
  size_t fill = 0;       // index into kFills
  std::vector<uint64_t> unmapped;
  uint64_t slack = 0; // bytes after the last byte an iovec uses
};
constexpr uint8_t kFills[] = {'u', 'W', 'X', 'Y'};

struct RawSeg {
  size_t buffer = 0;
  uint64_t offset = 0;
  uint64_t len = 0;
};

// An operation beyond pread/pwrite/reap (GenOptions::more_ops), drawn in its own raw part and
// inserted into a task by assemble: kind indexes kExtraKinds.
struct RawExtraOp {
  size_t task = 0; // which task (modulo the task count)
  uint64_t at = 0; // where in its ops (modulo their count + 1)
  size_t kind = 0;
  uint64_t offset = 0; // file offset (fallocate, mmap ops)
  uint64_t length = 0; // ftruncate's size, fallocate's len
  bool flag = false;   // fcntl: O_DIRECT on; fallocate: keep_size; fsync: datasync; chattr: +S
  bool punch = false;  // fallocate: punch_hole
  RawSeg seg;          // mmap ops: the one segment
  uint64_t pick = 0;   // io_cancel: which AIO op still in flight (modulo their count)
};
constexpr OpKind kExtraKinds[] = {OpKind::fcntl,      OpKind::ftruncate, OpKind::fallocate,
                                  OpKind::fsync,      OpKind::close,     OpKind::io_cancel,
                                  OpKind::io_destroy, OpKind::chattr,    OpKind::mmap_read,
                                  OpKind::mmap_write};

// The new ops, and how each task opens its fd: fd_flags[t] 0 default, 1 without O_DIRECT
// (buffered), 2 O_APPEND, 3 both.
struct RawExtras {
  std::vector<RawExtraOp> ops;
  std::vector<size_t> fd_flags;
};

struct RawOp {
  size_t kind = 0; // pread, pwrite, reap; 3 + k: kExtraKinds[k], from `extra`
  RawExtraOp extra;
  uint64_t offset = 0;
  std::vector<RawSeg> iov;
  bool aio = false;
  bool dsync = false;
  bool nowait = false;
  size_t events = 0; // reap: 0 (all in flight), else how many events to take
  size_t iter = 0;   // IterKind: iovec, ubuf (one segment only), bvec, kvec
};

struct RawTask {
  std::vector<RawOp> ops;
  uint64_t barrier_at = 0; // where its barrier goes (modulo its op count + 1)
};

// Byte ranges, the same whatever the geometry (so the geometry shrinks on its own).
constexpr uint64_t kMaxOffset = 48 * 1024;    // a request's file offset
constexpr uint64_t kMaxSegment = 48 * 1024;   // one iovec
constexpr uint64_t kMaxSegOffset = 16 * 1024; // an iovec's offset into its buffer
constexpr uint64_t kMaxISize = 64 * 1024;
constexpr uint64_t kDiskBase = 16; // first disk block extents may use

// A seed in [0, 2^32); shrinks to the default (1) in one step: a smaller seed is no simpler.
rc::Gen<uint64_t> gen_seed() {
  return [](const rc::Random& random, int) {
    const uint64_t v = rc::Random(random).next() & 0xffffffffu;
    return rc::shrinkable::shrinkRecur(
        v, [](uint64_t x) { return x == 1 ? rc::Seq<uint64_t>() : rc::seq::just<uint64_t>(1); });
  };
}

rc::Gen<RawTop> gen_top(const GenOptions& o) {
  return rc::gen::build<RawTop>(
      rc::gen::set(&RawTop::mode, o.mode ? rc::gen::just<size_t>(*o.mode == Mode::explore ? 1 : 0)
                                         : gen_choice({1, 1})),
      // Seeds shrink to the default (1) in one step: a smaller seed is no simpler.
      rc::gen::set(&RawTop::seed, gen_seed()),
      rc::gen::set(&RawTop::step_cost, gen_choice({70, 10, 10, 10})),
      rc::gen::set(&RawTop::explore_faults,
                   o.explore_faults
                       ? gen_list<size_t>({85, 10, 5}, gen_choice({1, 1, 1, 1, 1, 1, 1}))
                       : rc::gen::just(std::vector<size_t>())),
      rc::gen::set(&RawTop::alloc_failures,
                   gen_list<std::pair<size_t, uint64_t>>(
                       {80, 15, 5}, rc::gen::pair(gen_choice({1, 1, 1}), gen_uniform(1, 4)))),
      rc::gen::set(&RawTop::barrier, gen_flag(15)),
      rc::gen::set(&RawTop::shared_reaper, gen_flag(12)));
}

rc::Gen<RawFs> gen_fs() {
  auto used = rc::gen::build<RawUsed>(rc::gen::set(&RawUsed::gap, gen_uniform(0, 4)),
                                      rc::gen::set(&RawUsed::blocks, gen_uniform(1, 3)));
  return rc::gen::build<RawFs>(
      rc::gen::set(&RawFs::model, gen_choice({35, 30, 20, 15})),
      rc::gen::set(&RawFs::max_blocks_per_map, gen_default_or(0, 1, 4, 30)),
      rc::gen::set(&RawFs::boundary_blocks, gen_list<uint64_t>({70, 20, 10}, gen_uniform(0, 15))),
      rc::gen::set(&RawFs::defer_completion, gen_flag(20)),
      rc::gen::set(&RawFs::set_private, gen_flag(20)),
      rc::gen::set(&RawFs::get_block_error, gen_flag(10)),
      rc::gen::set(&RawFs::error_block, gen_uniform(0, 20)),
      rc::gen::set(&RawFs::error_errno, gen_choice({70, 10, 10, 10})),
      rc::gen::set(&RawFs::end_io_error, gen_choice({85, 7, 5, 3})),
      rc::gen::set(&RawFs::first_free, gen_choice({85, 15})),
      rc::gen::set(&RawFs::first_free_gap, gen_uniform(1, 8)),
      rc::gen::set(&RawFs::mapped_fill, gen_flag(30)),
      rc::gen::set(&RawFs::serialise, gen_flag(25)),
      rc::gen::set(&RawFs::cluster_shift, gen_choice({50, 25, 15, 10})),
      rc::gen::set(&RawFs::used, gen_list<RawUsed>({65, 20, 10, 5}, used)));
}

rc::Gen<RawFile> gen_file() {
  return rc::gen::build<RawFile>(
      rc::gen::set(&RawFile::i_size, gen_bytes(kMaxISize, {50, 10, 10, 15, 15})),
      rc::gen::set(&RawFile::extents,
                   gen_list<RawExtent>(
                       {15, 35, 25, 15, 10},
                       rc::gen::build<RawExtent>(
                           rc::gen::set(&RawExtent::gap_blocks, gen_choice({60, 20, 10, 10})),
                           rc::gen::set(&RawExtent::blocks, gen_uniform(1, 4)),
                           rc::gen::set(&RawExtent::disk_gap, gen_choice({60, 30, 10})),
                           rc::gen::set(&RawExtent::data, gen_choice({30, 50, 20}))))),
      rc::gen::set(&RawFile::pages,
                   gen_list<RawPage>({60, 25, 10, 5},
                                     rc::gen::build<RawPage>(
                                         rc::gen::set(&RawPage::gap, gen_choice({50, 30, 20})),
                                         rc::gen::set(&RawPage::dirty, gen_flag(40)),
                                         rc::gen::set(&RawPage::busy, gen_flag(15)),
                                         rc::gen::set(&RawPage::writeback_error, gen_flag(8)),
                                         rc::gen::set(&RawPage::data, gen_choice({40, 40, 20}))))));
}

rc::Gen<RawDisk> gen_disk(const GenOptions& o) {
  auto error =
      rc::gen::build<RawError>(rc::gen::set(&RawError::kind, gen_choice({40, 40, 20})),
                               rc::gen::set(&RawError::bio, gen_uniform(1, 8)),
                               rc::gen::set(&RawError::target, gen_uniform(0, 11)),
                               rc::gen::set(&RawError::sector_offset, gen_uniform(0, 7)),
                               rc::gen::set(&RawError::sector_span, gen_choice({60, 20, 20})),
                               rc::gen::set(&RawError::probability, gen_choice({1, 1, 1, 1})),
                               rc::gen::set(&RawError::again, gen_flag(25)));
  return rc::gen::build<RawDisk>(
      rc::gen::set(&RawDisk::latency, gen_choice({55, 15, 15, 15})),
      rc::gen::set(&RawDisk::queue_depth, gen_default_or(32, 1, 4, 25)),
      rc::gen::set(&RawDisk::small, gen_flag(8)),
      rc::gen::set(&RawDisk::spare_blocks, gen_uniform(0, 6)),
      rc::gen::set(&RawDisk::errors, o.disk_errors ? gen_list<RawError>({70, 22, 8}, error)
                                                   : rc::gen::just(std::vector<RawError>())));
}

rc::Gen<RawBuffer> gen_buffer() {
  // Misalignment within the first 4 KiB (no page is smaller): none, whole KiB, whole sectors,
  // odd bytes.
  auto misalign =
      rc::gen::map(rc::gen::pair(gen_choice({70, 12, 10, 8}), gen_uniform(0, UINT64_MAX - 1)),
                   [=](const std::pair<size_t, uint64_t>& p) -> uint64_t {
                     switch (p.first) {
                     case 1:
                       return (p.second % 4) * 1024;
                     case 2:
                       return (p.second % 8) * 512;
                     case 3:
                       return p.second % 4096;
                     default:
                       return 0;
                     }
                   });
  return rc::gen::build<RawBuffer>(
      rc::gen::set(&RawBuffer::misalign, misalign),
      rc::gen::set(&RawBuffer::fill, gen_choice({40, 30, 20, 10})),
      rc::gen::set(&RawBuffer::unmapped, gen_list<uint64_t>({85, 10, 5}, gen_uniform(0, 5))),
      rc::gen::set(&RawBuffer::slack, gen_bytes(8192, {70, 10, 10, 10, 0})));
}

rc::Gen<RawTask> gen_task(const GenOptions& o) {
  auto seg = rc::gen::build<RawSeg>(
      rc::gen::set(&RawSeg::buffer, gen_choice({65, 25, 10})),
      rc::gen::set(&RawSeg::offset, gen_bytes(kMaxSegOffset, {10, 5, 5, 5, 75})),
      rc::gen::set(&RawSeg::len, gen_bytes(kMaxSegment, {62, 15, 10, 8, 5})));
  auto op = rc::gen::build<RawOp>(
      rc::gen::set(&RawOp::kind, gen_choice({45, 45, 10})),
      rc::gen::set(&RawOp::offset, gen_bytes(kMaxOffset, {70, 10, 8, 7, 5})),
      rc::gen::set(&RawOp::iov, gen_list<RawSeg>({0, 75, 15, 10}, seg)),
      rc::gen::set(&RawOp::aio, gen_flag(25)), rc::gen::set(&RawOp::dsync, gen_flag(15)),
      rc::gen::set(&RawOp::nowait, gen_flag(10)),
      rc::gen::set(&RawOp::events, gen_choice({65, 25, 10})),
      rc::gen::set(&RawOp::iter, gen_choice({85, 5, 6, 4})));
  std::vector<unsigned> counts(std::clamp(o.max_ops, 1u, 8u) + 1, 1);
  counts[0] = 0;
  return rc::gen::build<RawTask>(rc::gen::set(&RawTask::ops, gen_list<RawOp>(counts, op)),
                                 rc::gen::set(&RawTask::barrier_at, gen_uniform(0, 8)));
}

// The new ops, with weights: O_DIRECT toggles and the inode ops most (they meet direct I/O in
// the page cache and under the inode lock), mmap access as often, the fd and context ops that
// end what follows them (close, io_destroy) least.
rc::Gen<RawExtras> gen_extras(const GenOptions& o) {
  auto seg = rc::gen::build<RawSeg>(
      rc::gen::set(&RawSeg::buffer, gen_choice({65, 25, 10})),
      rc::gen::set(&RawSeg::offset, gen_bytes(kMaxSegOffset, {10, 5, 5, 5, 75})),
      rc::gen::set(&RawSeg::len, gen_bytes(kMaxSegment / 2, {55, 15, 10, 15, 5})));
  auto op = rc::gen::build<RawExtraOp>(
      rc::gen::set(&RawExtraOp::task, gen_uniform(0, 2)),
      rc::gen::set(&RawExtraOp::at, gen_uniform(0, 8)),
      rc::gen::set(&RawExtraOp::kind, gen_choice({14, 12, 12, 10, 4, 6, 4, 6, 10, 10})),
      rc::gen::set(&RawExtraOp::offset, gen_bytes(kMaxOffset, {70, 10, 8, 7, 5})),
      rc::gen::set(&RawExtraOp::length, gen_bytes(kMaxISize, {60, 10, 10, 15, 5})),
      rc::gen::set(&RawExtraOp::flag, gen_flag(40)), rc::gen::set(&RawExtraOp::punch, gen_flag(30)),
      rc::gen::set(&RawExtraOp::seg, seg), rc::gen::set(&RawExtraOp::pick, gen_uniform(0, 3)));
  if (!o.more_ops) return rc::gen::just(RawExtras{});
  return rc::gen::build<RawExtras>(
      rc::gen::set(&RawExtras::ops, gen_list<RawExtraOp>({40, 25, 15, 12, 8}, op)),
      rc::gen::set(&RawExtras::fd_flags,
                   gen_list<size_t>({0, 0, 0, 1}, gen_choice({75, 13, 8, 4}))));
}

// ---------------------------------------------------------------------------------------------
// Assembly

ByteRuns runs(std::vector<std::pair<uint64_t, uint8_t>> parts) {
  ByteRuns r;
  for (auto [len, byte] : parts)
    if (len) r.runs.push_back({len, byte});
  return r;
}

struct Range {
  uint64_t begin = 0, end = 0; // [begin, end)
  bool overlaps(const Range& o) const { return begin < o.end && o.begin < end; }
};

Range page_range(uint64_t begin, uint64_t len, uint64_t ps) {
  return {begin / ps * ps, (begin + len + ps - 1) / ps * ps};
}

// Reaps inserted before an op that touches pages an AIO op of the same task may still use.
void serialize_overlapping_aio(ScenarioSpec& s) {
  const uint64_t ps = s.geometry.page_size;
  auto address_of = [&](const std::string& name) {
    for (const Buffer& b : s.buffers)
      if (b.name == name) return b.address;
    return uint64_t{0};
  };
  auto footprint = [&](const Operation& op) {
    std::vector<Range> file, user;
    uint64_t len = 0;
    for (const IoVec& v : op.iov) {
      len += v.len;
      if (v.len) user.push_back(page_range(address_of(v.buffer) + v.offset, v.len, ps));
    }
    // Sub-block writes zero the rest of their blocks; a page covers whole blocks.
    if (len) file.push_back(page_range(op.offset, len, ps));
    return std::pair(file, user);
  };
  auto any_overlap = [](const std::vector<Range>& a, const std::vector<Range>& b) {
    for (const Range& x : a)
      for (const Range& y : b)
        if (x.overlaps(y)) return true;
    return false;
  };
  for (Task& t : s.tasks) {
    std::vector<Operation> out;
    std::vector<std::pair<std::vector<Range>, std::vector<Range>>> in_flight;
    bool buffered = !t.o_direct;
    for (Operation& op : t.ops) {
      if (op.kind == OpKind::reap || op.kind == OpKind::barrier || op.kind == OpKind::io_cancel) {
        if (op.kind == OpKind::reap && op.events == 0) in_flight.clear(); // all have completed
        out.push_back(std::move(op));
        continue;
      }
      buffered = buffered || (op.kind == OpKind::fcntl && !op.o_direct);
      const auto fp = footprint(op);
      // The other ops, buffered I/O (readahead reaches past its range) and appends (the offset
      // is i_size) wait for everything in flight: their footprint is not their iovecs'.
      const bool io = op.kind == OpKind::pread || op.kind == OpKind::pwrite;
      bool clash = !in_flight.empty() && (!io || buffered || t.o_append || op.append);
      for (const auto& f : in_flight)
        clash = clash || any_overlap(f.first, fp.first) || any_overlap(f.second, fp.second);
      if (clash) {
        Operation reap;
        reap.kind = OpKind::reap;
        out.push_back(std::move(reap));
        in_flight.clear();
      }
      if (op.aio) in_flight.push_back(fp);
      out.push_back(std::move(op));
    }
    t.ops = std::move(out);
  }
}

void set_where(ScenarioSpec& s) {
  for (size_t i = 0; i < s.tasks.size(); ++i)
    for (size_t j = 0; j < s.tasks[i].ops.size(); ++j)
      s.tasks[i].ops[j].where = "/tasks/" + std::to_string(i) + "/ops/" + std::to_string(j);
}

using RawScenario = std::tuple<std::vector<RawTask>, RawDisk, RawFs, RawFile,
                               std::vector<RawBuffer>, Geometry, RawTop, RawExtras>;

// File: extents one after another in the file and on the disk. Extent i holds letter D + 2i
// (and the next one in its second half): C and P are the page cache's, s the stale disk's,
// u W X Y the buffers'.
std::optional<ByteRuns> extent_data(size_t kind, uint64_t bytes, uint8_t letter) {
  if (kind == 1) return runs({{bytes, letter}});
  if (kind == 2)
    return runs({{bytes / 2, letter}, {bytes - bytes / 2, static_cast<uint8_t>(letter + 1)}});
  return std::nullopt;
}

// vfat has no holes: the clusters covering i_size are cut into extents of r.blocks clusters
// each (the last raw extent takes the rest), r.disk_gap clusters apart on the disk.
void assemble_vfat_extents(const RawFile& raw_file, ScenarioSpec& s) {
  const uint64_t bs = s.geometry.fs_block_size;
  const uint64_t cb = s.fs.cluster_size / bs; // kDiskBase is a multiple of every cb generated
  const uint64_t need = (raw_file.i_size + s.fs.cluster_size - 1) / s.fs.cluster_size * cb;
  uint64_t file_cursor = 0, disk_cursor = kDiskBase;
  uint8_t letter = 'D';
  for (size_t i = 0; file_cursor < need; ++i) {
    const RawExtent r = i < raw_file.extents.size() ? raw_file.extents[i] : RawExtent{};
    Extent e;
    e.file_block = file_cursor;
    e.disk_block = disk_cursor + r.disk_gap * cb;
    e.blocks = i + 1 >= raw_file.extents.size() ? need - file_cursor
                                                : std::min(r.blocks * cb, need - file_cursor);
    e.data = extent_data(r.data, e.blocks * bs, letter);
    letter = static_cast<uint8_t>(letter + 2);
    file_cursor = e.file_block + e.blocks;
    disk_cursor = e.disk_block + e.blocks;
    s.extents.push_back(std::move(e));
  }
}

void assemble_extents(const RawFile& raw_file, const GenOptions& options, ScenarioSpec& s) {
  if (s.fs.model == FsModel::vfat) return assemble_vfat_extents(raw_file, s);
  const uint64_t bs = s.geometry.fs_block_size;
  uint64_t file_cursor = 0, disk_cursor = kDiskBase;
  uint8_t letter = 'D';
  for (const RawExtent& r : raw_file.extents) {
    Extent e;
    e.file_block = file_cursor + r.gap_blocks;
    e.disk_block = disk_cursor + r.disk_gap;
    e.blocks = r.blocks;
    e.data = extent_data(r.data, e.blocks * bs, letter);
    letter = static_cast<uint8_t>(letter + 2);
    file_cursor = e.file_block + e.blocks;
    disk_cursor = e.disk_block + e.blocks;
    if (!options.extents_past_eof) {
      const uint64_t eof_blocks = (raw_file.i_size + bs - 1) / bs;
      if (e.file_block >= eof_blocks) continue;
      if (e.file_block + e.blocks > eof_blocks) {
        e.blocks = eof_blocks - e.file_block;
        if (e.data) e.data = runs({{e.blocks * bs, e.data->runs.front().byte}});
      }
    }
    s.extents.push_back(std::move(e));
  }
}

void assemble_page_cache(const RawFile& raw_file, const GenOptions& options, ScenarioSpec& s) {
  const uint64_t ps = s.geometry.page_size;
  uint64_t page_cursor = 0;
  for (const RawPage& r : raw_file.pages) {
    CachedPage p;
    p.index = page_cursor + r.gap;
    p.dirty = r.dirty && options.dirty_pages;
    p.busy = r.busy && options.busy_pages;
    p.writeback_error = r.writeback_error && options.writeback_errors;
    if (r.data == 1)
      p.data = runs({{ps, 'C'}});
    else if (r.data == 2)
      p.data = runs({{ps / 2, 'C'}, {ps - ps / 2, 'P'}});
    page_cursor = p.index + 1;
    s.page_cache.push_back(std::move(p));
  }
}

void assemble_filesystem(const RawFs& raw_fs, const GenOptions& options, uint64_t extents_end,
                         Filesystem& fs) {
  fs.max_blocks_per_map = raw_fs.max_blocks_per_map;
  if (fs.model == FsModel::extent || fs.model == FsModel::ocfs2) {
    fs.serialise_unaligned_aio = raw_fs.serialise;
    std::set<uint64_t> b(raw_fs.boundary_blocks.begin(), raw_fs.boundary_blocks.end());
    fs.boundary_blocks.assign(b.begin(), b.end());
  }
  fs.defer_completion = raw_fs.defer_completion;
  fs.set_private = raw_fs.set_private && options.set_private;
  if (raw_fs.get_block_error) {
    fs.error_at_block = raw_fs.error_block;
    fs.error_errno = kGetBlockErrnos[raw_fs.error_errno];
  }
  if (fs.model == FsModel::ocfs2 && raw_fs.end_io_error)
    fs.end_io_error = kEndIoErrnos[raw_fs.end_io_error - 1];
  if (fs.model == FsModel::ocfs2) fs.unwritten = !raw_fs.mapped_fill;
  const uint64_t alloc_start = std::max(extents_end, kDiskBase);
  fs.first_free_block = raw_fs.first_free ? alloc_start + raw_fs.first_free_gap : extents_end;
}

// A sectors rule aims at an extent (or at the blocks the allocator hands out first).
DiskErrorRule assemble_disk_error(const RawError& r, const ScenarioSpec& s) {
  const uint64_t spb = s.geometry.fs_block_size / 512; // sectors per block
  DiskErrorRule e;
  e.again = r.again;
  if (r.kind == 0) {
    e.kind = DiskErrorRule::Kind::bio_ordinal;
    e.bio = r.bio;
  } else if (r.kind == 1) {
    e.kind = DiskErrorRule::Kind::sectors;
    uint64_t block;
    if (r.target < s.extents.size()) {
      const Extent& x = s.extents[r.target];
      block = x.disk_block + r.sector_offset % x.blocks;
    } else {
      block = s.fs.first_free_block + (r.target - s.extents.size()) % 4;
    }
    block = std::min(block, s.geometry.disk_blocks - 1);
    e.sector_first = block * spb + r.sector_offset % spb;
    const uint64_t span = r.sector_span == 0 ? 0 : r.sector_span == 1 ? spb - 1 : 2 * spb - 1;
    e.sector_last = e.sector_first + span;
  } else {
    e.kind = DiskErrorRule::Kind::probability;
    e.probability = kProbabilities[r.probability];
  }
  return e;
}

void assemble_disk(const RawDisk& raw_disk, const GenOptions& options, uint64_t extents_end,
                   ScenarioSpec& s) {
  Disk& d = s.disk;
  d.latency_ns_min = kLatencies[raw_disk.latency].first;
  d.latency_ns_max = kLatencies[raw_disk.latency].second;
  d.queue_depth = static_cast<unsigned>(raw_disk.queue_depth);
  if (raw_disk.small && options.small_disks)
    s.geometry.disk_blocks = std::max(extents_end, s.fs.first_free_block) + raw_disk.spare_blocks;
  s.geometry.disk_blocks = std::max<uint64_t>(s.geometry.disk_blocks, 1);
  s.geometry.disk_blocks = std::max(s.geometry.disk_blocks, s.fs.first_free_block);
  for (const RawError& r : raw_disk.errors)
    d.errors.push_back(assemble_disk_error(r, s));
}

// used_blocks: runs from the allocator's start on (the extents all lie below it), on the disk.
void assemble_used_blocks(const RawFs& raw_fs, ScenarioSpec& s) {
  uint64_t cursor = s.fs.first_free_block;
  for (const RawUsed& r : raw_fs.used) {
    const DiskRun u{cursor + r.gap, r.blocks};
    if (u.disk_block + u.blocks > s.geometry.disk_blocks) break;
    s.fs.used_blocks.push_back(u);
    cursor = u.disk_block + u.blocks;
  }
}

// explore_faults and alloc_failures (each (site, nth) once).
void assemble_faults(const RawTop& top, const GenOptions& options, ScenarioSpec& s) {
  bool* const kinds[] = {&s.explore_faults.bio_error,         &s.explore_faults.get_block_error,
                         &s.explore_faults.user_page_fault,   &s.explore_faults.dio_alloc,
                         &s.explore_faults.dio_done_wq_alloc, &s.explore_faults.fs_block_alloc,
                         &s.explore_faults.writeback_error};
  for (size_t k : top.explore_faults)
    *kinds[k] = true;
  constexpr AllocSite kSites[] = {AllocSite::dio, AllocSite::dio_done_wq, AllocSite::fs_block};
  for (const auto& [site, nth] :
       options.alloc_failures ? top.alloc_failures : decltype(top.alloc_failures)()) {
    const AllocFailure a{kSites[site], nth};
    if (std::find(s.alloc_failures.begin(), s.alloc_failures.end(), a) == s.alloc_failures.end())
      s.alloc_failures.push_back(a);
  }
}

// Task control. A shared reaper: the last task (of two or more) takes task0's events one at a
// time through task0's context, as many as task0 submits at most, and task0 does not reap (its
// reaps could take the events the reaper waits for). A barrier: every other task waits at "b0"
// once, at its raw position.
void assemble_task_control(const RawTop& top, const std::vector<RawTask>& raw_tasks,
                           const GenOptions& options, ScenarioSpec& s) {
  if (!options.task_control) return;
  size_t workers = s.tasks.size();
  if (top.shared_reaper && workers >= 2 && !options.serialize_overlapping_aio) {
    uint64_t submitted = 0; // events task0 delivers: AIO before its fd or context goes
    for (const Operation& op : s.tasks[0].ops) {
      if (op.kind == OpKind::close || op.kind == OpKind::io_destroy) break;
      submitted += op.aio;
    }
    if (submitted) {
      Task& reaper = s.tasks.back();
      const uint64_t reaps = std::clamp<uint64_t>(reaper.ops.size(), 1, submitted);
      reaper.ops.assign(reaps, Operation{});
      for (Operation& op : reaper.ops) {
        op.kind = OpKind::reap;
        op.events = 1;
      }
      reaper.aio_context = s.tasks[0].name;
      std::erase_if(s.tasks[0].ops, [](const Operation& op) { return op.kind == OpKind::reap; });
      --workers;
    }
  }
  if (!top.barrier || workers < 2) return;
  for (size_t i = 0; i < workers; ++i) {
    std::vector<Operation>& ops = s.tasks[i].ops;
    Operation b;
    b.kind = OpKind::barrier;
    b.barrier = "b0";
    ops.insert(ops.begin() + static_cast<ptrdiff_t>(raw_tasks[i].barrier_at % (ops.size() + 1)),
               std::move(b));
  }
}

// The buffers the iovecs use, numbered in order of first use.
struct BufferUse {
  std::vector<int> buffer_of_raw = std::vector<int>(3, -1);
  std::vector<uint64_t> need;                              // bytes each buffer must hold
  std::vector<bool> written = std::vector<bool>(3, false); // by a pwrite
  std::vector<bool> kernel = std::vector<bool>(3, false);  // by a bvec/kvec op: always mapped
};

IoVec assemble_iovec(const RawSeg& rs, const Operation& op, const GenOptions& options,
                     BufferUse& use) {
  int& b = use.buffer_of_raw[rs.buffer];
  if (b < 0) {
    b = static_cast<int>(use.need.size());
    use.need.push_back(0);
  }
  IoVec v;
  v.buffer = "buf" + std::to_string(b);
  v.offset = rs.offset;
  v.len = rs.len;
  if (!options.aliasing_reads && op.kind == OpKind::pread && v.len) {
    bool alias = false;
    for (const IoVec& w : op.iov)
      alias = alias || (w.buffer == v.buffer && w.len && v.offset < w.offset + w.len &&
                        w.offset < v.offset + v.len);
    if (alias) v.offset = use.need[b];
  }
  use.need[b] = std::max(use.need[b], v.offset + v.len);
  if (op.kind == OpKind::pwrite || op.kind == OpKind::mmap_write) use.written[b] = true;
  if (op.iter == IterKind::bvec || op.iter == IterKind::kvec) use.kernel[b] = true;
  return v;
}

// One of the new ops (kExtraKinds). io_cancel's iocb is a pick among the AIO ops still in
// flight, resolved once every op is in place (resolve_io_cancels).
Operation assemble_extra(const RawExtraOp& r, const GenOptions& options, BufferUse& use) {
  Operation op;
  op.kind = kExtraKinds[r.kind];
  switch (op.kind) {
  case OpKind::fcntl:
    op.o_direct = r.flag; // mostly clears O_DIRECT: the buffered path
    break;
  case OpKind::ftruncate:
    op.length = r.length;
    break;
  case OpKind::fallocate:
    // Most punches carry KEEP_SIZE (without it: -EOPNOTSUPP); len 0 is -EINVAL.
    op.offset = r.offset;
    op.length = r.length;
    op.punch_hole = r.punch;
    op.keep_size = r.flag || (r.punch && r.pick != 0);
    break;
  case OpKind::fsync:
    op.datasync = r.flag;
    break;
  case OpKind::chattr:
    op.sync = !r.flag; // mostly +S
    break;
  case OpKind::io_cancel:
    op.iocb = r.pick;
    break;
  case OpKind::mmap_read:
  case OpKind::mmap_write:
    op.offset = r.offset;
    op.iov.push_back(assemble_iovec(r.seg, op, options, use));
    break;
  default: // close, io_destroy: no fields
    break;
  }
  return op;
}

// ftruncate, fallocate and chattr are refused on the vfat model by the parser (FAT has neither
// fat_setattr's truncate nor FS_IOC_SETFLAGS modelled), so they are not generated there.
bool extra_allowed(OpKind kind, const ScenarioSpec& s) {
  return s.fs.model != FsModel::vfat ||
         (kind != OpKind::ftruncate && kind != OpKind::fallocate && kind != OpKind::chattr);
}

void assemble_tasks(const std::vector<RawTask>& raw_tasks, const GenOptions& options,
                    BufferUse& use, ScenarioSpec& s) {
  for (size_t ti = 0; ti < raw_tasks.size() && ti < std::max(options.max_tasks, 1u); ++ti) {
    Task t;
    t.name = "task" + std::to_string(ti);
    uint64_t unreaped = 0; // AIO requests the task submitted and no reap has taken yet
    bool gone = false;     // the fd is closed or the context destroyed: AIO delivers no event
    for (const RawOp& r : raw_tasks[ti].ops) {
      if (r.kind >= 3) {
        if (!extra_allowed(kExtraKinds[r.extra.kind], s)) continue;
        t.ops.push_back(assemble_extra(r.extra, options, use));
        const OpKind k = t.ops.back().kind;
        if (k == OpKind::close || k == OpKind::io_destroy) gone = true;
        if (k == OpKind::io_destroy) unreaped = 0; // it waits for them and drops their events
        continue;
      }
      Operation op;
      op.kind = r.kind == 2 ? OpKind::reap : r.kind == 1 ? OpKind::pwrite : OpKind::pread;
      if (op.kind == OpKind::reap) {
        // A reap of N events waits for N of the task's own requests: never more than it has.
        op.events = options.task_control ? std::min<uint64_t>(r.events, unreaped) : 0;
        unreaped = op.events ? unreaped - op.events : 0;
      } else {
        unreaped += r.aio && !gone;
        op.offset = r.offset;
        op.aio = r.aio;
        op.dsync = r.dsync && op.kind == OpKind::pwrite;
        op.nowait = r.nowait && options.nowait;
        op.iter = static_cast<IterKind>(r.iter);
        if (op.iter == IterKind::ubuf && r.iov.size() != 1) op.iter = IterKind::iovec;
        for (const RawSeg& rs : r.iov) {
          IoVec v = assemble_iovec(rs, op, options, use);
          op.iov.push_back(std::move(v));
        }
      }
      t.ops.push_back(std::move(op));
    }
    s.tasks.push_back(std::move(t));
  }
}

void assemble_buffers(const std::vector<RawBuffer>& raw_buffers, const GenOptions& options,
                      const BufferUse& use, ScenarioSpec& s) {
  const uint64_t ps = s.geometry.page_size;
  for (size_t raw_index = 0; raw_index < use.buffer_of_raw.size(); ++raw_index) {
    const int b = use.buffer_of_raw[raw_index];
    if (b < 0) continue;
    const RawBuffer r = raw_index < raw_buffers.size() ? raw_buffers[raw_index] : RawBuffer{};
    if (s.buffers.size() <= static_cast<size_t>(b)) s.buffers.resize(b + 1);
    Buffer& buf = s.buffers[b];
    buf.name = "buf" + std::to_string(b);
    buf.address = (uint64_t{1} << 20) * (b + 1) + r.misalign;
    buf.size = std::max<uint64_t>(use.need[b] + r.slack, 1);
    buf.fill = kFills[r.fill];
    const uint64_t pages = (buf.address + buf.size - 1) / ps - buf.address / ps + 1;
    std::set<uint64_t> unmapped;
    for (uint64_t p : r.unmapped)
      if (p < pages && (options.write_faults || !use.written[b]) && !use.kernel[b])
        unmapped.insert(p);
    buf.unmapped_pages.assign(unmapped.begin(), unmapped.end());
  }
}

// The raw tasks with the new ops inserted where they were drawn.
std::vector<RawTask> merge_extras(std::vector<RawTask> tasks, const RawExtras& extras,
                                  const GenOptions& options) {
  const size_t n = std::min<size_t>(tasks.size(), std::max(options.max_tasks, 1u));
  if (!options.more_ops || n == 0) return tasks;
  for (const RawExtraOp& e : extras.ops) {
    std::vector<RawOp>& ops = tasks[e.task % n].ops;
    RawOp r;
    r.kind = 3 + e.kind;
    r.extra = e;
    ops.insert(ops.begin() + static_cast<ptrdiff_t>(e.at % (ops.size() + 1)), r);
  }
  return tasks;
}

// EXCLUDED: buffered I/O on the ocfs2 model. Real ocfs2 serialises a direct read against a
// buffered write with its own ocfs2_rw_lock (fs/ocfs2/file.c), which the model does not have
// (it passes flags 0: no DIO_LOCKING), so a direct read can map the block a concurrent
// buffered write allocated before the write's page is dirty, and read it unwritten
// (stale-data; diosim fuzz --seed 1 --case 511 / 1838 before this exclusion). Until the model
// has that lock, fds on ocfs2 keep O_DIRECT (fcntl ops set it, not clear it).
void apply_fd_flags(const RawExtras& extras, ScenarioSpec& s) {
  const bool ocfs2 = s.fs.model == FsModel::ocfs2;
  for (size_t i = 0; i < s.tasks.size() && i < extras.fd_flags.size(); ++i) {
    s.tasks[i].o_direct = ocfs2 || (extras.fd_flags[i] & 1) == 0;
    s.tasks[i].o_append = (extras.fd_flags[i] & 2) != 0;
  }
  if (ocfs2)
    for (Task& t : s.tasks)
      for (Operation& op : t.ops)
        if (op.kind == OpKind::fcntl) op.o_direct = true;
}

// Once every op is in place: each io_cancel names an AIO op of its task that may still be in
// flight (no full reap or io_destroy since), picked by its raw number, or is dropped when there
// is none; RWF_NOWAIT is dropped on an fd that is or may become buffered (the parser refuses
// it: buffered RWF_NOWAIT is not modelled).
void settle_extras(ScenarioSpec& s) {
  for (Task& t : s.tasks) {
    std::vector<Operation> out;
    std::vector<size_t> in_flight; // indices into out
    bool buffered = !t.o_direct;
    for (Operation& op : t.ops) {
      buffered = buffered || (op.kind == OpKind::fcntl && !op.o_direct);
      if ((op.kind == OpKind::reap && op.events == 0) || op.kind == OpKind::io_destroy)
        in_flight.clear();
      if (op.kind == OpKind::io_cancel) {
        if (in_flight.empty()) continue;
        op.iocb = in_flight[op.iocb % in_flight.size()];
      }
      if ((op.kind == OpKind::pread || op.kind == OpKind::pwrite) && op.aio)
        in_flight.push_back(out.size());
      out.push_back(std::move(op));
    }
    if (buffered)
      for (Operation& op : out)
        op.nowait = false;
    t.ops = std::move(out);
  }
}

ScenarioSpec assemble(const RawScenario& raw, const GenOptions& options) {
  const auto& [raw_tasks0, raw_disk, raw_fs, raw_file, raw_buffers, geometry, raw_top, raw_extras] =
      raw;
  const std::vector<RawTask> raw_tasks = merge_extras(raw_tasks0, raw_extras, options);
  ScenarioSpec s;
  s.name = "generated";
  s.mode = raw_top.mode == 1 ? Mode::explore : Mode::timed;
  s.seed = raw_top.seed;
  s.step_cost_ns = kStepCosts[raw_top.step_cost];
  s.geometry = geometry;
  if (!options.sub_page_blocks && s.geometry.fs_block_size < s.geometry.page_size) {
    s.geometry.fs_block_size = s.geometry.page_size;
    s.geometry.logical_block_size = std::min(s.geometry.logical_block_size, s.geometry.page_size);
  }
  s.i_size = static_cast<int64_t>(raw_file.i_size);
  constexpr FsModel kModels[] = {FsModel::ext2, FsModel::extent, FsModel::ocfs2, FsModel::vfat};
  s.fs.model = kModels[raw_fs.model];
  if (s.fs.model == FsModel::vfat)
    s.fs.cluster_size = s.geometry.fs_block_size << raw_fs.cluster_shift;
  assemble_extents(raw_file, options, s);
  uint64_t extents_end = 0;
  for (const Extent& e : s.extents)
    extents_end = std::max(extents_end, e.disk_block + e.blocks);
  assemble_page_cache(raw_file, options, s);
  assemble_filesystem(raw_fs, options, extents_end, s.fs);
  assemble_disk(raw_disk, options, extents_end, s);
  assemble_used_blocks(raw_fs, s);
  assemble_faults(raw_top, options, s);
  BufferUse use;
  assemble_tasks(raw_tasks, options, use, s);
  assemble_task_control(raw_top, raw_tasks, options, s);
  assemble_buffers(raw_buffers, options, use, s);
  if (options.two_files && s.tasks.size() >= 2 && raw_top.seed % 4 == 2) {
    FileSpec second; // empty: its blocks come from the allocator the default file uses too
    second.name = "file2";
    s.files.push_back(std::move(second));
    s.tasks[1].file = "file2";
  }
  apply_fd_flags(raw_extras, s);
  if (options.serialize_overlapping_aio) serialize_overlapping_aio(s);
  settle_extras(s);
  set_where(s);
  return s;
}

} // namespace

rc::Gen<Geometry> gen_geometry() {
  struct Sizes {
    unsigned page, block, lbs;
  };
  static constexpr Sizes kSizes[] = {
      {4096, 4096, 512},  // the kernel's usual: 4 KiB pages and blocks, 512-byte sectors
      {4096, 1024, 512},  // four blocks per page
      {4096, 2048, 512},  // two blocks per page
      {4096, 4096, 4096}, // a 4Kn disk: sector-aligned requests are misaligned
      {4096, 2048, 1024}, {8192, 2048, 512}, // bigger pages
      {4096, 512, 512},                      // eight blocks per page, blocks of one sector
  };
  return rc::gen::map(rc::gen::tuple(gen_choice({40, 15, 10, 8, 7, 10, 10}),
                                     gen_default_or(64, 1, 4, 50), gen_default_or(256, 1, 4, 50),
                                     gen_default_or(64, 0, 4, 40), gen_default_or(32, 1, 4, 40)),
                      [](const std::tuple<size_t, uint64_t, uint64_t, uint64_t, uint64_t>& t) {
                        Geometry g;
                        const Sizes& z = kSizes[std::get<0>(t)];
                        g.page_size = z.page;
                        g.fs_block_size = z.block;
                        g.logical_block_size = z.lbs;
                        g.dio_pages = static_cast<unsigned>(std::get<1>(t));
                        g.bio_max_vecs = static_cast<unsigned>(std::get<2>(t));
                        g.reap_threshold = static_cast<int>(std::get<3>(t));
                        g.plug_limit = static_cast<unsigned>(std::get<4>(t));
                        return g;
                      });
}

rc::Gen<ScenarioSpec> gen_scenario(const GenOptions& options) {
  const GenOptions o = options;
  std::vector<unsigned> task_weights = {0, 50, 30, 20};
  task_weights.resize(std::clamp(o.max_tasks, 1u, 3u) + 1);
  // The parts are independent (sizes are in bytes, placed by assemble), so each shrinks on its
  // own at every step; the tuple's order is the order shrinks are tried in.
  return rc::gen::map(rc::gen::tuple(gen_list<RawTask>(task_weights, gen_task(o)), gen_disk(o),
                                     gen_fs(), gen_file(),
                                     gen_list<RawBuffer>({40, 30, 20, 10}, gen_buffer()),
                                     gen_geometry(), gen_top(o), gen_extras(o)),
                      [o](const RawScenario& raw) { return assemble(raw, o); });
}

} // namespace diosim::model
