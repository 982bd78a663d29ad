// SPDX-License-Identifier: GPL-2.0-only
// The crash guard: a crash or hang of the simulated code (the port or the kernel shim) is a
// finding, not a crash of the tool. Work runs in forked worker processes; a worker that dies by
// a fatal signal, overflows a fiber stack or stops making progress is reported as a CrashReport
// with the fs/direct-io.c line of the context it was running, the seed and the schedule token
// recorded so far, and a fresh worker takes the next piece of work.
//
// Owns: the worker processes (fork once per worker, not per execution; a worker serves many
// requests), the request/reply pipes and their tiny serialisation (ByteWriter/ByteReader), the
// shared report page, the fatal-signal handlers (on an alternate stack) and the hang watchdog.
// Invariants:
//   1. A reply is a pure function of its request: which worker serves it, and how many workers
//      there are, changes nothing. Replies are delivered with the id of their request.
//   2. Every request gets exactly one outcome: its reply, or a CrashReport when its worker died
//      while serving it. After a death the next request goes to a newly forked worker.
//   3. The watchdog is the only wall-clock (and CPU-clock) use in diosim: a safety net for
//      infinite loops without yield points. Inside a worker, a CPU-time timer (ITIMER_PROF)
//      samples the scheduler's step counter and the requests served; when neither moved for
//      `hang_seconds` of CPU time the worker reports "hang" at the current line and exits. The
//      parent kills a busy worker whose timer stopped ticking for max(30, 3 * hang_seconds)
//      seconds of wall time (a worker blocked without using CPU). Neither affects a run's result.
//   4. The report is written by the signal handler into a MAP_SHARED page the parent reads after
//      the worker died. Reading the line, context and step is async-signal-safe; formatting the
//      schedule token is not (it allocates): acceptable because the process dies anyway, and a
//      second fault or a deadlock there (alarm(2) ends it) still leaves the first part of the
//      report, written before.
#pragma once

#include "sim/engine/chooser.hpp"
#include "sim/engine/schedule_token.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

namespace diosim::model {

struct CrashReport {
  // "crash:SIGSEGV", "crash:SIGBUS", "crash:SIGFPE", "crash:SIGILL", "abort", "stack-overflow",
  // "hang", or "crash:signal-N" for a worker killed by another signal.
  std::string kind;
  int src_line = 0;    // fs/direct-io.c line of the running context; 0 when unknown
  std::string context; // name of the running context; empty when none ran
  uint64_t seed = 0;
  uint64_t step = 0;
  uint32_t preemptions = 0; // of the schedule so far, when known (CrashContext::preemptions)
  uint64_t progress = 0;    // what the request had passed to report_progress() before it died
  bool run_known = false;   // a run was in progress: seed, step and schedule describe it
  std::string schedule;     // the token recorded so far ("" when not known)
  bool schedule_truncated = false;
  std::string detail; // one sentence: what happened
};

struct GuardOptions {
  double hang_seconds = 10; // CPU seconds without progress before a worker counts as hung
};

// What the runner registers for the run in progress (model/check/runner.cpp), so a crash
// report can name its seed and the schedule token so far. The describer is thread_local.
struct CrashContext {
  uint64_t seed = 0;
  const engine::RecordingChooser* recorder = nullptr;                   // the run's recorder, or
  const engine::ScheduleToken* replay = nullptr;                        // the token it replays, or
  const std::function<engine::ScheduleToken()>* token_so_far = nullptr; // an explorer's
  const uint32_t* preemptions = nullptr; // preemptions so far, when the chooser counts them
};
class CrashContextScope {
public:
  explicit CrashContextScope(const CrashContext& context);
  ~CrashContextScope();
  CrashContextScope(const CrashContextScope&) = delete;
  CrashContextScope& operator=(const CrashContextScope&) = delete;

private:
  const CrashContext* previous_;
};

// Length-prefixed little pieces for requests and replies.
class ByteWriter {
public:
  void u64(uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    bytes += s;
  }
  std::string bytes;
};
class ByteReader {
public:
  explicit ByteReader(const std::string& bytes) : bytes_(bytes) {}
  uint64_t u64();    // throws std::runtime_error past the end
  std::string str(); // likewise
  bool at_end() const { return at_ == bytes_.size(); }

private:
  const std::string& bytes_;
  size_t at_ = 0;
};

struct WorkItem {
  uint64_t id = 0;
  std::string request;
};
using WorkOutcome = std::variant<std::string, CrashReport>; // the reply, or how its worker died

// Runs `handler` in up to `workers` supervised child processes. next_item() is asked for work
// whenever a worker is free (nullopt: nothing now; the run ends when it says so while no
// request is in flight, so on_done may still queue more); on_done(id, outcome) is called in the
// parent in completion order; on_tick(in_flight) (may be empty) about every 200 ms of wall time,
// with the sum of what busy workers last passed to report_progress().
void run_supervised(unsigned workers, const std::function<std::string(const std::string&)>& handler,
                    const std::function<std::optional<WorkItem>()>& next_item,
                    const std::function<void(uint64_t, WorkOutcome&&)>& on_done,
                    const std::function<void(uint64_t)>& on_tick, const GuardOptions& options);

// Inside a handler: how far the current request has come (e.g. executions run), for on_tick.
void report_progress(uint64_t done);

// Runs `body` in one supervised child and returns its result (an exit code, 0..255) or how
// the child died. The child's stdout and stderr are the caller's (flushed before the fork and
// by the child before it answers).
std::variant<int, CrashReport> run_isolated(const std::function<int()>& body,
                                            const GuardOptions& options);

// "crash:SIGSEGV at fs/direct-io.c:275 in task-a (step 17): the simulated code ..." (one line).
std::string describe(const CrashReport& report);

} // namespace diosim::model
