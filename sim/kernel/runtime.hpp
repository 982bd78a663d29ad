// SPDX-License-Identifier: GPL-2.0-only
// The simulated kernel's runtime: one instance per run, reached through kern::K().
//
// Owns: the tunables (PAGE_SIZE, DIO_PAGES, BIO_MAX_VECS, reap threshold, plug limit), the
// scheduler and tracer handles, line coverage of fs/direct-io.c, object numbering, and the
// helpers every primitive uses to trace a step and to report a finding.
// Invariants:
//   1. Exactly one Kernel is installed per thread while a run executes (KernelScope).
//   2. Object ids (page#, bio#, dio# ...) are assigned in creation order: deterministic.
//   3. A finding goes through violation(): it names the invariant and the fs/direct-io.c line
//      of the current statement, and stops the run.
#pragma once

#include "sim/engine/scheduler.hpp"
#include "sim/kernel/race_detector.hpp"
#include "sim/kernel/types.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace kern {

namespace engine = diosim::engine;

struct Tunables {
  unsigned page_size = 4096;
  unsigned dio_pages = 64;               // DIO_PAGES
  unsigned bio_max_vecs = 256;           // BIO_MAX_VECS
  int reap_threshold = 64;               // dio_bio_reap's constant
  unsigned plug_limit = 32;              // BLK_MAX_REQUEST_COUNT
  unsigned cpus = 2;                     // simulated CPUs: one irq context each
  bool explore_user_page_faults = false; // each user page pinned is a fault point
};

// Allocations that fault injection can make fail with -ENOMEM (the scenario's "alloc_failures"
// and "explore_faults"; the world fills Kernel::faults from the scenario).
enum class AllocSite : uint8_t { dio_slab, dio_done_wq, fs_block };
constexpr size_t kAllocSites = 3;
const char* alloc_site_name(AllocSite site);

// The run's fault plan and what it did. Invariant: calls[s] counts every allocation attempt at
// site s, failed or not, so "the nth allocation" means the same in every run of a scenario.
struct FaultPlan {
  std::array<std::vector<uint64_t>, kAllocSites> fail_nth{}; // per site: 1-based ordinals
  std::array<bool, kAllocSites> explore{};                   // per site: each call a fault point
  std::array<uint64_t, kAllocSites> calls{};
  uint64_t fired = 0; // allocation failures injected (plan or explorer)
};

constexpr unsigned kDioPagesMax = 256; // struct dio's pages[] capacity
constexpr int kReferenceLines = 1317;  // lines in fs/direct-io.c at the reference revision

using TraceArgs = std::vector<engine::TraceArg>;

struct page;
struct bio;
struct irq_cpu;
struct task_struct;
struct kmem_cache;
struct workqueue_struct;

// A compact view of one object's fields, produced by an inspector (see kmem_cache).
struct FieldView {
  static constexpr int kMax = 12;
  const char* names[kMax]{};
  int64_t values[kMax]{};
  int count = 0;
  void add(const char* name, int64_t value) {
    names[count] = name;
    values[count] = value;
    ++count;
  }
};

class Kernel {
public:
  Kernel(Tunables tunables, engine::Scheduler& sched);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  Tunables tun;
  unsigned page_shift = 12;
  engine::Scheduler& sched;
  engine::Tracer* tracer = nullptr; // non-null only when tracing is on
  RaceDetector race;                // data races on shared_field accesses (shared_field.cpp)

  std::array<uint32_t, kReferenceLines + 2> line_hits{};

  uint32_t next_page_id = 1;
  uint32_t next_bio_id = 1;
  uint32_t next_lock_id = 1;
  uint32_t next_work_id = 1;

  page* zero_page = nullptr;

  // Object stores, in creation order. Pages: user pages, page-cache pages and ZERO_PAGE, for
  // the end-of-run refcount check. Caches: the slabs (struct dio).
  std::vector<std::unique_ptr<page>> pages;
  std::vector<std::unique_ptr<bio>> bios;
  std::vector<std::unique_ptr<kmem_cache>> caches;
  std::vector<std::unique_ptr<workqueue_struct>> workqueues;
  std::vector<std::unique_ptr<irq_cpu>> irq_cpus; // one per simulated CPU (irq.hpp)
  // Contexts blocked on a lock (spin lock or inode lock), by lock id.
  std::vector<std::pair<uint32_t, engine::Context*>> lock_waiters;
  void wake_lock_waiters(uint32_t lock_id);

  // Counters for the end-of-run invariants.
  uint64_t bios_allocated = 0, bios_freed = 0;
  uint64_t stale_pagecache_warnings = 0;
  uint64_t accepted_races = 0;   // benign races by design (race_detector.hpp: accepted_race)
  uint32_t race_window_bits = 0; // race windows this run hit (race_windows.hpp)
  FaultPlan faults;              // allocation fault injection (alloc_fails)

  task_struct* task_of(engine::Context* ctx);
  // Inline: every primitive asks for it (get_current), ~100 times an execution.
  task_struct* current_task() {
    engine::Context* c = sched.current();
    return c->kernel ? static_cast<task_struct*>(c->kernel) : task_of(c);
  }

  // --- tracing (call only when tracer != nullptr) ---
  engine::TraceEvent& emit(char ph, const char* name, const char* cat);
  void counter(const std::string& name, const char* series, int64_t value);
  // The next step slice of the current context starts a flow (an arrow) with this id.
  std::string flow_out;
  // Flows that end at the next step slice of a context, by context id.
  std::vector<std::pair<uint32_t, std::string>> flow_in;
  // Emits the current step as a slice on the current lane, with its flows.
  void emit_step_slice(const char* name, const char* cat, TraceArgs args);

  // Diffs inspected slab objects against their previous view and traces what changed; also
  // runs each cache's consistency check (assert_dio_state).
  void observe_objects();

private:
  std::vector<std::unique_ptr<task_struct>> tasks_;
};

inline thread_local Kernel* g_kernel = nullptr;
inline Kernel& K() {
  return *g_kernel;
}

// Installs a Kernel for the current thread for the lifetime of the scope.
class KernelScope {
public:
  explicit KernelScope(Kernel& k) : prev_(g_kernel) { g_kernel = &k; }
  ~KernelScope() { g_kernel = prev_; }
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;

private:
  Kernel* prev_;
};

// Marks the fs/direct-io.c line the current context is executing (trace `src`, coverage).
// The signal fence (no instruction) keeps the store ahead of what follows, so the crash guard's
// signal handlers (model/check/crash_guard.hpp) see the line even when a loop without a yield
// point follows.
inline void at_line(int line) {
  Kernel& k = K();
  k.sched.current()->src_line = line;
  ++k.line_hits[static_cast<size_t>(line)];
  std::atomic_signal_fence(std::memory_order_seq_cst);
}
inline int current_line() {
  const engine::Context* c = K().sched.current();
  return c ? c->src_line : 0;
}

// A trace argument: key plus integer or string.
inline engine::TraceArg arg(const char* key, int64_t v) {
  return {key, v};
}
inline engine::TraceArg arg(const char* key, int v) {
  return {key, int64_t{v}};
}
inline engine::TraceArg arg(const char* key, unsigned v) {
  return {key, int64_t{v}};
}
inline engine::TraceArg arg(const char* key, long long v) {
  return {key, static_cast<int64_t>(v)};
}
inline engine::TraceArg arg(const char* key, std::string v) {
  return {key, std::move(v)};
}
inline engine::TraceArg arg(const char* key, const char* v) {
  return {key, std::string(v)};
}

std::string page_name(const page* p);

// A yield point: records the step, traces it as a slice named `name` on the current context's
// lane with the args `make_args()` returns (called only when tracing, so a step with tracing off
// builds no strings), then lets the Chooser pick who runs next.
void yield_point(engine::StepOp op, engine::ObjectRef object, const char* name, const char* cat);
template <typename MakeArgs>
void yield_point(engine::StepOp op, engine::ObjectRef object, const char* name, const char* cat,
                 MakeArgs&& make_args) {
  Kernel& k = K();
  k.sched.begin_step(op, object);
  if (k.tracer) k.emit_step_slice(name, cat, make_args());
  k.observe_objects();
  k.sched.reschedule();
}
// Arrows for the viewer and Perfetto: the current step starts flow `id`, which ends at the next
// step of context `to`. No-ops when tracing is off.
void trace_flow(const std::string& id, engine::Context* to);
// The two halves, for flows whose end is known later (a bio's completion context).
void trace_flow_start(const std::string& id);
void trace_flow_end(const std::string& id, engine::Context* to);
// A traced state change inside the current step (an instant on the current lane). Call it
// through DIOSIM_TRACE_CHANGE, which builds the args only when tracing is on.
void trace_change(const char* name, const char* cat, TraceArgs args);

// Object references for footprints (what a step touches), by kind.
inline engine::ObjectRef obj(engine::ObjectKind kind, uint64_t id) {
  return {kind, id};
}
// The current transition read or wrote `object` (recorded only while exploring).
inline void note_access(engine::ObjectRef object, bool write) {
  K().sched.note_access(object, write);
}
// The world's state, for footprints. What belongs to one file (its inode: i_size, i_flags,
// i_dio_count; its mapping and page cache; its block map) is that file's object, {inode, file
// index} (i_ino - 1), so ops on different files can be independent. What the files share has
// objects of its own (ObjectKind::world): the free-space allocator and the allocation-fault
// plan's counters (two files that allocate stay dependent), and the process's tables (fd
// table, open file descriptions, AIO contexts, barriers).
enum class SharedObject : uint64_t { allocator = 0, process = 1, fault_plan = 2 };
inline void note_file(uint64_t file, bool write) {
  note_access({engine::ObjectKind::inode, file}, write);
}
inline void note_shared(SharedObject object, bool write) {
  note_access({engine::ObjectKind::world, static_cast<uint64_t>(object)}, write);
}

// Counts an allocation attempt at `site` and says whether it fails: the plan's nth attempt, or
// (when the site is explored) the Chooser's fault option 1. A failure is traced ("alloc_failure").
bool alloc_fails(AllocSite site);

// Reports a finding at the current line and stops the run.
[[noreturn]] void violation(const char* invariant, const std::string& message);

// might_sleep(): sleeping in irq context, or with a spin lock held, is a finding.
void might_sleep(const char* what);

} // namespace kern

#define AT(line) ::kern::at_line(line)
#define DIOSIM_TRACE_CHANGE(name, cat, ...)                                                        \
  do {                                                                                             \
    if (::kern::K().tracer) ::kern::trace_change(name, cat, ::kern::TraceArgs __VA_ARGS__);        \
  } while (0)
#define BUG_ON(cond)                                                                               \
  do {                                                                                             \
    if (unlikely(cond)) ::kern::violation("BUG_ON", "BUG_ON(" #cond ") fired");                    \
  } while (0)
#define PAGE_SIZE (static_cast<unsigned long>(::kern::K().tun.page_size))
#define PAGE_SHIFT (::kern::K().page_shift)
#define PAGE_MASK (~(PAGE_SIZE - 1))
