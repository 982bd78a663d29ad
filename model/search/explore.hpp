// SPDX-License-Identifier: GPL-2.0-only
// Systematic exploration of one scenario's executions: every decision the engine asks (which
// context or bio completion runs next, which outcome a fault point takes) is a branch.
//
// Strategies:
//   dfs     stateless depth-first search over every decision (re-executes from the start).
//   dpor    dfs with dynamic partial-order reduction: persistent (backtrack) sets from races
//           between dependent transitions (footprints, sim/engine/footprint.hpp) and sleep
//           sets (Flanagan & Godefroid 2005; Abdulla et al. 2014 for the sleep-set part).
//           Fault decisions are data choices: all their options are explored.
//   pct     probabilistic concurrency testing (Burckhardt et al. 2010) with bug depth d.
//   random  uniform random choices, one seed per execution.
// `preemptions` bounds dfs and dpor to executions with at most K preemptions (CHESS): a
// preemption is a decision that picks something other than the context that was running
// while it could go on.
//
// Invariants:
//   1. Results do not depend on jobs or shards: the work is split into units fixed by the
//      scenario (the options of the first decision for dfs/dpor, execution indexes for
//      pct/random), a budget is split over units the same way, and results merge in unit order.
//   2. A violation's reported schedule is the minimal one found: fewest preemptions, then fewest
//      decisions, then the smaller token text.
//   3. `exhausted` is true only when dfs/dpor explored every unit completely within the bound.
#pragma once

#include "model/check/crash_guard.hpp"
#include "model/check/session.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace diosim::model {

enum class Strategy : uint8_t { dfs, dpor, pct, random };
const char* strategy_name(Strategy s);
std::optional<Strategy> parse_strategy(const std::string& name);

struct ExploreProgress {
  uint64_t executions = 0;
  uint64_t outcomes = 0;
  uint64_t violations = 0; // executions that failed
  double seconds = 0;
};

struct ExploreOptions {
  Strategy strategy = Strategy::dpor;
  uint64_t budget = 0;  // executions; 0: no limit (dfs/dpor run until exhausted)
  double seconds = 0;   // wall-clock limit, 0: none (results then depend on speed)
  int preemptions = -1; // bound for dfs/dpor; -1: unbounded
  int depth = 3;        // pct: bug depth d (d-1 priority change points)
  uint64_t seed = 1;
  unsigned jobs = 1;
  unsigned shard_index = 0, shard_count = 1;
  bool check_model = true;
  uint64_t shrink_budget = 300; // executions spent minimising each violation
  bool stop_on_violation = false; // stop at the first failing execution (time-to-find figures)
  std::function<void(const ExploreProgress&)> progress; // about once a second
};

struct FoundViolation {
  std::string kind; // the invariant, or "expectation"
  std::string message;
  int src_line = 0;
  std::string context;
  std::string token; // the minimal schedule found (ScheduleToken text)
  uint32_t preemptions = 0;
  uint32_t decisions = 0;
  uint64_t first_unit = 0;  // where the first execution of this kind was, in unit order
  uint64_t first_index = 0; // (execution index within that unit)
  uint64_t count = 0;       // executions that failed this way
};

struct ExploreResult {
  Strategy strategy = Strategy::dpor;
  int preemptions = -1;
  uint64_t executions = 0;
  uint64_t abandoned = 0; // dpor: executions cut short by sleep sets (redundant)
  bool exhausted = false;
  uint64_t units = 0, units_done = 0;
  std::vector<uint64_t> unit_executions; // dfs/dpor: executions per unit (0 for other shards')
  std::set<uint64_t> outcomes;           // distinct terminal states
  std::map<std::string, FoundViolation> violations;
  std::map<std::string, uint64_t> race_windows; // named windows hit, executions per window
  std::vector<std::string> internal_errors;
  std::vector<std::string> notes; // what limited the search, for the user (not errors)
  double seconds = 0; // wall clock (not part of the merged comparison)
};

// Explores `session`'s scenario in this process (threads for `jobs`).
ExploreResult explore(Session& session, const ExploreOptions& options);

// The same exploration in supervised worker processes (`jobs` of them): a crash or hang of the
// simulated code is a violation of its kind ("crash:SIGSEGV", "abort", "stack-overflow",
// "hang"), counted as one execution, and the search goes on past it (explore_isolated.cpp).
ExploreResult explore_isolated(Session& session, const ExploreOptions& options,
                               const GuardOptions& guard);

// Executions run before the first one of `v`'s kind, with units run one after the other.
uint64_t executions_before_first(const ExploreResult& r, const FoundViolation& v);

// Combines shard results into what one process gives.
ExploreResult merge_results(const std::vector<ExploreResult>& shards);

// True when `a` should replace `b` as the reported schedule of a kind (invariant 2).
bool better_witness(const FoundViolation& a, const FoundViolation& b);

} // namespace diosim::model
