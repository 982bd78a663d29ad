// SPDX-License-Identifier: GPL-2.0-only
// Runs one scenario once: builds engine, kernel and world, runs to the end, checks the
// invariants and the expectations, and returns everything a caller reports.
//
// Invariant: the result (outcomes, trace bytes, schedule token) is a pure function of
// (scenario, seed, replayed token).
#pragma once

#include "model/check/session.hpp"
#include "sim/engine/schedule_token.hpp"
#include "sim/engine/violation.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/world/world.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace diosim::model {

// Where a run's decisions came from. A scenario's pinned "schedule" (validated when its Session
// is built) is replayed only when the caller gives neither a seed nor a token.
enum class ScheduleSource : uint8_t { drawn, replayed, pinned };

struct RunOptions {
  std::optional<uint64_t> seed;                // overrides the scenario's seed
  std::optional<engine::ScheduleToken> replay; // replays this token instead of drawing
  bool trace = false;
  bool record_steps = false;
  bool check_model = true; // compare with the reference model (model/reference/reference.hpp)
};

struct RunResult {
  uint64_t seed = 0;    // the seed drawn from (meaningless unless schedule_source == drawn)
  std::string schedule; // token text
  ScheduleSource schedule_source = ScheduleSource::drawn;
  std::optional<engine::Violation> violation;
  std::optional<std::string> internal_error;
  std::optional<std::string> divergence;
  std::vector<std::string> failed_expectations;
  std::vector<world::OpOutcome> outcomes;
  std::string trace_json; // empty unless traced
  uint64_t steps = 0, decisions = 0, bios = 0, contexts = 0;
  int64_t final_i_size = 0;
  // The file's bytes [0, N) at the end, N = the largest of i_size, the end of any operation and
  // of any extent, rounded up to a block (holes read as zero); sparse, sharing the disk's chunks.
  FileImage final_file;
  std::array<uint32_t, kern::kReferenceLines + 2> line_hits{};
  std::vector<engine::StepRecord> step_records;
  std::string violation_context; // name of the context that hit the violation
  uint64_t outcome_hash = 0;     // the terminal state (ExecSummary::outcome_hash)
  uint32_t race_windows = 0;     // bit per kern::RaceWindow this run hit

  // 0 all good, 1 violation or failed expectation, 2 divergence, 3 internal error.
  int exit_code() const;
};

// One run; builds a Session for it (the reference model is computed here).
RunResult run_scenario(const scenario::ScenarioSpec& spec, const RunOptions& options);
// One run in an existing session: what depends only on the scenario is not recomputed.
RunResult run_in_session(Session& session, const RunOptions& options);

} // namespace diosim::model
