// SPDX-License-Identifier: GPL-2.0-only
// The exploration driver: splits the work into units, runs them on `jobs` threads, merges the
// unit results in unit order, and minimises each violation's schedule.
#include "model/search/explore.hpp"

#include "model/search/sampling_choosers.hpp"
#include "model/search/tree_chooser.hpp"
#include "sim/kernel/race_windows.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace diosim::model {

const char* strategy_name(Strategy s) {
  switch (s) {
  case Strategy::dfs:
    return "dfs";
  case Strategy::dpor:
    return "dpor";
  case Strategy::pct:
    return "pct";
  case Strategy::random:
    return "random";
  }
  return "?";
}

std::optional<Strategy> parse_strategy(const std::string& name) {
  for (Strategy s : {Strategy::dfs, Strategy::dpor, Strategy::pct, Strategy::random})
    if (name == strategy_name(s)) return s;
  return std::nullopt;
}

bool better_witness(const FoundViolation& a, const FoundViolation& b) {
  if (a.preemptions != b.preemptions) return a.preemptions < b.preemptions;
  if (a.decisions != b.decisions) return a.decisions < b.decisions;
  return a.token < b.token;
}

namespace {

using Clock = std::chrono::steady_clock;

struct UnitResult {
  uint64_t executions = 0, abandoned = 0;
  bool exhausted = false;
  std::set<uint64_t> outcomes;
  std::map<std::string, FoundViolation> violations;
  std::vector<std::string> internal_errors;
  std::map<std::string, uint64_t> race_windows; // executions per window hit
};

struct Shared {
  std::atomic<uint64_t> executions{0}, failing{0};
  std::atomic<bool> out_of_time{false};
  std::atomic<bool> stop{false}; // stop_on_violation: something was found
  Clock::time_point deadline = Clock::time_point::max();
  bool time_left() {
    if (stop) return false;
    if (Clock::now() < deadline) return true;
    out_of_time = true;
    return false;
  }
};

void record(UnitResult& u, Shared& shared, const ExecSummary& s, const engine::ScheduleToken& token,
            uint32_t preemptions, bool stop_on_violation) {
  ++u.executions;
  ++shared.executions;
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
  const std::string kind = s.failure_kind();
  if (kind.empty()) return;
  ++shared.failing;
  if (stop_on_violation) shared.stop = true;
  FoundViolation f;
  f.kind = kind;
  f.message = s.violation ? s.violation->message : s.failed_expectations.front();
  f.src_line = s.violation ? s.violation->src_line : 0;
  f.context = s.violation_context;
  f.token = token.to_string();
  f.preemptions = preemptions;
  f.decisions = static_cast<uint32_t>(token.size());
  f.first_index = u.executions - 1;
  auto [it, fresh] = u.violations.emplace(kind, f);
  FoundViolation& kept = it->second;
  if (!fresh && better_witness(f, kept)) {
    f.first_index = kept.first_index;
    f.count = kept.count;
    kept = f;
  }
  ++kept.count;
}

// The first decision's node, from one execution with the default (non-preemptive) choices.
std::optional<TreeNode> plan_units(Session& session, bool dpor, int bound) {
  std::vector<TreeNode> path;
  TreeChooser chooser(path, dpor, bound);
  ExecOptions exec;
  exec.record_transitions = true;
  session.execute(chooser, exec);
  if (path.empty()) return std::nullopt;
  return path.front();
}

UnitResult run_tree_unit(Session& session, const ExploreOptions& o, Shared& shared,
                         const std::optional<TreeNode>& root, uint32_t option, uint64_t budget) {
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
  ExecOptions exec;
  exec.record_transitions = true;
  for (;;) {
    if ((budget && u.executions >= budget) || !shared.time_left()) return u;
    chooser.reset();
    const ExecSummary s =
        session.execute(chooser, exec,
                        [&](const engine::Scheduler& sched, const kern::Kernel&,
                            const world::World&, const ExecSummary&) {
                          analyse_execution(path, sched.transitions(), dpor, root ? 1 : 0);
                        });
    record(u, shared, s, path_token(path), path.empty() ? 0 : path.back().preemptions_after(),
           o.stop_on_violation);
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
    const ExecSummary s = session.execute(c);
    record(u, shared, s, c.log.token, c.log.preemptions, o.stop_on_violation);
  } else {
    SeededRandomChooser c(seed);
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

// Runs `work(i)` for every unit index in `units` on `jobs` threads; results kept by position.
std::vector<UnitResult> run_units(const std::vector<uint64_t>& units, unsigned jobs,
                                  const std::function<UnitResult(uint64_t, size_t)>& work,
                                  const ExploreOptions& o, Shared& shared) {
  std::vector<UnitResult> out(units.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < units.size();)
      out[i] = work(units[i], i);
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, jobs); ++t)
    threads.emplace_back(worker);
  // The progress line, about once a second; woken at once when the work is done.
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread monitor([&] {
    const Clock::time_point t0 = Clock::now();
    std::unique_lock<std::mutex> lock(m);
    while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return done; }))
      if (o.progress)
        o.progress({shared.executions, 0, shared.failing,
                    std::chrono::duration<double>(Clock::now() - t0).count()});
  });
  for (std::thread& t : threads)
    t.join();
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_all();
  monitor.join();
  return out;
}

} // namespace

void minimise_witnesses(Session& session, ExploreResult& r, uint64_t budget);

ExploreResult explore(Session& session, const ExploreOptions& o) {
  const Clock::time_point t0 = Clock::now();
  Shared shared;
  if (o.seconds > 0)
    shared.deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  ExploreResult r;
  r.strategy = o.strategy;
  r.preemptions = o.preemptions;
  std::vector<UnitResult> results;
  std::vector<uint64_t> mine; // this shard's units, in order
  const bool tree = o.strategy == Strategy::dfs || o.strategy == Strategy::dpor;
  if (tree) {
    const std::optional<TreeNode> root =
        plan_units(session, o.strategy == Strategy::dpor, o.preemptions);
    std::vector<uint32_t> options;
    if (root)
      for (uint32_t i : exploration_order(*root))
        if (option_allowed(*root, i, o.preemptions)) options.push_back(i);
    const uint64_t count = root ? options.size() : 1;
    r.units = count;
    for (uint64_t u = o.shard_index; u < count; u += o.shard_count)
      mine.push_back(u);
    results = run_units(
        mine, o.jobs,
        [&](uint64_t u, size_t) {
          const uint64_t share = o.budget ? o.budget / count + (u < o.budget % count) : 0;
          if (o.budget && share == 0) return UnitResult{};
          return run_tree_unit(session, o, shared, root, root ? options[u] : 0, share);
        },
        o, shared);
  } else {
    PrefixChooser planning({});
    const uint32_t k = static_cast<uint32_t>(session.execute(planning).decisions);
    const uint64_t count = o.budget ? o.budget : (o.seconds > 0 ? UINT64_MAX / 2 : 1000);
    r.units = count;
    for (uint64_t u = o.shard_index; u < count && mine.size() < (1u << 22); u += o.shard_count)
      mine.push_back(u);
    results = run_units(
        mine, o.jobs,
        [&](uint64_t u, size_t) {
          if (!shared.time_left()) return UnitResult{};
          return run_sampling(session, o, shared, u, k);
        },
        o, shared);
  }
  if (tree) r.unit_executions.assign(r.units, 0);
  for (size_t i = 0; i < results.size(); ++i)
    merge_unit(r, results[i], mine[i], tree);
  r.exhausted = tree && !shared.out_of_time && r.units_done == r.units && o.shard_count == 1;
  minimise_witnesses(session, r, o.shrink_budget);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

ExploreResult merge_results(const std::vector<ExploreResult>& shards) {
  ExploreResult r;
  if (shards.empty()) return r;
  r.strategy = shards.front().strategy;
  r.preemptions = shards.front().preemptions;
  r.units = shards.front().units;
  r.unit_executions.assign(shards.front().unit_executions.size(), 0);
  for (const ExploreResult& s : shards) {
    for (const auto& [kind, f] : s.violations)
      merge_violation(r.violations, f);
    r.executions += s.executions;
    r.abandoned += s.abandoned;
    r.outcomes.insert(s.outcomes.begin(), s.outcomes.end());
    r.units_done += s.units_done;
    for (size_t i = 0; i < s.unit_executions.size() && i < r.unit_executions.size(); ++i)
      r.unit_executions[i] += s.unit_executions[i];
    for (const std::string& e : s.internal_errors)
      if (r.internal_errors.size() < 5) r.internal_errors.push_back(e);
    for (const auto& [w, n] : s.race_windows)
      r.race_windows[w] += n;
    r.seconds = std::max(r.seconds, s.seconds);
  }
  const bool tree = r.strategy == Strategy::dfs || r.strategy == Strategy::dpor;
  r.exhausted = tree && r.units_done == r.units;
  return r;
}

uint64_t executions_before_first(const ExploreResult& r, const FoundViolation& v) {
  if (r.unit_executions.empty()) return v.first_unit; // sampling: one execution per unit
  uint64_t n = 0;
  for (uint64_t u = 0; u < v.first_unit && u < r.unit_executions.size(); ++u)
    n += r.unit_executions[u];
  return n + v.first_index;
}

} // namespace diosim::model
