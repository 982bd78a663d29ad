// SPDX-License-Identifier: GPL-2.0-only
// Golden counts (GenMC's `expected` files): for small scenarios, the exact number of executions
// exhaustive dfs and dpor run, and the terminal states and violations they reach. A change that
// loses or duplicates schedules shows up as a changed count; dpor must reach exactly the
// terminal states and violation kinds dfs reaches (its reduction is sound), with fewer
// executions. tests/golden/expected.txt holds the counts; DIOSIM_GOLDEN_PRINT=1 prints the
// measured lines in its format.
#include "model/check/session.hpp"
#include "model/search/explore.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace diosim;

namespace {

struct Golden {
  std::string name;
  int preemptions = -1; // "-" in the file: unbounded
  uint64_t dfs = 0, dpor = 0, dpor_blocked = 0, outcomes = 0;
  std::string violations; // kinds joined by ',' or "-"
};

std::vector<Golden> read_expected() {
  std::ifstream in(std::string(DIOSIM_TEST_DIR) + "/golden/expected.txt");
  REQUIRE_MESSAGE(in.good(), "cannot read tests/golden/expected.txt");
  std::vector<Golden> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    Golden g;
    std::string k;
    ss >> g.name >> k >> g.dfs >> g.dpor >> g.dpor_blocked >> g.outcomes >> g.violations;
    REQUIRE_MESSAGE(!ss.fail(), "bad line in expected.txt: " << line);
    g.preemptions = k == "-" ? -1 : std::stoi(k);
    out.push_back(g);
  }
  return out;
}

std::string kinds(const model::ExploreResult& r) {
  std::string out;
  for (const auto& [kind, v] : r.violations)
    out += (out.empty() ? "" : ",") + kind;
  return out.empty() ? "-" : out;
}

model::ExploreResult run(model::Session& s, model::Strategy strategy, int preemptions) {
  model::ExploreOptions o;
  o.strategy = strategy;
  o.preemptions = preemptions;
  o.shrink_budget = 0;
  return model::explore(s, o);
}

} // namespace

TEST_CASE("golden counts: dfs and dpor executions, terminal states and violations") {
  const bool print = std::getenv("DIOSIM_GOLDEN_PRINT") != nullptr;
  const std::vector<Golden> expected = read_expected();
  REQUIRE(expected.size() >= 8);
  for (const Golden& g : expected) {
    CAPTURE(g.name);
    scenario::ScenarioSpec spec =
        scenario::load_scenario(std::string(DIOSIM_TEST_DIR) + "/golden/" + g.name + ".json");
    model::Session session(spec);
    const model::ExploreResult dfs = run(session, model::Strategy::dfs, g.preemptions);
    const model::ExploreResult dpor = run(session, model::Strategy::dpor, g.preemptions);
    if (print)
      std::printf("%-22s %-3s %8llu %8llu %6llu %3zu %s\n", g.name.c_str(),
                  g.preemptions < 0 ? "-" : std::to_string(g.preemptions).c_str(),
                  static_cast<unsigned long long>(dfs.executions),
                  static_cast<unsigned long long>(dpor.executions - dpor.abandoned),
                  static_cast<unsigned long long>(dpor.abandoned), dfs.outcomes.size(),
                  kinds(dfs).c_str());
    CHECK(dfs.exhausted);
    CHECK(dpor.exhausted);
    CHECK(dfs.abandoned == 0);
    // Soundness: dpor reaches every terminal state and violation kind dfs reaches.
    CHECK(dpor.outcomes == dfs.outcomes);
    CHECK(kinds(dpor) == kinds(dfs));
    CHECK(dpor.executions - dpor.abandoned <= dfs.executions);
    // The golden numbers.
    CHECK(dfs.executions == g.dfs);
    CHECK(dpor.executions - dpor.abandoned == g.dpor);
    CHECK(dpor.abandoned == g.dpor_blocked);
    CHECK(dfs.outcomes.size() == g.outcomes);
    CHECK(kinds(dfs) == g.violations);
  }
}

namespace {

// Everything a result reports, but the wall clock.
void check_same(const model::ExploreResult& a, const model::ExploreResult& b) {
  CHECK(a.executions == b.executions);
  CHECK(a.abandoned == b.abandoned);
  CHECK(a.exhausted == b.exhausted);
  CHECK(a.units == b.units);
  CHECK(a.units_done == b.units_done);
  CHECK(a.unit_executions == b.unit_executions);
  CHECK(a.outcomes == b.outcomes);
  CHECK(a.race_windows == b.race_windows);
  CHECK(kinds(a) == kinds(b));
  for (const auto& [kind, v] : a.violations) {
    const model::FoundViolation& w = b.violations.at(kind);
    CHECK(v.token == w.token);
    CHECK(v.count == w.count);
    CHECK(v.first_unit == w.first_unit);
    CHECK(v.first_index == w.first_index);
    CHECK(v.preemptions == w.preemptions);
  }
}

} // namespace

TEST_CASE("results do not depend on jobs, and shards merge into one process's result") {
  const scenario::ScenarioSpec spec =
      scenario::load_scenario(std::string(DIOSIM_TEST_DIR) + "/golden/aio-write-2bio.json");
  model::Session session(spec);
  model::ExploreOptions o;
  o.strategy = model::Strategy::dpor;
  o.preemptions = 2;
  const model::ExploreResult one = model::explore(session, o);
  o.jobs = 2;
  const model::ExploreResult two = model::explore(session, o);
  CHECK(two.executions == one.executions);
  CHECK(two.outcomes == one.outcomes);
  o.jobs = 1;
  std::vector<model::ExploreResult> shards;
  for (unsigned i = 0; i < 3; ++i) {
    o.shard_index = i;
    o.shard_count = 3;
    shards.push_back(model::explore(session, o));
  }
  check_same(model::merge_results(shards), one);
}

TEST_CASE("the crash-isolated explorer gives the in-process explorer's result") {
  const scenario::ScenarioSpec spec =
      scenario::load_scenario(std::string(DIOSIM_TEST_DIR) + "/golden/aio-read-2bio.json");
  model::Session session(spec);
  model::ExploreOptions o;
  o.preemptions = 2;
  const model::GuardOptions guard;
  for (model::Strategy s : {model::Strategy::dfs, model::Strategy::dpor, model::Strategy::pct,
                            model::Strategy::random}) {
    CAPTURE(model::strategy_name(s));
    o.strategy = s;
    o.budget = s == model::Strategy::pct || s == model::Strategy::random ? 700 : 0;
    const model::ExploreResult in_process = model::explore(session, o);
    REQUIRE(!in_process.violations.empty()); // aio-read-2bio has an expectation to find
    check_same(model::explore_isolated(session, o, guard), in_process);
    o.jobs = 2;
    o.shard_index = 1;
    o.shard_count = 2;
    check_same(model::explore_isolated(session, o, guard), model::explore(session, o));
    o.jobs = 1;
    o.shard_index = 0;
    o.shard_count = 1;
  }
}
