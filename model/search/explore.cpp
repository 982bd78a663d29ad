// SPDX-License-Identifier: GPL-2.0-only
// The exploration driver: splits the work into units, runs them on `jobs` threads, merges the
// unit results in unit order, and minimises each violation's schedule.
#include "model/search/explore.hpp"

#include "model/search/explore_units.hpp"

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

using namespace units;

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
  const bool tree = is_tree(o.strategy);
  if (tree) {
    const std::optional<TreeNode> root =
        plan_units(session, o.strategy == Strategy::dpor, o.preemptions);
    const std::vector<uint32_t> options = unit_options(root, o.preemptions);
    const uint64_t count = root ? options.size() : 1;
    r.units = count;
    for (uint64_t u = o.shard_index; u < count; u += o.shard_count)
      mine.push_back(u);
    results = run_units(
        mine, o.jobs,
        [&](uint64_t u, size_t) {
          const uint64_t share = budget_share(o, u, count);
          if (o.budget && share == 0) return UnitResult{};
          return run_tree_unit(session, o, shared, root, root ? options[u] : 0, share);
        },
        o, shared);
  } else {
    const uint32_t k = default_decisions(session);
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
    r.notes.insert(r.notes.end(), s.notes.begin(), s.notes.end());
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
