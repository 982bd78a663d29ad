// SPDX-License-Identifier: GPL-2.0-only
// Every shipped scenario passes for every seed 1..kSeeds, not only for the seed in its file: a
// scenario's expectations must allow every legitimate interleaving (use "one_of" where the
// outcome depends on one). Each run must exit 0: no violation, no failed expectation.
// Shipped scenarios are those of scenarios/ and of scenarios/upstream/ (translations of
// upstream fstests/LTP tests, docs/SCENARIOS.md "Upstream translations").
#include "model/check/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace diosim;

namespace {

// All 50 seeds for every file: the whole set takes a few seconds in a RelWithDebInfo build.
constexpr uint64_t kSeeds = 50;

} // namespace

TEST_CASE("shipped scenarios pass for seeds 1..50") {
  std::vector<std::string> files = scenario::list_scenario_files(DIOSIM_SCENARIO_DIR);
  REQUIRE(!files.empty());
  const std::vector<std::string> upstream =
      scenario::list_scenario_files(std::string(DIOSIM_SCENARIO_DIR) + "/upstream");
  REQUIRE(!upstream.empty());
  files.insert(files.end(), upstream.begin(), upstream.end());
  for (const std::string& path : files) {
    const scenario::ScenarioSpec spec = scenario::load_scenario(path);
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      model::RunOptions opt;
      opt.seed = seed;
      const model::RunResult r = model::run_scenario(spec, opt);
      if (r.exit_code() == 0) continue;
      std::string why = r.violation
                            ? "VIOLATION " + r.violation->invariant + ": " + r.violation->message
                        : !r.failed_expectations.empty() ? r.failed_expectations.front()
                        : r.internal_error               ? *r.internal_error
                        : r.divergence                   ? *r.divergence
                                                         : std::string();
      const std::string message = path + " --seed " + std::to_string(seed) + ": exit code " +
                                  std::to_string(r.exit_code()) + ": " + why;
      FAIL_CHECK(message);
    }
  }
}
