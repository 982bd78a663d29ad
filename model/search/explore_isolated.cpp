// SPDX-License-Identifier: GPL-2.0-only
// The crash-isolated exploration driver: the same units as explore() (explore_units.hpp), run
// in supervised worker processes (model/check/crash_guard.hpp), so a crash or hang of the
// simulated code is a finding and the exploration goes on.
//
// How a search goes on past a crash: a dfs/dpor unit whose worker died is run again by a fresh
// worker, told the decisions the crashed execution had taken (the report's token). Executions
// are deterministic, so the rerun takes the same executions up to that one and ends it as a
// leaf right after its last decision (tree_chooser.hpp, invariant 4), then explores the rest of
// the subtree. A pct/random unit is one execution: its crash is its result.
//
// Invariants:
//   1. Without crashes, the result equals explore()'s (the same units, merged in unit order).
//   2. A crash is counted once, as one execution of its unit, at the index where the rerun met
//      it; its witness is the token so far (not minimised: replaying it would crash again).
//   3. A unit whose crash cannot be passed (token truncated or not recorded, or the rerun crashed
//      at a prefix already known) is reported not exhausted, never retried forever.
#include "model/check/crash_guard.hpp"
#include "model/search/explore_units.hpp"
#include "sim/engine/violation.hpp"

#include <algorithm>
#include <deque>
#include <ranges>

namespace diosim::model {
namespace {

using namespace units;

enum Request : uint64_t { plan = 1, tree_unit = 2, sampled_batch = 3, minimise = 4 };
constexpr uint64_t kSampledBatch = 256; // pct/random executions per request

// Folds sampled unit `unit`'s result into a batch's (violations keep their unit).
void fold_sampled(UnitResult& batch, UnitResult&& u, uint64_t unit) {
  batch.executions += u.executions;
  batch.outcomes.insert(u.outcomes.begin(), u.outcomes.end());
  for (auto& [kind, v] : u.violations) {
    v.first_unit = unit;
    merge_violation(batch.violations, v);
  }
  for (const auto& [w, n] : u.race_windows)
    batch.race_windows[w] += n;
  for (std::string& e : u.internal_errors)
    if (batch.internal_errors.size() < 5) batch.internal_errors.push_back(std::move(e));
}

// --- wire format of requests and replies -----------------------------------------------------

void put_tokens(ByteWriter& w, const std::vector<engine::ScheduleToken>& tokens) {
  w.u64(tokens.size());
  for (const engine::ScheduleToken& t : tokens)
    w.str(t.to_string());
}

std::vector<engine::ScheduleToken> get_tokens(ByteReader& r) {
  std::vector<engine::ScheduleToken> tokens;
  for (uint64_t n = r.u64(); n > 0; --n) {
    std::string error;
    std::optional<engine::ScheduleToken> t = engine::ScheduleToken::parse(r.str(), &error);
    if (!t) throw std::runtime_error("explore worker: bad crash prefix: " + error);
    tokens.push_back(std::move(*t));
  }
  return tokens;
}

void put_violation(ByteWriter& w, const FoundViolation& v) {
  for (const std::string* s : {&v.kind, &v.message, &v.context, &v.token})
    w.str(*s);
  for (uint64_t n : {uint64_t(v.src_line), uint64_t(v.preemptions), uint64_t(v.decisions),
                     v.first_unit, v.first_index, v.count})
    w.u64(n);
}

FoundViolation get_violation(ByteReader& r) {
  FoundViolation v;
  for (std::string* s : {&v.kind, &v.message, &v.context, &v.token})
    *s = r.str();
  v.src_line = static_cast<int>(r.u64());
  v.preemptions = static_cast<uint32_t>(r.u64());
  v.decisions = static_cast<uint32_t>(r.u64());
  v.first_unit = r.u64();
  v.first_index = r.u64();
  v.count = r.u64();
  return v;
}

std::string put_unit(const UnitResult& u) {
  ByteWriter w;
  for (uint64_t n : {u.executions, u.abandoned, uint64_t(u.exhausted), uint64_t(u.outcomes.size())})
    w.u64(n);
  for (uint64_t h : u.outcomes)
    w.u64(h);
  w.u64(u.violations.size());
  for (const auto& [kind, v] : u.violations)
    put_violation(w, v);
  w.u64(u.internal_errors.size());
  for (const std::string& e : u.internal_errors)
    w.str(e);
  w.u64(u.race_windows.size());
  for (const auto& [name, n] : u.race_windows) {
    w.str(name);
    w.u64(n);
  }
  w.u64(u.crashes_met.size());
  for (const UnitResult::CrashMet& c : u.crashes_met)
    for (uint64_t n : {c.prefix, c.index, uint64_t(c.preemptions)})
      w.u64(n);
  return w.bytes;
}

UnitResult get_unit(const std::string& bytes) {
  ByteReader r(bytes);
  UnitResult u;
  u.executions = r.u64();
  u.abandoned = r.u64();
  u.exhausted = r.u64() != 0;
  for (uint64_t n = r.u64(); n > 0; --n)
    u.outcomes.insert(r.u64());
  for (uint64_t n = r.u64(); n > 0; --n) {
    FoundViolation v = get_violation(r);
    u.violations.emplace(v.kind, v);
  }
  for (uint64_t n = r.u64(); n > 0; --n)
    u.internal_errors.push_back(r.str());
  for (uint64_t n = r.u64(); n > 0; --n) {
    std::string name = r.str();
    u.race_windows[name] = r.u64();
  }
  for (uint64_t n = r.u64(); n > 0; --n) {
    UnitResult::CrashMet c;
    c.prefix = r.u64();
    c.index = r.u64();
    c.preemptions = static_cast<uint32_t>(r.u64());
    u.crashes_met.push_back(c);
  }
  return u;
}

// --- inside a worker ---------------------------------------------------------------------------

std::string serve_plan(Session& session, const ExploreOptions& o, ByteReader& r) {
  const std::vector<engine::ScheduleToken> prefixes = get_tokens(r);
  ByteWriter w;
  if (!is_tree(o.strategy)) {
    w.u64(default_decisions(session));
    return w.bytes;
  }
  const std::optional<TreeNode> root =
      plan_units(session, o.strategy == Strategy::dpor, o.preemptions, prefixes);
  const std::vector<uint32_t> options = unit_options(root, o.preemptions);
  w.u64(root ? 1 : 0);
  w.u64(options.size());
  for (uint32_t option : options)
    w.u64(option);
  return w.bytes;
}

std::string serve_tree_unit(Session& session, const ExploreOptions& o, Shared& shared,
                            ByteReader& r) {
  const uint32_t option = static_cast<uint32_t>(r.u64());
  const uint64_t budget = r.u64();
  const std::vector<engine::ScheduleToken> plan_prefixes = get_tokens(r);
  const std::vector<engine::ScheduleToken> unit_prefixes = get_tokens(r);
  const std::optional<TreeNode> root =
      plan_units(session, o.strategy == Strategy::dpor, o.preemptions, plan_prefixes);
  return put_unit(run_tree_unit(session, o, shared, root, option, budget, unit_prefixes));
}

// Executions first, first + stride, ... (count of them) of a pct/random campaign; report_progress()
// counts the finished ones, so a crash report names the one that crashed.
std::string serve_sampled_batch(Session& session, const ExploreOptions& o, Shared& shared,
                                ByteReader& r) {
  const uint64_t first = r.u64(), count = r.u64(), stride = r.u64();
  const uint32_t k = static_cast<uint32_t>(r.u64());
  UnitResult batch;
  for (uint64_t i = 0; i < count && shared.time_left(); ++i)
    fold_sampled(batch, run_sampling(session, o, shared, first + i * stride, k),
                 first + i * stride);
  return put_unit(batch);
}

std::string serve_minimise(Session& session, ByteReader& r) {
  const uint64_t budget = r.u64();
  ExploreResult one;
  FoundViolation v = get_violation(r);
  one.violations.emplace(v.kind, v);
  minimise_witnesses(session, one, budget);
  ByteWriter w;
  put_violation(w, one.violations.begin()->second);
  return w.bytes;
}

// A reply: status 0 and the payload, or status 1 and an internal error.
std::string serve(Session& session, const ExploreOptions& o, Clock::time_point deadline,
                  const std::string& request) {
  ByteWriter w;
  try {
    ByteReader r(request);
    Shared shared;
    shared.deadline = deadline;
    const uint64_t type = r.u64();
    std::string payload;
    if (type == plan) payload = serve_plan(session, o, r);
    if (type == tree_unit) payload = serve_tree_unit(session, o, shared, r);
    if (type == sampled_batch) payload = serve_sampled_batch(session, o, shared, r);
    if (type == minimise) payload = serve_minimise(session, r);
    w.u64(0);
    w.str(payload);
  } catch (const std::exception& e) {
    w.u64(1);
    w.str(std::string("[internal error] explore worker: ") + e.what());
  }
  return w.bytes;
}

// The payload of a worker's reply; throws its internal error.
std::string payload_of(const std::string& reply) {
  ByteReader r(reply);
  const uint64_t status = r.u64();
  std::string payload = r.str();
  if (status != 0) throw engine::InternalError(payload);
  return payload;
}

// --- in the parent -----------------------------------------------------------------------------

FoundViolation crash_violation(const CrashReport& c) {
  FoundViolation v;
  v.kind = c.kind;
  v.message = c.detail;
  v.src_line = c.src_line;
  v.context = c.context;
  v.token = c.schedule;
  v.preemptions = c.preemptions;
  std::string error;
  const std::optional<engine::ScheduleToken> t = engine::ScheduleToken::parse(c.schedule, &error);
  v.decisions = t ? static_cast<uint32_t>(t->size()) : 0;
  v.count = 1;
  return v;
}

struct UnitState {
  std::vector<engine::ScheduleToken> prefixes; // crash prefixes, in the order found
  std::vector<CrashReport> crashes;            // same order
  std::optional<UnitResult> result;
  bool given_up = false;
};

// A request's share of this process's units: positions [begin, end) in shard order.
struct Span {
  uint64_t begin = 0, end = 0;
};

class IsolatedExplorer {
public:
  IsolatedExplorer(Session& session, const ExploreOptions& o, const GuardOptions& guard)
      : session_(session), o_(o), guard_(guard), t0_(Clock::now()) {
    if (o.seconds > 0)
      deadline_ = t0_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(o.seconds));
  }
  ExploreResult run();

private:
  uint64_t unit_at(uint64_t position) const { return o_.shard_index + position * o_.shard_count; }
  std::string ask_one(const std::string& request, std::optional<CrashReport>& crash);
  void plan_tree();
  void plan_sampling();
  void run_units();
  std::optional<WorkItem> next_request();
  void request_done(uint64_t id, WorkOutcome&& outcome);
  void tree_unit_crashed(uint64_t unit, const CrashReport& crash);
  void batch_crashed(Span span, const CrashReport& crash);
  UnitResult finished_unit(uint64_t unit);
  void merge_all();
  void minimise_all();

  Session& session_;
  const ExploreOptions& o_;
  const GuardOptions& guard_;
  Clock::time_point t0_, deadline_ = Clock::time_point::max();
  ExploreResult r_;
  bool tree_ = false, stop_ = false, degenerate_ = false;
  std::set<std::string> crash_kinds_;
  std::vector<engine::ScheduleToken> plan_prefixes_;
  std::vector<uint32_t> options_; // tree: the root's unit options
  uint32_t decisions_ = 0;        // sampling: PCT's k
  uint64_t positions_ = 0;        // this process's units
  std::deque<Span> pending_;
  std::map<uint64_t, Span> in_flight_;     // by request id (= span.begin)
  std::map<uint64_t, UnitState> units_;    // tree units, and crashed sampled units
  std::map<uint64_t, UnitResult> batches_; // sampled: by first position
  uint64_t finished_executions_ = 0, failing_ = 0;
};

std::string IsolatedExplorer::ask_one(const std::string& request,
                                      std::optional<CrashReport>& crash) {
  std::string reply;
  bool given = false;
  run_supervised(
      1, [&](const std::string& req) { return serve(session_, o_, deadline_, req); },
      [&]() -> std::optional<WorkItem> {
        if (given) return std::nullopt;
        given = true;
        return WorkItem{0, request};
      },
      [&](uint64_t, WorkOutcome&& outcome) {
        if (auto* c = std::get_if<CrashReport>(&outcome))
          crash = std::move(*c);
        else
          reply = payload_of(std::get<std::string>(outcome));
      },
      {}, guard_);
  return reply;
}

// The root's options with the default execution's crashes passed (each rerun ends the default
// run right after the decisions that crashed before).
void IsolatedExplorer::plan_tree() {
  for (;;) {
    ByteWriter w;
    w.u64(plan);
    put_tokens(w, plan_prefixes_);
    std::optional<CrashReport> crash;
    const std::string reply = ask_one(w.bytes, crash);
    if (!crash) {
      ByteReader r(reply);
      const bool has_root = r.u64() != 0;
      for (uint64_t n = r.u64(); n > 0; --n)
        options_.push_back(static_cast<uint32_t>(r.u64()));
      r_.units = has_root ? options_.size() : 1;
      return;
    }
    std::string error;
    std::optional<engine::ScheduleToken> t = engine::ScheduleToken::parse(crash->schedule, &error);
    const bool known =
        t && std::find(plan_prefixes_.begin(), plan_prefixes_.end(), *t) != plan_prefixes_.end();
    if (t && t->size() > 0 && !crash->schedule_truncated && !known) {
      plan_prefixes_.push_back(std::move(*t));
      continue;
    }
    // Every execution crashes before its first decision (or the crash cannot be passed):
    // one unit, its one execution the crash.
    degenerate_ = true;
    r_.units = 1;
    r_.unit_executions.assign(1, 0);
    if (o_.shard_index != 0) return;
    UnitResult u;
    u.executions = 1;
    u.exhausted = t && t->size() == 0 && !crash->schedule_truncated;
    u.violations.emplace(crash->kind, crash_violation(*crash));
    crash_kinds_.insert(crash->kind);
    merge_unit(r_, u, 0, true);
    return;
  }
}

void IsolatedExplorer::plan_sampling() {
  ByteWriter w;
  w.u64(plan);
  put_tokens(w, {});
  std::optional<CrashReport> crash;
  const std::string reply = ask_one(w.bytes, crash);
  if (crash) { // PCT's k: the decisions the default run took before it crashed
    std::string error;
    const auto t = engine::ScheduleToken::parse(crash->schedule, &error);
    decisions_ = t ? static_cast<uint32_t>(t->size()) : 0;
  } else {
    ByteReader r(reply);
    decisions_ = static_cast<uint32_t>(r.u64());
  }
  r_.units = o_.budget ? o_.budget : (o_.seconds > 0 ? UINT64_MAX / 2 : 1000);
}

std::optional<WorkItem> IsolatedExplorer::next_request() {
  if (pending_.empty() || stop_ || Clock::now() >= deadline_) return std::nullopt;
  const Span span = pending_.front();
  pending_.pop_front();
  in_flight_[span.begin] = span;
  ByteWriter w;
  if (tree_) {
    const uint64_t unit = unit_at(span.begin);
    w.u64(tree_unit);
    w.u64(options_.empty() ? 0 : options_[unit]);
    w.u64(budget_share(o_, unit, r_.units));
    put_tokens(w, plan_prefixes_);
    put_tokens(w, units_[unit].prefixes);
  } else {
    w.u64(sampled_batch);
    for (uint64_t n : {unit_at(span.begin), span.end - span.begin, uint64_t(o_.shard_count),
                       uint64_t(decisions_)})
      w.u64(n);
  }
  return WorkItem{span.begin, w.bytes};
}

void IsolatedExplorer::tree_unit_crashed(uint64_t unit, const CrashReport& crash) {
  UnitState& state = units_[unit];
  state.crashes.push_back(crash);
  std::string error;
  std::optional<engine::ScheduleToken> t = engine::ScheduleToken::parse(crash.schedule, &error);
  const bool known =
      t && std::find(state.prefixes.begin(), state.prefixes.end(), *t) != state.prefixes.end();
  if (!t || crash.schedule_truncated || known) { // cannot be passed (invariant 3)
    state.given_up = true;
    state.result = UnitResult{};
    return;
  }
  state.prefixes.push_back(std::move(*t));
  const uint64_t position = (unit - o_.shard_index) / o_.shard_count;
  pending_.push_back({position, position + 1}); // a fresh worker passes every crash found so far
}

// The execution at position span.begin + progress crashed: it is a unit of its own; the ones
// before and after it are asked again.
void IsolatedExplorer::batch_crashed(Span span, const CrashReport& crash) {
  const uint64_t crashed = std::min(span.begin + crash.progress, span.end - 1);
  UnitState& state = units_[unit_at(crashed)];
  state.crashes.push_back(crash);
  state.result = UnitResult{};
  if (span.begin < crashed) pending_.push_back({span.begin, crashed});
  if (crashed + 1 < span.end) pending_.push_back({crashed + 1, span.end});
}

void IsolatedExplorer::request_done(uint64_t id, WorkOutcome&& outcome) {
  const Span span = in_flight_.at(id);
  in_flight_.erase(id);
  if (const auto* crash = std::get_if<CrashReport>(&outcome)) {
    crash_kinds_.insert(crash->kind);
    ++failing_;
    if (o_.stop_on_violation) stop_ = true;
    return tree_ ? tree_unit_crashed(unit_at(span.begin), *crash) : batch_crashed(span, *crash);
  }
  UnitResult u;
  try {
    u = get_unit(payload_of(std::get<std::string>(outcome)));
  } catch (const std::exception& e) {
    u.internal_errors.push_back(e.what());
  }
  finished_executions_ += u.executions;
  for (const auto& [kind, v] : u.violations)
    failing_ += v.count;
  if (o_.stop_on_violation && !u.violations.empty()) stop_ = true;
  if (tree_)
    units_[unit_at(span.begin)].result = std::move(u);
  else
    batches_[span.begin] = std::move(u);
}

// The unit's result with its crashes folded in as executions and violations (invariant 2).
UnitResult IsolatedExplorer::finished_unit(uint64_t unit) {
  UnitState& state = units_[unit];
  UnitResult u = state.result.value_or(UnitResult{});
  for (size_t i = 0; i < state.crashes.size(); ++i) {
    FoundViolation v = crash_violation(state.crashes[i]);
    const auto met = std::find_if(u.crashes_met.begin(), u.crashes_met.end(),
                                  [&](const UnitResult::CrashMet& c) { return c.prefix == i; });
    if (met != u.crashes_met.end()) {
      v.first_index = met->index;
      v.preemptions = met->preemptions;
    } else { // not reached again (time ran out, the unit was given up, or sampled): one run
      v.first_index = u.executions++;
    }
    merge_violation(u.violations, v);
  }
  if (!tree_ && !state.crashes.empty()) u.exhausted = true;
  if (state.given_up) {
    u.exhausted = false;
    r_.notes.push_back("unit " + std::to_string(unit) +
                       " stopped at a crash it could not pass (schedule token missing, truncated "
                       "or not reproduced): the rest of that unit was not explored");
  }
  return u;
}

void IsolatedExplorer::run_units() {
  const uint64_t per_request = tree_ ? 1 : kSampledBatch;
  for (uint64_t p = 0; p < positions_; p += per_request)
    if (!tree_ || !o_.budget || budget_share(o_, unit_at(p), r_.units) > 0)
      pending_.push_back({p, std::min(positions_, p + per_request)});
  Clock::time_point last = t0_;
  auto on_tick = [&](uint64_t in_flight) {
    const Clock::time_point now = Clock::now();
    if (!o_.progress || now - last < std::chrono::seconds(1)) return;
    last = now;
    o_.progress({finished_executions_ + in_flight, 0, failing_,
                 std::chrono::duration<double>(now - t0_).count()});
  };
  run_supervised(
      std::max(1u, o_.jobs),
      [&](const std::string& req) { return serve(session_, o_, deadline_, req); },
      [&] { return next_request(); },
      [&](uint64_t id, WorkOutcome&& outcome) { request_done(id, std::move(outcome)); }, on_tick,
      guard_);
}

// Tree units in unit order; sampled batches, then sampled crashes (violations carry their
// unit, so the order of merging does not change the result).
void IsolatedExplorer::merge_all() {
  if (tree_) r_.unit_executions.assign(r_.units, 0);
  for (auto& [unit, state] : units_) {
    if (!state.result && state.crashes.empty()) continue;
    const UnitResult u = finished_unit(unit);
    if (tree_) {
      merge_unit(r_, u, unit, true);
      continue;
    }
    for (FoundViolation v : u.violations | std::views::values) {
      v.first_unit = unit;
      merge_violation(r_.violations, v);
    }
    r_.executions += u.executions;
    r_.units_done += u.executions;
  }
  for (const auto& [position, b] : batches_) {
    for (const auto& [kind, v] : b.violations)
      merge_violation(r_.violations, v);
    r_.executions += b.executions;
    r_.units_done += b.executions;
    r_.outcomes.insert(b.outcomes.begin(), b.outcomes.end());
    for (const auto& [w, n] : b.race_windows)
      r_.race_windows[w] += n;
    for (const std::string& e : b.internal_errors)
      if (r_.internal_errors.size() < 5) r_.internal_errors.push_back(e);
  }
}

// Minimises each violation's schedule in a worker; crash witnesses stay as found (replaying one
// crashes), and a witness whose minimisation crashed stays as found too.
void IsolatedExplorer::minimise_all() {
  if (o_.shrink_budget == 0) return;
  for (auto& [kind, v] : r_.violations) {
    if (crash_kinds_.count(kind)) continue;
    ByteWriter w;
    w.u64(minimise);
    w.u64(o_.shrink_budget);
    put_violation(w, v);
    std::optional<CrashReport> crash;
    const std::string reply = ask_one(w.bytes, crash);
    if (crash) continue;
    ByteReader r(reply);
    v = get_violation(r);
  }
}

ExploreResult IsolatedExplorer::run() {
  r_.strategy = o_.strategy;
  r_.preemptions = o_.preemptions;
  tree_ = is_tree(o_.strategy);
  if (tree_)
    plan_tree();
  else
    plan_sampling();
  if (!degenerate_) {
    const uint64_t mine = r_.units > o_.shard_index
                              ? (r_.units - o_.shard_index + o_.shard_count - 1) / o_.shard_count
                              : 0;
    positions_ = std::min<uint64_t>(mine, 1u << 22);
    run_units();
    merge_all();
  }
  const bool out_of_time = o_.seconds > 0 && Clock::now() >= deadline_;
  r_.exhausted =
      tree_ && !out_of_time && !stop_ && r_.units_done == r_.units && o_.shard_count == 1;
  minimise_all();
  r_.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  return r_;
}

} // namespace

ExploreResult explore_isolated(Session& session, const ExploreOptions& options,
                               const GuardOptions& guard) {
  return IsolatedExplorer(session, options, guard).run();
}

} // namespace diosim::model
