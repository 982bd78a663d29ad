// SPDX-License-Identifier: GPL-2.0-only
// A scenario: everything one run needs, parsed from a JSON file (scenarios/schema.json).
//
// Owns: the plain data of a scenario and its parser. Parsing validates against the JSON Schema
// embedded from scenarios/schema.json, then checks what a schema cannot (references between
// fields, geometry rules). Errors name the file, the JSON path and the problem.
// Invariant: a ScenarioSpec that parsed is internally consistent; the world never has to
// second-guess it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace diosim::scenario {

// A byte pattern written as runs: "4096:A 512:zero 100:s". Each run is LEN ':' BYTE where BYTE
// is one printable ASCII character (that byte), or the word "zero" (0x00).
struct ByteRuns {
  struct Run {
    uint64_t len = 0;
    uint8_t byte = 0;
    friend bool operator==(const Run&, const Run&) = default;
  };
  // The same runs (not merely the same bytes: "1:A 1:A" differs from "2:A").
  friend bool operator==(const ByteRuns&, const ByteRuns&) = default;
  std::vector<Run> runs;
  uint64_t size() const;
  std::vector<uint8_t> expand() const;
  // expand() == the `len` bytes at `data`, without expanding (checked once per execution).
  bool matches(const uint8_t* data, size_t len) const;
  static std::optional<ByteRuns> parse(const std::string& text, std::string* error);
  static std::string describe(const uint8_t* data, size_t len); // inverse of parse
};

struct Geometry {
  unsigned page_size = 4096;
  unsigned fs_block_size = 4096;
  unsigned logical_block_size = 512; // of the device
  uint64_t disk_blocks = 1024;       // in fs blocks
  unsigned dio_pages = 64;
  unsigned bio_max_vecs = 256;
  int reap_threshold = 64;
  unsigned plug_limit = 32;
  unsigned cpus = 2; // simulated CPUs, one irq context each
};

struct Extent {
  uint64_t file_block = 0;
  uint64_t disk_block = 0;
  uint64_t blocks = 0;
  std::optional<ByteRuns> data; // contents of the extent (default: the disk's stale pattern)
};

enum class FsModel : uint8_t { ext2, extent, ocfs2, vfat };

// Disk blocks [disk_block, disk_block + blocks): other files' data the allocator must skip.
struct DiskRun {
  uint64_t disk_block = 0;
  uint64_t blocks = 0;
  friend bool operator==(const DiskRun&, const DiskRun&) = default;
};

struct Filesystem {
  FsModel model = FsModel::ext2;
  uint64_t max_blocks_per_map = 0; // 0: no limit beyond the model's own
  std::vector<uint64_t>
      boundary_blocks;           // extent/ocfs2 models: file blocks that end a run with BH_Boundary
  bool defer_completion = false; // set BH_Defer_Completion on mapped results
  bool set_private = false;      // set b_private; end_io checks it comes back
  std::optional<uint64_t> error_at_block; // get_block fails for this file block
  int error_errno = -5;                   // the errno get_block returns there
  int end_io_error = 0;                   // ocfs2 model: what end_io returns (0 or -errno)
  uint64_t first_free_block = 0;          // allocator start (default: after the last extent)
  std::vector<DiskRun> used_blocks;       // free space fragmented by other files
  // ocfs2: holes filled as unwritten extents that end_io converts; false: mapped at once (the
  // stale-data quirk, opt-in). One default everywhere (files and specs built in code); the
  // other models ignore it (a file may not set it for them).
  bool unwritten = true;
  uint64_t cluster_size = 0;            // vfat: bytes per cluster (0: fs_block_size)
  bool serialise_unaligned_aio = false; // extent/ocfs2: inode_dio_wait before an unaligned
                                        // AIO write (-EAGAIN with NOWAIT), as ext4/XFS do
};

struct DiskErrorRule {
  enum class Kind : uint8_t { bio_ordinal, sectors, probability } kind = Kind::bio_ordinal;
  uint64_t bio = 0; // bio_ordinal: the Nth bio the disk receives (1-based)
  uint64_t sector_first = 0, sector_last = 0; // sectors: inclusive range a bio overlaps
  double probability = 0;                     // probability: per bio
  bool again = false;                         // BLK_STS_AGAIN instead of BLK_STS_IOERR
};

// Allocations that can fail with -ENOMEM ("alloc_failures").
enum class AllocSite : uint8_t { dio, dio_done_wq, fs_block };
struct AllocFailure {
  AllocSite site = AllocSite::dio;
  uint64_t nth = 1; // the nth allocation at `site` in the run fails (1-based)
  friend bool operator==(const AllocFailure&, const AllocFailure&) = default;
};
const char* alloc_site_name(AllocSite site); // "dio", "dio_done_wq", "fs_block"

struct Disk {
  uint64_t latency_ns_min = 20'000;
  uint64_t latency_ns_max = 200'000;
  unsigned queue_depth = 32;
  char stale_byte = 's'; // what never-written disk blocks hold
  std::vector<DiskErrorRule> errors;
};

struct CachedPage {
  uint64_t index = 0; // page index in the file
  bool dirty = false;
  bool busy = false;            // invalidate_inode_pages2_range fails on it (-EBUSY)
  bool writeback_error = false; // every writeback of it fails: -EIO through the mapping
  std::optional<ByteRuns> data; // contents (default: what the disk holds)
};

// A buffer that maps a file ("mmap"): mmap(address, size, PROT_READ|PROT_WRITE, MAP_SHARED or
// MAP_PRIVATE, fd of `file`, offset). Its pages are the file's page-cache pages (private: a
// write fault copies the page first); docs/SCENARIOS.md "Buffers that map a file".
struct FileMapping {
  std::string file = "file"; // a name of scenario_files.hpp: "file" or one of "files"
  uint64_t offset = 0;       // file offset of the buffer's first byte; page-aligned
  bool private_mapping = false;
  friend bool operator==(const FileMapping&, const FileMapping&) = default;
};

struct Buffer {
  std::string name;
  uint64_t address = 0; // user virtual address of the first byte
  uint64_t size = 0;
  uint8_t fill = 'u';
  std::vector<uint64_t> unmapped_pages; // page indexes from the page holding `address`
  std::optional<FileMapping> mmap;      // set: the buffer maps a file (no fill, all mapped)
};

struct IoVec {
  std::string buffer;
  uint64_t offset = 0; // into the buffer
  uint64_t len = 0;
};

// The outcomes an expectation allows ({"one_of": [...]} in a file). A plain value in a file is a
// set of one, so a OneOf converts implicitly from a T. Parsed sets are never empty.
template <typename T> struct OneOf {
  std::vector<T> values;
  OneOf() = default;
  OneOf(T value) : values{std::move(value)} {} // NOLINT(google-explicit-constructor)
  explicit OneOf(std::vector<T> allowed) : values(std::move(allowed)) {}
  bool allows(const T& actual) const {
    return std::find(values.begin(), values.end(), actual) != values.end();
  }
  friend bool operator==(const OneOf& a, const OneOf& b) { return a.values == b.values; }
  // Membership: code written when an expectation held one value keeps its meaning.
  friend bool operator==(const OneOf& allowed, const T& actual) { return allowed.allows(actual); }
};

struct Expect {
  std::optional<OneOf<int64_t>> ret;        // return value (or AIO completion result)
  std::optional<OneOf<int64_t>> submit_ret; // AIO: what the submission path returned
  // What the user buffer ranges of the op hold afterwards; every element has their total length.
  std::optional<OneOf<ByteRuns>> data;
  std::optional<std::string> data_fnv1a; // or their FNV-1a 64 checksum, 16 hex digits
  std::optional<OneOf<int64_t>> i_size;  // after the op
};

// reap: io_getevents on the task's AIO context; barrier: wait for the other tasks that name the
// same barrier (task control, not I/O); fcntl: F_SETFL on the task's fd, setting or clearing
// O_DIRECT (pread/pwrite on an fd without it are buffered). A "repeat" block in a file is
// expanded by the parser. ftruncate, fallocate, fsync: inode operations (scenario_ops_inode.cpp,
// world/inode_ops.cpp). mmap_read, mmap_write: a memcpy between the op's one iovec and a shared
// mapping of the file at `offset` (world/mmap.cpp; docs/SCENARIOS.md). close, io_cancel,
// io_destroy, chattr: fd and AIO-context operations (scenario_ops_fd.cpp, world/fd_ops.cpp).
// memset: the task stores `fill` into its own memory (the op's iovecs), a page at a time, while
// I/O may be using it (world/user_store.cpp): no syscall, no file.
enum class OpKind : uint8_t {
  pread,
  pwrite,
  reap,
  barrier,
  ftruncate,
  fallocate,
  fsync,
  fcntl,
  mmap_read,
  mmap_write,
  close,
  io_cancel,
  io_destroy,
  chattr,
  memset
};
// The inode operations: no iovecs, no user memory.
inline bool is_inode_op(OpKind k) {
  return k == OpKind::ftruncate || k == OpKind::fallocate || k == OpKind::fsync;
}
// Access through a shared mapping of the file: page faults, no syscall, no O_DIRECT.
inline bool is_mmap_op(OpKind k) {
  return k == OpKind::mmap_read || k == OpKind::mmap_write;
}

// The fd and AIO-context operations: no iovecs, no user memory, no file bytes.
inline bool is_fd_op(OpKind k) {
  return k == OpKind::close || k == OpKind::io_cancel || k == OpKind::io_destroy ||
         k == OpKind::chattr;
}

// The iov_iter a read or write comes with ("iter"): user memory (ITER_IOVEC, the default, as
// preadv/pwritev make; ITER_UBUF, one segment, as io_uring's single-buffer requests make) or
// kernel memory (ITER_BVEC: pages, as the loop driver sends; ITER_KVEC: kernel virtual
// addresses). Only user-backed iterators dirty the pages a read fills (dio->should_dirty).
enum class IterKind : uint8_t { iovec, ubuf, bvec, kvec };
const char* iter_kind_name(IterKind kind); // "iovec", "ubuf", "bvec", "kvec"

struct Operation {
  OpKind kind = OpKind::pread;
  uint64_t offset = 0; // file offset
  std::vector<IoVec> iov;
  bool aio = false;
  bool dsync = false;
  bool nowait = false;
  IterKind iter = IterKind::iovec; // pread/pwrite: what the iovecs are (kernel memory or user)
  // reap: how many events to wait for and take (io_getevents min_nr = nr); 0 waits for every
  // request of the context in flight when the reap starts.
  uint64_t events = 0;
  std::string barrier;  // barrier: its name
  bool o_direct = true; // fcntl: whether the fd has O_DIRECT afterwards
  // Inode operations (docs/SCENARIOS.md): ftruncate's new size or fallocate's len ("size" /
  // "len" in a file); fallocate's FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE (which needs
  // KEEP_SIZE); fsync's fdatasync; pwrite's RWF_APPEND (the write goes to i_size).
  uint64_t length = 0;
  bool keep_size = false;
  bool punch_hole = false;
  bool datasync = false;
  bool append = false;
  // pread/pwrite and the inode ops, fcntl: the file it acts on ("file" in a file; empty: the
  // task's file). See file_of() in scenario_files.hpp.
  std::string file;
  // io_cancel: the iocb it names, as the index of an earlier AIO pread/pwrite in the task's ops
  // (repeat blocks expanded). chattr: whether the inode is S_SYNC afterwards (+S / -S).
  uint64_t iocb = 0;
  bool sync = true;
  uint8_t fill = 0; // memset: the byte stored
  Expect expect;
  // JSON path, for messages ("/tasks/0/ops/1"); inside an expanded repeat block the path of the
  // op in the file, then which repetition ("/tasks/0/ops/1/ops/0 (repeat 3 of 8)").
  std::string where;
};

struct Task {
  std::string name;
  std::vector<Operation> ops;
  // The AIO context (io_setup) the task submits to and reaps from; tasks naming the same one
  // share it. Empty: the task's own context.
  std::string aio_context;
  // The open file description the task's ops use: tasks naming the same one share it (and its
  // O_DIRECT flag, which fcntl changes). Empty: the task's own, named after the task.
  std::string fd;
  bool o_direct = true;  // the fd's O_DIRECT flag when opened (tasks sharing an fd agree)
  bool o_append = false; // the fd's O_APPEND flag: every write goes to i_size (tasks agree)
  std::string file;      // the file the fd is open on (empty: the default file; sharers agree)
  const std::string& fd_name() const { return fd.empty() ? name : fd; }
  // The context's name: aio_context, or the task's name for its own.
  const std::string& context_name() const { return aio_context.empty() ? name : aio_context; }
};

struct FileExpect {
  uint64_t offset = 0;
  ByteRuns data; // file contents at offset, read through the block map (holes read as zero)
};

// A file besides the default one ("files"): its own inode and page cache on the shared disk
// and filesystem model. The default file's fields are ScenarioSpec's own (i_size, extents,
// page_cache, expect_i_size, expect_file); these are the same for another file.
struct FileSpec {
  std::string name;
  int64_t i_size = 0;
  std::vector<Extent> extents;
  std::vector<CachedPage> page_cache;
  std::optional<OneOf<int64_t>> expect_i_size;
  std::vector<FileExpect> expect_file;
};
inline constexpr const char* kDefaultFileName = "file";

enum class Mode : uint8_t { timed, explore };

// Fault points the explorer may choose at ("explore_faults"): each bio completes OK or with an
// error; each get_block call fails or not; each user page pinned faults or not; each allocation
// at an AllocSite fails (-ENOMEM) or not; each page writeback fails (-EIO) or not.
struct ExploreFaults {
  bool bio_error = false;
  bool get_block_error = false;
  bool user_page_fault = false;
  bool dio_alloc = false;         // kmem_cache_alloc of the struct dio (fs/direct-io.c:1121)
  bool dio_done_wq_alloc = false; // sb_init_dio_done_wq's workqueue (fs/direct-io.c:565, 1196)
  bool fs_block_alloc = false;    // the filesystem's block allocation in get_block (create)
  bool writeback_error = false;   // each dirty page written back
  friend bool operator==(const ExploreFaults&, const ExploreFaults&) = default;
};

struct ScenarioSpec {
  std::string name;
  std::string description;
  std::string path; // the file it came from
  Geometry geometry;
  Filesystem fs;
  Disk disk;
  int64_t i_size = 0;
  std::vector<Extent> extents;
  std::vector<CachedPage> page_cache;
  std::vector<AllocFailure> alloc_failures;
  std::vector<Buffer> buffers;
  std::vector<Task> tasks;
  Mode mode = Mode::timed;
  uint64_t seed = 1;
  uint64_t step_cost_ns = 100;
  // A pinned interleaving (schedule token text) that `diosim run` replays when no --schedule is
  // given. Only its JSON type is checked here; the engine parses the token.
  std::optional<std::string> schedule;
  ExploreFaults explore_faults;
  std::optional<OneOf<int64_t>> expect_i_size; // at the end
  std::optional<uint64_t> expect_bios;         // bios allocated in the whole run
  std::vector<FileExpect> expect_file;         // at the end
  // Files besides the default one, in the order the scenario lists them (file index k + 1;
  // scenario_files.hpp). Empty: a single-file scenario, as before "files" existed.
  std::vector<FileSpec> files;
};

// A scenario with more problems than this lists the first ones, then "FILE: and K more
// problems ..." (docs/SCENARIOS.md).
inline constexpr size_t kMaxReportedErrors = 20;

// A scenario that cannot be used; what() is "FILE: /json/path: problem", one line per problem.
class ScenarioError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

ScenarioSpec load_scenario(const std::string& path); // reads and parses
// The scenario files in `dir` (*.json except schema.json), sorted by name.
std::vector<std::string> list_scenario_files(const std::string& dir);
ScenarioSpec parse_scenario(const std::string& json_text, const std::string& path);

} // namespace diosim::scenario
