// SPDX-License-Identifier: GPL-2.0-only
// A session: everything about one scenario that does not depend on the schedule, computed
// once (the parsed spec, the reference model's expected outcomes, the kernel tunables), and
// the execution of one schedule against it.
//
// Invariants:
//   1. reference_outcome() runs once per Session, never per execution.
//   2. execute() is a pure function of (spec, the values the Chooser returns); it builds a fresh
//      engine, kernel and world each time, so executions never share state (the disk starts
//      from a copy-on-write copy of an image built once, user memory from a copy-on-write view
//      of buffers built once).
//   3. Every execution is checked the same way: invariants at every step and at the end, the
//      scenario's expectations, and agreement with the reference model.
#pragma once

#include "model/reference/reference.hpp"
#include "sim/engine/chooser.hpp"
#include "sim/engine/schedule_token.hpp"
#include "sim/engine/scheduler.hpp"
#include "sim/engine/violation.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace diosim::world {
class World;
class DiskImage;
class UserMemoryImage;
using FileViews = std::vector<scenario::ScenarioSpec>; // world.hpp
} // namespace diosim::world

namespace diosim::model {

struct ExecOptions {
  bool trace = false;
  bool record_steps = false;
  bool record_transitions = false; // footprints for the explorer
};

// What an explorer needs from one execution; no per-op data, no strings unless it failed.
struct ExecSummary {
  std::optional<engine::Violation> violation; // an invariant or the reference model
  std::string violation_context;
  std::vector<std::string> failed_expectations; // the scenario's own expectations
  // The kind of failure, for grouping: the invariant, "expectation", or empty when none.
  std::string failure_kind() const {
    if (violation) return violation->invariant;
    return failed_expectations.empty() ? std::string() : "expectation";
  }
  std::optional<std::string> internal_error;
  std::optional<std::string> divergence;
  bool abandoned = false; // the chooser gave up on it (a redundant schedule)
  uint64_t steps = 0, decisions = 0;
  uint64_t outcome_hash = 0; // the terminal state: op results, user data, file, i_size
  uint32_t race_windows = 0; // bit per kern::RaceWindow hit
};

class Session {
public:
  // `check_model`: compare every execution with the reference model (computed here, once).
  // Throws scenario::ScenarioError ("FILE: /schedule: ...") when the scenario pins a schedule
  // token that does not parse: the token is validated here, once, and replayed by the runner.
  explicit Session(scenario::ScenarioSpec spec, bool check_model = true);

  const scenario::ScenarioSpec& spec() const { return spec_; }
  // The scenario's pinned "schedule", parsed.
  const std::optional<engine::ScheduleToken>& pinned_schedule() const { return pinned_; }
  const kern::Tunables& tunables() const { return tunables_; }

  // Runs one execution. `inspect`, when set, sees the finished run before it is torn down.
  using Inspect = std::function<void(const engine::Scheduler&, const kern::Kernel&,
                                     const world::World&, const ExecSummary&)>;
  ExecSummary execute(engine::Chooser& chooser, const ExecOptions& options = {},
                      const Inspect& inspect = {}, engine::Tracer* tracer = nullptr);

  // The transitions of the execution in progress (record_transitions), for a chooser that
  // needs what ran since its last decision; null outside execute().
  static const std::vector<engine::Transition>* live_transitions() { return live_; }

private:
  void judge(const engine::Scheduler& sched, const kern::Kernel& kernel, const world::World& w,
             ExecSummary& out) const;
  // Each file's ops, final contents and i_size against its statement; messages name the file.
  std::vector<std::string> compare_files(const world::World& w) const;

  scenario::ScenarioSpec spec_;
  kern::Tunables tunables_;
  bool check_model_;
  std::optional<ExpectedRun> expected_;
  std::vector<FileReference> file_refs_; // several files: each file's statement (R-FILES)
  std::optional<engine::ScheduleToken> pinned_;
  std::shared_ptr<const world::DiskImage> initial_disk_;         // built once, copied per execution
  std::shared_ptr<const world::UserMemoryImage> initial_memory_; // built once, shared read-only
  std::shared_ptr<const world::FileViews> file_views_;           // built once, shared read-only
  static thread_local const std::vector<engine::Transition>* live_;
};

// The final file range compared and hashed: [0, N), N = the largest of i_size, the end of any
// operation and of any extent, rounded up to a block.
uint64_t final_file_end(const scenario::ScenarioSpec& spec, int64_t i_size);

// The world's file [0, end) as a FileImage that shares the disk's chunk memory (nothing is
// copied; holes and zero runs are not stored): costs the mapped blocks, never `end`.
FileImage final_file_image(const world::World& w, uint64_t end, size_t file = 0);

} // namespace diosim::model
