// SPDX-License-Identifier: GPL-2.0-only
// The units an exploration is split into, and how one unit runs: shared by the in-process driver
// (explore.cpp, threads) and the crash-isolated one (explore_isolated.cpp, worker processes).
//
// A unit is one option of the first decision (dfs, dpor: the whole subtree below it) or one
// execution index (pct, random). Its result is a pure function of the scenario, the options and
// the crash prefixes it is told to treat as leaves, so it can be recomputed in another process.
#pragma once

#include "model/search/explore.hpp"
#include "model/search/tree_chooser.hpp"

#include <atomic>
#include <chrono>

namespace diosim::model::units {

using Clock = std::chrono::steady_clock;

struct UnitResult {
  uint64_t executions = 0, abandoned = 0;
  bool exhausted = false;
  std::set<uint64_t> outcomes;
  std::map<std::string, FoundViolation> violations;
  std::vector<std::string> internal_errors;
  std::map<std::string, uint64_t> race_windows; // executions per window hit
  // Crash prefixes met as leaves (each counted as an execution, at its index in the unit).
  struct CrashMet {
    uint64_t prefix = 0; // index into the unit's crash prefixes
    uint64_t index = 0;  // execution index within the unit
    uint32_t preemptions = 0;
  };
  std::vector<CrashMet> crashes_met;
};

// What the units of one exploration share (threads of one process).
struct Shared {
  std::atomic<uint64_t> executions{0}, failing{0};
  std::atomic<bool> out_of_time{false};
  std::atomic<bool> stop{false}; // stop_on_violation: something was found
  Clock::time_point deadline = Clock::time_point::max();
  bool time_left();
};

bool is_tree(Strategy s);

// The first decision's node, from one execution with the default (non-preemptive) choices;
// nullopt when the scenario takes no decision (or the default run meets a crash prefix at once).
std::optional<TreeNode> plan_units(Session& session, bool dpor, int bound,
                                   const std::vector<engine::ScheduleToken>& crash_prefixes = {});
// The options of `root` that are units, in exploration order.
std::vector<uint32_t> unit_options(const std::optional<TreeNode>& root, int bound);
// Decisions of the default execution (PCT's k).
uint32_t default_decisions(Session& session);

UnitResult run_tree_unit(Session& session, const ExploreOptions& o, Shared& shared,
                         const std::optional<TreeNode>& root, uint32_t option, uint64_t budget,
                         const std::vector<engine::ScheduleToken>& crash_prefixes = {});
UnitResult run_sampling(Session& session, const ExploreOptions& o, Shared& shared, uint64_t index,
                        uint32_t steps_estimate);
// Budget share of tree unit `unit` of `count` (0: no limit).
uint64_t budget_share(const ExploreOptions& o, uint64_t unit, uint64_t count);

void merge_violation(std::map<std::string, FoundViolation>& into, const FoundViolation& f);
void merge_unit(ExploreResult& r, const UnitResult& u, uint64_t unit, bool tree);

// Minimises every violation's schedule (minimise.cpp).
void minimise_witnesses(Session& session, ExploreResult& r, uint64_t budget);

} // namespace diosim::model::units
