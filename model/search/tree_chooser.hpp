// SPDX-License-Identifier: GPL-2.0-only
// The decision tree of a stateless search: the path of decisions of the current execution,
// a Chooser that replays the path's prefix and extends it, and the backtracking step that picks
// the next unexplored branch (dfs: every option; dpor: the options races asked for, minus the
// sleep set).
//
// Invariants:
//   1. Node k is the k-th decision the engine asks in an execution (step, fault or latency);
//      the engine's Transition::decision numbers decisions the same way.
//   2. Replaying a prefix reproduces it exactly (the run is a pure function of the choices); a
//      node whose options differ on replay is an internal error (nondeterminism in diosim).
//   3. Nodes before `root` are fixed: backtracking never changes them (the unit's prefix).
//   4. Crash prefixes (the decisions a crashed execution had taken, crash_guard.hpp) are leaves:
//      an execution that takes every decision of one is abandoned right after the last, where
//      the crash would follow, so a search goes on past a crash without running it again.
#pragma once

#include "sim/engine/chooser.hpp"
#include "sim/engine/schedule_token.hpp"
#include "sim/engine/scheduler.hpp"

#include <cstdint>
#include <vector>

namespace diosim::model {

// An option's identity across executions: a context id, or kEventBit | event id.
using ActorKey = uint32_t;

struct SleepEntry {
  ActorKey actor = 0;
  engine::Footprint footprint; // of the actor's next transition
};

struct TreeNode {
  engine::DecisionKind kind = engine::DecisionKind::next_step;
  std::vector<ActorKey> actors; // step: per option, in the engine's order; fault: 0..n-1
  ActorKey running = 0;         // step: the context that yielded while still runnable, or 0
  uint32_t chosen = 0;          // index into actors
  uint64_t latency = 0;         // latency nodes: the value returned (always lo)
  uint32_t preemptions_before = 0;
  uint32_t transition_index = 0;      // step: index of the transition the choice started
  std::vector<uint8_t> tried;         // per option: explored (or being explored)
  std::vector<uint8_t> backtrack;     // dpor, per option: must be explored
  std::vector<SleepEntry> sleep;      // dpor: asleep when the node was reached
  std::vector<SleepEntry> done;       // dpor: explored options and their first transition
  engine::Footprint chosen_footprint; // dpor: the chosen option's transition (last execution)

  bool is_preemption(uint32_t option) const {
    return kind == engine::DecisionKind::next_step && running != 0 && actors[option] != running;
  }
  uint32_t preemptions_after() const { return preemptions_before + is_preemption(chosen); }
};

class TreeChooser final : public engine::Chooser {
public:
  // `transitions` points at the live transition list of the execution (dpor's sleep sets).
  TreeChooser(std::vector<TreeNode>& path, bool dpor, int preemption_bound)
      : path_(path), dpor_(dpor), bound_(preemption_bound) {}
  void set_transitions(const std::vector<engine::Transition>* t) { transitions_ = t; }
  uint64_t decide(const engine::Decision& d) override;
  void reset();
  // Crash prefixes to treat as leaves (invariant 4); the vector must outlive the chooser.
  void avoid(const std::vector<engine::ScheduleToken>* crash_prefixes) { avoid_ = crash_prefixes; }
  // Index into the crash prefixes of the one the last execution was abandoned at, or -1.
  int avoided() const { return avoided_; }
  // The decisions taken so far in the current execution.
  engine::ScheduleToken token_so_far() const;

private:
  uint64_t replay(const engine::Decision& d, const TreeNode& node) const;
  void extend(const engine::Decision& d);
  std::vector<SleepEntry> sleep_for_new_node() const;
  void check_crash_prefixes(size_t k);

  std::vector<TreeNode>& path_;
  bool dpor_;
  int bound_;
  const std::vector<engine::Transition>* transitions_ = nullptr;
  size_t next_ = 0;
  const std::vector<engine::ScheduleToken>* avoid_ = nullptr;
  std::vector<uint8_t> still_matching_; // per crash prefix, this execution so far
  int avoided_ = -1;
};

// Options of `node` in exploration order: the running context first, then the engine's order.
std::vector<uint32_t> exploration_order(const TreeNode& node);
bool option_allowed(const TreeNode& node, uint32_t option, int preemption_bound);

// After an execution: records each node's chosen footprint (dpor) and adds backtrack points
// for every race between transitions (dpor), conservatively where the preemption bound forbids
// the exact one (dpor.cpp).
void analyse_execution(std::vector<TreeNode>& path, const std::vector<engine::Transition>& trans,
                       bool dpor, size_t root, int preemption_bound);

// Moves to the next unexplored branch below `root`: truncates the path after the deepest node
// with work left and switches its choice. False when everything below root is explored.
bool next_branch(std::vector<TreeNode>& path, bool dpor, int preemption_bound, size_t root);

// The schedule token of the path (what `diosim run --schedule` replays), and one node's entry.
engine::ScheduleToken path_token(const std::vector<TreeNode>& path);
engine::ScheduleToken::Entry token_entry(const TreeNode& node);

} // namespace diosim::model
