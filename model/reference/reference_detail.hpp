// SPDX-License-Identifier: GPL-2.0-only
// Internals of the reference model (model/reference*.cpp); not an interface.
//
// The model executes the scenario's operations one after another ("serially", tasks in order,
// each task's operations in order) on an abstract state: the file's block map and block
// contents, the page cache, i_size and the user buffers. Bytes are sets of allowed values
// (Cells), so an outcome that may differ between runs (a bio that may fail, a concurrent writer)
// widens the bytes it touches instead of being guessed. An operation whose failure would change
// the state's structure (i_size, block map, cache) splits the run into two "worlds"; the
// results of all worlds are united. Concurrency is handled afterwards by rules on each pair of
// operations that may overlap in time (reference.cpp).
//
// Nothing here may include sim/dio/, sim/kernel/ or sim/world/world.hpp
// (tests/reference_isolation_test.cpp).
#pragma once

#include "model/reference/reference.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace diosim::model::refm {

// Linux errno values (asm-generic/errno-base.h, errno.h, include/linux/errno.h).
constexpr int64_t kEIO = -5, kEBADF = -9, kEAGAIN = -11, kENOMEM = -12, kEFAULT = -14,
                  kENOTBLK = -15, kEBUSY = -16, kEINVAL = -22, kENOSPC = -28, kEOPNOTSUPP = -95,
                  kEIOCBQUEUED = -529;

// The byte the simulator reports for user memory that is not mapped (mirrors
// world::UserMemory::kUnmappedByte; the model may not include that header).
constexpr uint8_t kUnmappedByte = '?';

// The counters reference_counters() reports.
ReferenceCounters& counters();

// A set of byte values.
struct ByteSet {
  uint64_t w[4] = {0, 0, 0, 0};
  static ByteSet of(uint8_t x) {
    ByteSet s;
    s.set(x);
    return s;
  }
  static ByteSet all_values() {
    ByteSet s;
    for (uint64_t& x : s.w)
      x = ~0ull;
    return s;
  }
  void set(uint8_t x) { w[x >> 6] |= 1ull << (x & 63); }
  bool test(uint8_t x) const { return (w[x >> 6] >> (x & 63)) & 1; }
  bool none() const { return !(w[0] | w[1] | w[2] | w[3]); }
  bool all() const { return (w[0] & w[1] & w[2] & w[3]) == ~0ull; }
  unsigned count() const {
    return static_cast<unsigned>(__builtin_popcountll(w[0]) + __builtin_popcountll(w[1]) +
                                 __builtin_popcountll(w[2]) + __builtin_popcountll(w[3]));
  }
  uint8_t first() const { // the smallest member (the set is not empty)
    for (unsigned k = 0; k < 4; ++k)
      if (w[k]) return static_cast<uint8_t>(k * 64 + static_cast<unsigned>(__builtin_ctzll(w[k])));
    return 0;
  }
  std::vector<uint8_t> values() const {
    std::vector<uint8_t> out;
    for (unsigned k = 0; k < 4; ++k)
      for (uint64_t m = w[k]; m; m &= m - 1)
        out.push_back(static_cast<uint8_t>(k * 64 + static_cast<unsigned>(__builtin_ctzll(m))));
    return out;
  }
  ByteSet operator|(const ByteSet& o) const {
    ByteSet r;
    for (unsigned k = 0; k < 4; ++k)
      r.w[k] = w[k] | o.w[k];
    return r;
  }
  bool operator==(const ByteSet& o) const {
    return w[0] == o.w[0] && w[1] == o.w[1] && w[2] == o.w[2] && w[3] == o.w[3];
  }
  bool operator!=(const ByteSet& o) const { return !(*this == o); }
};

// A run of bytes, each with one value or a set of allowed values. A run whose bytes all hold
// one exact value (a scenario's fill, a zeroed block, stale bytes) is kept as that value, not
// as bytes: the model's blocks, write logs and user buffers then cost what is not a fill, and a
// 1 GiB write of a filled buffer costs no byte memory. Operations keep the one-value form when
// their result is one value throughout; anything else expands it (`dense`).
class Cells {
public:
  Cells() = default;
  Cells(uint64_t n, uint8_t fill) : n_(n), fill_(fill) {}
  static Cells of(const uint8_t* bytes, uint64_t n); // exact bytes
  uint64_t size() const { return n_; }
  uint8_t value(uint64_t i) const { return v_.empty() ? fill_ : v_[i]; }
  bool exact(uint64_t i) const { return sets_.empty() || sets_[i].none(); }
  ByteSet at(uint64_t i) const { return exact(i) ? ByteSet::of(value(i)) : sets_[i]; }
  // The one exact value of every byte, when the run is kept in that form.
  std::optional<uint8_t> one_value() const {
    return v_.empty() && n_ ? std::optional<uint8_t>(fill_) : std::nullopt;
  }
  bool has_sets() const { return !sets_.empty(); }
  // Appends the bytes' values to `out` (one per byte).
  void append_values(std::vector<uint8_t>& out) const;
  void put(uint64_t i, uint8_t x) {
    if (v_.empty() && x == fill_) return; // one-value form: sets_ is empty
    dense();
    v_[i] = x;
    if (!sets_.empty()) sets_[i] = ByteSet();
  }
  void put(uint64_t i, const ByteSet& s);
  void widen(uint64_t i, const ByteSet& s) { put(i, at(i) | s); }
  void fill(uint64_t off, uint64_t n, uint8_t x);
  void any(uint64_t off, uint64_t n); // every value allowed
  // this[dst, dst+n) := src[so, so+n) (values and sets), or the union of both.
  void copy_from(uint64_t dst, const Cells& src, uint64_t so, uint64_t n);
  void widen_from(uint64_t dst, const Cells& src, uint64_t so, uint64_t n);
  void widen_fill(uint64_t off, uint64_t n, uint8_t x);
  Cells slice(uint64_t off, uint64_t n) const;
  bool operator==(const Cells& o) const;
  // Alternative sets: empty while every byte has one value; else one per byte, empty for a byte
  // with the single value value(i) (a non-empty set has two or more members, value(i) among
  // them).
  const std::vector<ByteSet>& sets() const { return sets_; }

private:
  void dense(); // leaves the one-value form: one byte per value

  uint64_t n_ = 0;
  std::vector<uint8_t> v_; // empty: every byte is fill_ (and sets_ is empty)
  uint8_t fill_ = 0;
  std::vector<ByteSet> sets_;
};

// Copy-on-write storage: the driver copies the whole State once per operation and branch, so
// the copy shares every buffer and block, and the first write to one copies only that one. The
// model then costs what the operations touch, not operations x state size.
template <typename T> class Cow {
public:
  Cow() : p_(std::make_shared<T>()) {}
  Cow(T value) : p_(std::make_shared<T>(std::move(value))) {} // NOLINT(google-explicit-constructor)
  const T& get() const { return *p_; }
  T& mut() {
    if (p_.use_count() > 1) p_ = std::make_shared<T>(*p_);
    return *p_;
  }

private:
  std::shared_ptr<T> p_;
};

struct Range {
  uint64_t begin = 0, end = 0; // [begin, end)
  bool overlaps(const Range& o) const { return begin < o.end && o.begin < end; }
};

struct Page {
  Cells bytes;
  bool dirty = false;             // some block of it is dirty
  std::vector<char> dirty_blocks; // per fs block of the page (buffer_head dirty bits)
  bool busy = false;
  bool writeback_error = false; // every writeback of it fails (R-WRITEBACK-ERROR)
};

// An ext2 indirect block: the first file block it covers and how many it covers.
using IndKey = std::pair<uint64_t, uint64_t>;

// The file as the filesystem and the page cache hold it.
struct FileState {
  int64_t i_size = 0;
  std::map<uint64_t, int64_t> map;        // file block -> disk block; absent: a hole
  std::map<uint64_t, Cow<Cells>> content; // file block -> its bytes on disk (mapped blocks only)
  uint64_t next_free = 0;                 // the allocator's cursor (disk block)
  std::map<uint64_t, uint64_t> taken; // disk runs [first, end) allocated in this run (R-FS-ALLOC)
  std::map<IndKey, int64_t> indirect; // ext2: present indirect blocks (-1: off the model)
  uint64_t last_logical = 0, last_physical = 0;   // ext2_block_alloc_info's hint
  uint64_t mmu_private = 0;                       // vfat: bytes allocated and initialised
  std::map<uint64_t, int64_t> reserve;            // vfat: allocated blocks at or past mmu_private
  std::map<uint64_t, Cow<Cells>> reserve_content; // vfat: what the disk holds in them (R-INIT)
  std::map<uint64_t, Page> cache;                 // page index -> cached page
  bool readahead_maybe = false;      // a buffered read ran: Linux may have cached more pages
  bool alloc_uncertain = false;      // the allocator's cursor differs between runs
  std::set<uint64_t> disk_uncertain; // file blocks whose disk block differs between runs
  std::vector<Range> tainted;        // file bytes whose structure and contents are unknown
  bool isize_tainted = false;        // i_size unknown
  std::vector<std::string> taint_why;
  // R-ALLOC-FAIL: allocation attempts so far per scenario::AllocSite, and whether the
  // dio-done workqueue exists (after it does, nothing allocates it again).
  uint64_t alloc_calls[3] = {0, 0, 0};
  bool dio_done_wq = false;
  bool i_sync = false; // R-SYNC-INODE: chattr +S made the inode S_SYNC
  // R-FALLOC-PREALLOC: blocks fallocate allocated as unwritten extents (file block -> disk
  // block); they read as holes, and the first write that maps them takes them as new blocks.
  std::map<uint64_t, int64_t> prealloc;
};

struct State {
  FileState f;
  std::vector<Cow<Cells>> user; // per buffer (bytes of unmapped pages stay kUnmappedByte)
  // Pages (buffer, page of the buffer) of private file mappings written through the mapping:
  // the process's own copies from then on (R-MMAP-BUF-PRIVATE).
  std::set<std::pair<size_t, uint64_t>> cow;
};

// One iovec segment of an operation, resolved to its buffer.
struct Seg {
  uint64_t addr = 0, len = 0;
  size_t buffer = 0;
  uint64_t buf_off = 0;
  uint64_t req_off = 0; // where it starts in the request
};

// What the scenario says about one operation (world-independent).
struct OpInfo {
  size_t index = 0; // in ExpectedRun::ops
  size_t task = 0, pos = 0;
  const scenario::Operation* op = nullptr;
  // reap: no I/O of its own (a reap or a barrier); full_reap: a reap that waits for every
  // request in flight in the context (no "events"), so it orders the task's AIO before what
  // follows it.
  bool read = false, write = false, reap = false, full_reap = false;
  uint64_t barrier_generation = 0; // a barrier: how often the task reached it before
  uint64_t offset = 0, count = 0;
  std::vector<Seg> segs;
  uint64_t static_bios_max = 0; // an upper bound on the bios it can submit, whatever happens
  bool self_overlap = false;    // two of its iovecs share user bytes
  // Its fd lacks O_DIRECT when it is submitted (R-BUFFERED-OP); direct_unknown: another task
  // sharing the fd toggles O_DIRECT (fcntl), so which path it takes depends on timing.
  bool buffered = false, direct_unknown = false;
  bool fcntl = false; // an fcntl(F_SETFL): no I/O of its own (reap is set too)
  // reference_fd.cpp. fd_op: close, io_cancel, io_destroy or chattr (reap is set too; an
  // io_destroy is a full_reap). append: RWF_APPEND or the fd's O_APPEND (R-O-APPEND). bad_fd:
  // its task closed the fd before it (-EBADF); dead_ctx: its task destroyed the AIO context
  // before it (-EINVAL). unknown_why: another task closes the fd, destroys the context or
  // changes S_SYNC, so its outcome depends on timing (unchecked).
  bool fd_op = false, append = false, bad_fd = false, dead_ctx = false;
  std::string unknown_why;
};

// A write of file bytes by one operation: the values it left and the values before it.
struct WriteLog {
  uint64_t file_off = 0;
  Cells after, before;
};

// User bytes an operation filled from file bytes (direct-read I/O).
struct ReadLog {
  uint64_t data_index = 0; // into the op's data (its iovecs concatenated)
  uint64_t file_off = 0, len = 0;
};

// One operation's outcome in one world.
struct OpRecord {
  std::set<int64_t> ret, submit;
  std::optional<Cells> data;
  int64_t i_size_after = 0;
  std::set<std::string> rules;
  bool checked = true; // false: tainted, nothing about it is checked
  std::string why_unchecked;

  // For the concurrency rules.
  bool may_be_queued = false; // AIO whose submission may return -EIOCBQUEUED
  bool active = false;        // reached the page cache / direct-io at all
  Range file;                 // file bytes of the request
  Range pages;                // page-aligned file bytes it may touch
  bool cache_active = false;  // met cached pages, or did buffered I/O, or checked for pages
  bool buffered = false;
  bool allocates = false;
  bool out_of_space = false; // an allocation it tried found no free block (-ENOSPC)
  Range alloc_range;         // file bytes of blocks it allocated
  bool truncated = false;    // ext2_write_failed dropped blocks past i_size
  bool nowait = false;
  bool isize_dependent = false;      // its outcome depends on i_size (reaches past lo_isize)
  int64_t lo_isize = 0;              // the least i_size it can have seen
  std::vector<int64_t> isize_writes; // i_size values it may set (each i_size_write)
  std::vector<WriteLog> writes;
  std::vector<ReadLog> reads;
  uint64_t bios_lo = 0, bios_hi = 0; // bounds on the bios it submits

  bool wb_error = false; // a writeback it started failed (R-WRITEBACK-ERROR)

  // Whether a bio of it may / must fail (decided in the no-failure execution).
  bool may_fail = false, must_fail = false;
};

// Geometry derived from the scenario.
struct Geo {
  uint64_t ps = 4096, bs = 4096, lbs = 512;
  unsigned fs_bits = 12, lbs_bits = 9;
  uint64_t disk_blocks = 0;
  uint8_t stale = 's';
};

// Result of get_block for one call.
struct Mapping {
  int64_t err = 0;
  bool mapped = false, is_new = false;
  int64_t disk = 0;   // first disk block
  uint64_t count = 0; // fs blocks
};

class Model {
public:
  explicit Model(const scenario::ScenarioSpec& spec);

  // ---- state and filesystem (reference_state.cpp)
  State initial_state() const;
  uint64_t blocks_to_boundary(uint64_t fb) const;
  Mapping get_block(FileState& f, uint64_t fb, uint64_t maxblocks, bool create) const;
  int64_t alloc_block(FileState& f, uint64_t fb) const; // one block, for buffered I/O
  // ---- placement (reference_alloc.cpp)
  uint64_t first_free() const;
  bool disk_free(const FileState& f, uint64_t d) const;
  int64_t take_run(FileState& f, uint64_t goal, uint64_t count, bool wrap, uint64_t* got) const;
  std::vector<IndKey> ext2_path(uint64_t fb) const;
  uint64_t ext2_goal(const FileState& f, uint64_t fb, const std::vector<IndKey>& path,
                     size_t missing) const;
  int64_t allocate(FileState& f, uint64_t fb, uint64_t want, uint64_t* got) const;
  uint64_t vfat_cb() const; // blocks per cluster
  uint64_t vfat_limit(const FileState& f, uint64_t fb, bool create) const;
  void vfat_settle(FileState& f, uint64_t fb) const;
  int64_t vfat_allocate(FileState& f, uint64_t fb, uint64_t want, uint64_t* got) const;
  void vfat_truncate(FileState& f, int64_t size) const;
  void truncate_blocks(FileState& f, int64_t size) const;
  Page& get_page(FileState& f, uint64_t idx) const;
  // 0, or kEIO when a page's writeback failed (R-WRITEBACK-ERROR).
  int64_t write_and_wait(FileState& f, int64_t start, int64_t end, OpRecord& r) const;
  // R-FINAL-FILE: the end-of-run writeback of every dirty page into `content`.
  void final_writeback(FileState& f) const;
  // R-ALLOC-FAIL: counts an allocation at `site`; true when the scenario makes it fail.
  bool alloc_fails(FileState& f, scenario::AllocSite site) const;
  bool invalidate2(FileState& f, uint64_t first, uint64_t last) const; // false: -EBUSY
  void drop_clean(FileState& f, uint64_t first, uint64_t last) const;
  bool user_mapped(uint64_t addr) const;
  // First request byte at or after `from` that lies on an unmapped user page (count if none).
  uint64_t first_fault(const OpInfo& op, uint64_t from) const;
  Cells user_bytes(const State& s, const OpInfo& op, uint64_t req_off, uint64_t n) const;
  void put_user(State& s, const OpInfo& op, uint64_t req_off, const Cells& c, uint64_t co,
                uint64_t n, bool widen) const;
  Cells snapshot(const State& s, const OpInfo& op) const;
  Cells file_bytes(const FileState& f, uint64_t off, uint64_t n) const; // holes read as zero
  void put_file(FileState& f, uint64_t off, const Cells& c, uint64_t co, uint64_t n,
                bool widen) const; // mapped blocks only
  void taint(State& s, Range r, const std::string& why) const;
  static bool in_taint(const FileState& f, Range r);

  // ---- the operation (reference_vfs.cpp, reference_dio.cpp)
  // branch 0: no bio fails; branch 1: some bio fails (only when the op may fail).
  OpRecord exec(const OpInfo& op, State& s, int branch);
  OpRecord exec_io(const OpInfo& op, State& s, int branch); // pread / pwrite at op.offset
  // One way a request can end: __blockdev_direct_IO's (or dio_complete's) value, and whether
  // the submission may return -EIOCBQUEUED instead (the value then arrives as the AIO event).
  struct DioPath {
    int64_t value = 0;
    bool queued = false;
  };
  std::vector<DioPath> direct_io(const OpInfo& op, State& s, int branch, OpRecord& r);
  int64_t buffered_write(const OpInfo& op, State& s, uint64_t req_off, OpRecord& r);
  bool cont_expand_zero(State& s, uint64_t pos, OpRecord& r) const; // R-VFAT-ZERO-GAP
  bool alloc_holes(FileState& f, uint64_t begin, uint64_t end, OpRecord& r) const;
  void taint_write_failed(State& s, uint64_t pos) const;
  int64_t filemap_read(const OpInfo& op, State& s, uint64_t req_off, int64_t already, OpRecord& r);
  void resolve_fd_modes(); // sets OpInfo::buffered / direct_unknown from tasks and fcntls
  // reference_fd.cpp: sets OpInfo::bad_fd / dead_ctx / unknown_why (R-CLOSE, R-IO-DESTROY,
  // R-SYNC-INODE) and executes close, io_cancel, io_destroy, chattr, and the ops they refuse.
  void resolve_fd_states();
  // Whether exec_fd handled op (an fd op, or an op the fd's or context's state refuses).
  bool exec_fd(const OpInfo& op, State& s, OpRecord& r);
  bool dsync(const OpInfo& op, const State& s) const; // RWF_DSYNC, or the inode is S_SYNC
  // The values (and AIO submission values) an op can produce, as exec collects them.
  struct Results {
    bool aio = false;
    std::set<int64_t> rets, submits;
    void done(int64_t v, bool queued); // queued: the submission may return -EIOCBQUEUED
  };
  // reference_buffered.cpp: ops on an fd without O_DIRECT (R-BUFFERED-OP, R-READAHEAD).
  void exec_buffered_read(const OpInfo& op, State& s, OpRecord& r, Results& out);
  void exec_buffered_write(const OpInfo& op, State& s, OpRecord& r, Results& out);
  void exec_memset(const OpInfo& op, State& s, OpRecord& r) const; // R-MEMSET
  // reference_mmap.cpp: mmap_read / mmap_write through a shared mapping (R-MMAP-*).
  void exec_mmap(const OpInfo& op, State& s, OpRecord& r, Results& out);
  // reference_mmap_buffer.cpp: buffers that map the file (R-MMAP-BUF-*).
  void resolve_mappings();
  std::string mapping_in(const OpInfo& op, State& s) const;
  void refresh_mappings(const OpInfo& op, State& s) const;
  void mapping_out(const OpInfo& op, State& s, const OpRecord& r) const;
  void drop_private_copies(State& s, uint64_t size) const;
  void widen_to_mappings(const OpInfo& op, OpRecord& r) const;
  int64_t mapped_store(const OpInfo& op, State& s, uint64_t n, OpRecord& r);
  std::string exec_prologue(const OpInfo& op, const State& s, OpRecord& r) const;
  void exec_read(const OpInfo& op, State& s, int branch, OpRecord& r, Results& out);
  void exec_write(const OpInfo& op, State& s, int branch, OpRecord& r, Results& out);
  int64_t write_path_result(const OpInfo& op, State& s, const DioPath& p, bool& failed_once,
                            OpRecord& r);
  void exec_taint(const OpInfo& op, State& s, const std::string& taint_why, OpRecord& r) const;
  // ---- inode operations (reference_inode.cpp): ftruncate, fallocate, fsync.
  void exec_inode(const OpInfo& op, State& s, OpRecord& r);
  int64_t exec_ftruncate(const OpInfo& op, State& s, OpRecord& r) const;
  int64_t exec_fallocate(const OpInfo& op, State& s, OpRecord& r) const;
  int64_t exec_punch(const OpInfo& op, State& s, OpRecord& r) const;
  void zero_file_part(FileState& f, uint64_t from, uint64_t to) const;
  int64_t take_prealloc(FileState& f, uint64_t fb, uint64_t limit, uint64_t* count) const;
  // The least size an ftruncate of the scenario sets (INT64_MAX: none): i_size may drop to it.
  int64_t min_truncate_size = INT64_MAX;

  // ---- the world driver (reference.cpp)
  const scenario::ScenarioSpec& spec;
  Geo g;
  std::vector<OpInfo> ops;
  std::vector<std::vector<size_t>> barrier_ops; // per task: its barrier ops, in order
  // Set by the driver before each exec: what concurrency and earlier ops imply.
  struct ExecContext {
    std::vector<const OpRecord*> earlier; // records of ops 0..i-1 in this world
    std::vector<char> hb_before;          // hb_before[j]: op j happens before op i
    bool force_taint = false;             // the concurrency rules gave up on op i
    std::string taint_why;
    bool wb_error_taken = false; // another task took op i's writeback -EIO (R-WRITEBACK-ERROR)
  } ctx;
};

std::string errno_name(int64_t v);

} // namespace diosim::model::refm
