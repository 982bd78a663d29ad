// SPDX-License-Identifier: GPL-2.0-only
// One unit of an exploration (explore_units.hpp): recording executions into a unit result,
// running a dfs/dpor subtree or one sampled execution, and merging unit results in unit order.
#include "model/search/explore_units.hpp"

#include "model/check/crash_guard.hpp"
#include "model/search/sampling_choosers.hpp"
#include "sim/kernel/race_windows.hpp"

namespace diosim::model::units {

bool Shared::time_left() {
  if (stop) return false;
  if (Clock::now() < deadline) return true;
  out_of_time = true;
  return false;
}

bool is_tree(Strategy s) {
  return s == Strategy::dfs || s == Strategy::dpor;
}

namespace {

FoundViolation violation_of(const ExecSummary& s, const engine::ScheduleToken& token,
                            uint32_t preemptions) {
  FoundViolation f;
  f.kind = s.failure_kind();
  f.message = s.violation ? s.violation->message : s.failed_expectations.front();
  f.src_line = s.violation ? s.violation->src_line : 0;
  f.context = s.violation_context;
  f.token = token.to_string();
  f.preemptions = preemptions;
  f.decisions = static_cast<uint32_t>(token.size());
  return f;
}

void record(UnitResult& u, Shared& shared, const ExecSummary& s, const engine::ScheduleToken& token,
            uint32_t preemptions, bool stop_on_violation) {
  ++u.executions;
  ++shared.executions;
  report_progress(shared.executions);
  if (s.internal_error) {
    if (u.internal_errors.size() < 5) u.internal_errors.push_back(*s.internal_error);
    return;
  }
  if (s.abandoned) {
    ++u.abandoned;
    return;
  }
  u.outcomes.insert(s.outcome_hash);
  for (unsigned w = 0; w < static_cast<unsigned>(kern::RaceWindow::count); ++w)
    if (s.race_windows & (1u << w))
      ++u.race_windows[kern::race_window_name(static_cast<kern::RaceWindow>(w))];
  if (s.failure_kind().empty()) return;
  ++shared.failing;
  if (stop_on_violation) shared.stop = true;
  FoundViolation f = violation_of(s, token, preemptions);
  f.first_index = u.executions - 1;
  auto [it, fresh] = u.violations.emplace(f.kind, f);
  FoundViolation& kept = it->second;
  if (!fresh && better_witness(f, kept)) {
    f.first_index = kept.first_index;
    f.count = kept.count;
    kept = f;
  }
  ++kept.count;
}

} // namespace

std::optional<TreeNode> plan_units(Session& session, bool dpor, int bound,
                                   const std::vector<engine::ScheduleToken>& crash_prefixes) {
  std::vector<TreeNode> path;
  TreeChooser chooser(path, dpor, bound);
  chooser.avoid(&crash_prefixes);
  chooser.reset();
  const std::function<engine::ScheduleToken()> token = [&] { return chooser.token_so_far(); };
  const CrashContextScope crash_scope(CrashContext{0, nullptr, nullptr, &token});
  ExecOptions exec;
  exec.record_transitions = true;
  session.execute(chooser, exec);
  if (path.empty()) return std::nullopt;
  return path.front();
}

std::vector<uint32_t> unit_options(const std::optional<TreeNode>& root, int bound) {
  std::vector<uint32_t> options;
  if (root)
    for (uint32_t i : exploration_order(*root))
      if (option_allowed(*root, i, bound)) options.push_back(i);
  return options;
}

uint32_t default_decisions(Session& session) {
  PrefixChooser planning({});
  const CrashContextScope crash_scope(CrashContext{0, nullptr, &planning.log.token});
  return static_cast<uint32_t>(session.execute(planning).decisions);
}

uint64_t budget_share(const ExploreOptions& o, uint64_t unit, uint64_t count) {
  return o.budget ? o.budget / count + (unit < o.budget % count) : 0;
}

UnitResult run_tree_unit(Session& session, const ExploreOptions& o, Shared& shared,
                         const std::optional<TreeNode>& root, uint32_t option, uint64_t budget,
                         const std::vector<engine::ScheduleToken>& crash_prefixes) {
  const bool dpor = o.strategy == Strategy::dpor;
  UnitResult u;
  std::vector<TreeNode> path;
  if (root) {
    path.push_back(*root);
    path[0].chosen = option;
    std::fill(path[0].tried.begin(), path[0].tried.end(), 0);
    path[0].tried[option] = 1;
  }
  TreeChooser chooser(path, dpor, o.preemptions);
  chooser.avoid(&crash_prefixes);
  const std::function<engine::ScheduleToken()> token = [&] { return chooser.token_so_far(); };
  const CrashContextScope crash_scope(CrashContext{0, nullptr, nullptr, &token});
  ExecOptions exec;
  exec.record_transitions = true;
  for (;;) {
    if ((budget && u.executions >= budget) || !shared.time_left()) return u;
    chooser.reset();
    const ExecSummary s = session.execute(chooser, exec,
                                          [&](const engine::Scheduler& sched, const kern::Kernel&,
                                              const world::World&, const ExecSummary&) {
                                            analyse_execution(path, sched.transitions(), dpor,
                                                              root ? 1 : 0, o.preemptions);
                                          });
    if (chooser.avoided() >= 0) { // a crash found by a worker that died: a leaf, not re-run
      u.crashes_met.push_back({static_cast<uint64_t>(chooser.avoided()), u.executions,
                               path.back().preemptions_after()});
      ++u.executions;
      ++shared.executions;
    } else {
      record(u, shared, s, path_token(path), path.empty() ? 0 : path.back().preemptions_after(),
             o.stop_on_violation);
    }
    if (!root || !next_branch(path, dpor, o.preemptions, 1)) {
      u.exhausted = true;
      return u;
    }
  }
}

UnitResult run_sampling(Session& session, const ExploreOptions& o, Shared& shared, uint64_t index,
                        uint32_t steps_estimate) {
  UnitResult u;
  const uint64_t seed = execution_seed(o.seed, index);
  if (o.strategy == Strategy::pct) {
    PctChooser c(seed, steps_estimate, o.depth);
    const CrashContextScope crash_scope(
        CrashContext{seed, nullptr, &c.log.token, nullptr, &c.log.preemptions});
    const ExecSummary s = session.execute(c);
    record(u, shared, s, c.log.token, c.log.preemptions, o.stop_on_violation);
  } else {
    SeededRandomChooser c(seed);
    const CrashContextScope crash_scope(
        CrashContext{seed, nullptr, &c.log.token, nullptr, &c.log.preemptions});
    const ExecSummary s = session.execute(c);
    record(u, shared, s, c.log.token, c.log.preemptions, o.stop_on_violation);
  }
  u.exhausted = true;
  return u;
}

void merge_violation(std::map<std::string, FoundViolation>& into, const FoundViolation& f) {
  auto [it, fresh] = into.emplace(f.kind, f);
  if (fresh) return;
  FoundViolation& kept = it->second;
  const bool earlier =
      std::pair(f.first_unit, f.first_index) < std::pair(kept.first_unit, kept.first_index);
  const uint64_t first_unit = earlier ? f.first_unit : kept.first_unit;
  const uint64_t first_index = earlier ? f.first_index : kept.first_index;
  const uint64_t count = kept.count + f.count;
  if (better_witness(f, kept)) kept = f;
  kept.first_unit = first_unit;
  kept.first_index = first_index;
  kept.count = count;
}

void merge_unit(ExploreResult& r, const UnitResult& u, uint64_t unit, bool tree) {
  for (const auto& [kind, f] : u.violations) {
    FoundViolation g = f;
    g.first_unit = unit;
    merge_violation(r.violations, g);
  }
  r.executions += u.executions;
  r.abandoned += u.abandoned;
  r.outcomes.insert(u.outcomes.begin(), u.outcomes.end());
  r.units_done += u.exhausted;
  if (tree) r.unit_executions[unit] = u.executions;
  for (const auto& [w, n] : u.race_windows)
    r.race_windows[w] += n;
  for (const std::string& e : u.internal_errors)
    if (r.internal_errors.size() < 5) r.internal_errors.push_back(e);
}

} // namespace diosim::model::units
