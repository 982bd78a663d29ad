// SPDX-License-Identifier: GPL-2.0-only
// The world: everything around direct-io.c for one run, built from a ScenarioSpec: the disk,
// the filesystem model, user memory, the page cache, the VFS objects, and the task contexts
// that issue the scenario's syscalls.
//
// The syscall layer (syscalls.cpp) calls __blockdev_direct_IO the way Linux 6.1's ext2 does:
// generic_file_read_iter / generic_file_write_iter, writes under inode_lock, i_size updated
// after an extending direct write, the remainder of a short direct I/O done through the page
// cache, AIO submit and reap.
// Invariants:
//   1. Each operation finishes exactly once; its outcome records the syscall (or AIO event)
//      result, every __blockdev_direct_IO return, and every ki_complete call the port made.
//   2. The world never reads or writes the port's private structs.
#pragma once

#include "sim/dio/direct_io.hpp"
#include "sim/scenario/byte_image.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_files.hpp"
#include "sim/world/disk.hpp"
#include "sim/world/filesystem.hpp"
#include "sim/world/page_cache.hpp"
#include "sim/world/readahead.hpp"
#include "sim/world/user_memory.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

// The user range an iterator points at now: its first non-empty segment (syscalls.cpp).
std::pair<uint64_t, size_t> current_segment(kern::iov_iter* it);

struct OpOutcome {
  std::string task;
  size_t op_index = 0;
  const Operation* op = nullptr;
  bool finished = false;
  int64_t ret = 0;                   // syscall result, or the AIO event's result
  std::optional<int64_t> submit_ret; // AIO: what the submission path returned
  std::vector<int64_t> dio_returns;  // each __blockdev_direct_IO return
  int ki_complete_calls = 0;         // iocb->ki_complete calls made by the port
  ByteImage data; // bytes of the op's iovecs when it finished (runs of one value stay runs)
  int64_t i_size_after = 0;
  int64_t ki_pos_after = 0;
};

// Each file's view of the spec (scenario::file_view without tasks), by file index; empty for a
// scenario of one file (the world then uses the spec itself). Per scenario: build it once.
using FileViews = std::vector<ScenarioSpec>;
FileViews build_file_views(const ScenarioSpec& spec);

class World {
public:
  // Call with the Kernel installed (KernelScope) and dio_init() done. `initial_disk`: the
  // disk's initial image, built once by the caller (DiskImage::initial(spec)); `initial_memory`:
  // the user buffers, built once (UserMemoryImage(spec)); `file_views`: build_file_views(spec),
  // built once; null builds them. The world borrows all three for its lifetime.
  World(const ScenarioSpec& spec, engine::Scheduler& sched, const DiskImage* initial_disk = nullptr,
        const UserMemoryImage* initial_memory = nullptr, const FileViews* file_views = nullptr);
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void start(); // spawns one task context per scenario task

  const std::vector<OpOutcome>& outcomes() const { return outcomes_; }
  // The scenario's files (scenario_files.hpp): index 0 is the default file. Every accessor
  // below that takes `file` defaults to it.
  size_t file_count() const { return files_.size(); }
  // File contents through the block map (holes read as zero), as on disk now.
  std::vector<uint8_t> file_bytes(uint64_t offset, uint64_t len, size_t file = 0) const;
  // The file's bytes in [offset, offset+len) that mapped blocks hold, in offset order, without
  // copying (DiskImage::visit; `pos` is the file offset); holes are skipped, they read as zero.
  // Dirty cached blocks are visited as the end-of-run writeback would leave them
  // (PageCache::final_writeback_blocks, R-FINAL-FILE). Costs the mapped and dirty blocks in the
  // range, never its length.
  void visit_file(uint64_t offset, uint64_t len, const DiskImage::Visitor& fn,
                  size_t file = 0) const;
  const kern::inode& inode(size_t file = 0) const { return files_.at(file).inode; }
  // The first file offset below i_size whose disk sector was never written, if any, in `file`.
  std::optional<uint64_t> first_stale_file_byte(size_t file = 0) const;
  // Page-cache coherency (coherency.cpp): the first clean cached page whose bytes below i_size
  // differ from the file on disk, as "page N (file offset X): cached B, disk D"; none if all
  // agree. Dirty pages, and pages whose writeback failed, are skipped. Every file is checked
  // (another file's message starts with its name).
  std::optional<std::string> first_incoherent_page() const;
  // For tests of that check: the bytes of cached page `index` (instantiated if absent).
  uint8_t* cached_page_for_test(uint64_t index) {
    return files_[0].cache.page_bytes_for_test(index);
  }
  const SimDisk& disk() const { return disk_; }
  const SimFilesystem& fs(size_t file = 0) const { return files_.at(file).fs; }
  const PageCache& cache(size_t file = 0) const { return files_.at(file).cache; }
  const UserMemory& memory() const { return mem_; }

private:
  struct AioContext;
  // One file of the scenario: its view of the spec (several files only; scenario_files.hpp),
  // block map, inode (i_ino = index + 1), open file and page cache, and the tasks sleeping in
  // its inode_dio_wait. Ops on it name it through Request::file / file_of_op.
  struct SimFile {
    SimFile(size_t file_index, const ScenarioSpec& file_spec, SimDisk& disk,
            SimFilesystem::Space* space);
    size_t index;
    const ScenarioSpec& view; // the file's view of the spec (the spec itself for one file)
    SimFilesystem fs;
    kern::inode inode;
    kern::file filp;
    PageCache cache;
    std::vector<kern::task_struct*> dio_waiters;
  };
  // An open file description (Task::fd): its O_DIRECT flag (F_SETFL) and readahead state; its
  // O_APPEND flag; whether the fd was closed, and the references to the struct file: the fd
  // table's (until close) and each request's (fget ... fput). fd_ops.cpp.
  struct OpenFile {
    bool o_direct = true;
    bool o_append = false;
    ReadaheadState ra;
    bool closed = false;   // close(2) ran: later ops on the fd get -EBADF
    int refs = 1;          // the fd table's reference, plus one per request holding the file
    bool released = false; // the last reference went (__fput)
    uint64_t object = 0;   // its footprint object (ObjectKind::world id), see note_process
  };
  struct Request {
    kern::kiocb iocb;
    std::vector<kern::iovec> iov;
    kern::iov_iter iter;
    World* world = nullptr;
    OpOutcome* out = nullptr;
    kern::task_struct* owner = nullptr;
    bool aio = false;
    bool completed = false;
    bool queued = false; // AIO, and still in flight when the submission returned
    bool reaped = false;
    uint64_t completion_order = 0; // 1, 2, ... in the order AIO requests completed
    AioContext* ctx = nullptr;
    OpenFile* fd = nullptr;
    SimFile* file = nullptr;
    // AIO (fs/aio.c ki_refcnt): one reference for io_submit_one, one for aio_complete_rw; the
    // request's file reference is dropped (fput) when both are gone.
    int iocb_refs = 0;
  };
  // An AIO context (io_setup): the requests submitted to it and not yet reaped, in submission
  // order, and the tasks sleeping on it (in io_getevents, or at exit).
  struct AioContext {
    std::vector<Request*> unreaped;
    std::vector<kern::task_struct*> waiters;
    size_t tasks = 0;    // tasks that use it
    bool shared = false; // more than one
    bool dead = false;   // io_destroy ran (kill_ioctx): lookups fail with -EINVAL
    uint64_t object = 0; // its footprint object (ObjectKind::world id), see note_process
  };
  // A barrier's parties (the tasks that name it) and the arrivals so far, all generations.
  struct Barrier {
    uint64_t parties = 0;
    uint64_t arrived = 0;
    std::vector<kern::task_struct*> waiters;
  };

  void run_task(size_t task_index);
  SimFile& file_of_op(const Task& task, const Operation& op);
  // The open file description `task`'s op uses on `file`: the task's fd (sharers agree on its
  // file); an op naming another file uses the task's fd name opened on that file.
  OpenFile& open_file(const Task& task, size_t file);
  Request& submit(const Operation& op, OpOutcome& out, AioContext& ctx, OpenFile& fd, SimFile& f);
  ssize_t attach(Request& req, const Operation& op, AioContext& ctx, OpenFile& fd);
  int64_t reap(AioContext& ctx, uint64_t events);
  void consume_events(AioContext& ctx, const std::vector<Request*>& taken);
  void reap_own_at_exit(AioContext& ctx, const std::vector<Request*>& mine);
  void set_up_task_control();
  void barrier_wait(const std::string& name, uint64_t generation);
  static void sleep_on(std::vector<kern::task_struct*>& waiters, const std::function<bool()>& done,
                       const char* name);
  static void wake_all(std::vector<kern::task_struct*>& waiters);
  void finish(Request& req, int64_t ret);
  // An op's end: its outcome's ret and i_size, and the trace's op_done event.
  static void op_done(OpOutcome& out, int64_t ret, const kern::inode& inode);
  static void aio_complete_rw(kern::kiocb* iocb, long res);
  void check_stale_read(uint64_t sector, const kern::bio* b);
  void install_faults(); // the scenario's allocation faults into kern::K().faults

  // inode_ops.cpp: ftruncate, fallocate, fsync (ops without iovecs, never AIO).
  void run_inode_op(SimFile& f, const Operation& op, OpOutcome& out, const OpenFile& fd);
  int64_t do_ftruncate(SimFile& f, uint64_t size);
  int64_t do_fallocate(SimFile& f, const Operation& op);
  int64_t punch_hole(SimFile& f, uint64_t offset, uint64_t len);
  int64_t do_fsync(SimFile& f, bool datasync);
  void inode_dio_wait(SimFile& f);
  void zero_block_part(SimFile& f, uint64_t from, uint64_t to);

  // fd_ops.cpp: close, io_cancel, io_destroy, chattr, and the file's reference count.
  void run_fd_op(SimFile& f, const Operation& op, OpOutcome& out, AioContext& ctx, OpenFile& fd);
  int64_t do_close(OpenFile& fd);
  int64_t do_io_destroy(AioContext& ctx);
  int64_t do_chattr(SimFile& f, const OpenFile& fd, bool sync);
  // Whether `fd` is closed (an fdget that fails), noting the read for the explorer.
  static bool fd_closed(const OpenFile& fd);
  // Footprints of the process's tables: an open file description, an AIO context, each its own
  // object (ObjectKind::world, numbered after kern::SharedObject's), so tasks with fds and
  // contexts of their own stay independent; barriers are SharedObject::process.
  static void note_process(uint64_t object, bool write) {
    kern::note_access({engine::ObjectKind::world, object}, write);
  }
  void number_process_objects();
  void fget(OpenFile& fd);
  void fput(OpenFile& fd);
  void iocb_put(Request& req); // aio.c iocb_put: the last one drops the file reference

  // syscalls.cpp
  ssize_t read_iter(Request& req);
  ssize_t write_iter(Request& req);
  // serialise_unaligned_aio (ext4/XFS): before an unaligned AIO write, -EAGAIN under NOWAIT or
  // inode_dio_wait; returns 0 to go on. The write then runs synchronously (IOMAP_DIO_FORCE_WAIT).
  ssize_t serialise_unaligned_aio(Request& req);
  void wake_dio_waiters(); // i_dio_count may have dropped: recheck inode_dio_wait
  ssize_t direct_IO(Request& req);
  ssize_t filemap_read(Request& req, ssize_t already_read);
  ssize_t generic_perform_write(Request& req, bool announce = false);
  ssize_t generic_file_direct_write(Request& req);
  // buffered_io.cpp: the paths of an fd without O_DIRECT, and fcntl(F_SETFL).
  ssize_t buffered_read(Request& req);
  ssize_t buffered_write(Request& req);
  int64_t fcntl_setfl(SimFile& f, OpenFile& fd, bool o_direct); // 0, or -EBADF on a closed fd
  // A buffered path about to take (or instantiate) the page holding `pos`: a yield point on the
  // inode (its page cache), noted as a write when it may change the cache.
  static void announce_page(const SimFile& f, const char* name, kern::loff_t pos, bool write);
  // mmap.cpp: mmap_read / mmap_write through a shared mapping of the file (page faults).
  void run_mmap_op(SimFile& f, const Operation& op, OpOutcome& out, OpenFile& fd);
  void mmap_fault_in(SimFile& f, OpenFile& fd, uint64_t index);
  // user_store.cpp: memset, a task storing into its own memory (no syscall, no file).
  void run_memset(const Operation& op, OpOutcome& out);

  // mmap_buffer.cpp: the faults of the buffers that map a file (UserMemory's FileMapper).
  class MappedFilePages final : public FileMapper {
  public:
    explicit MappedFilePages(World& w) : w_(w) {}
    kern::page* fault_file_page(size_t file, uint64_t index, bool write_shared) override;
    const uint8_t* peek_file_page(size_t file, uint64_t index) const override;

  private:
    World& w_;
    mutable std::vector<uint8_t> scratch_; // an uncached page's bytes, read for a peek
  };

  const ScenarioSpec& spec_;
  engine::Scheduler& sched_;
  SimDisk disk_;
  SimFilesystem::Space space_; // shared by the files' filesystems when there are several
  UserMemory mem_;
  kern::gendisk gendisk_;
  kern::block_device bdev_;
  kern::super_block sb_;
  FileViews own_views_;                     // the file views when the caller passed none
  std::deque<SimFile> files_;               // std::deque: stable addresses
  std::vector<SimFilesystem*> fs_by_inode_; // sb_.s_fs_info: by i_ino - 1
  std::vector<OpOutcome> outcomes_;
  std::vector<size_t> first_outcome_of_task_;
  std::deque<Request> requests_;
  std::map<std::string, AioContext> aio_contexts_; // by name; std::map: stable addresses
  std::map<std::string, Barrier> barriers_;
  std::map<std::string, OpenFile> open_files_; // by Task::fd_name(); std::map: stable addresses
  uint64_t completions_ = 0;                   // AIO requests completed so far
  MappedFilePages mapped_file_pages_{*this};
};

} // namespace diosim::world
