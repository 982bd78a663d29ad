// SPDX-License-Identifier: GPL-2.0-only
// Kernel-line coverage of the shipped scenarios must not drop, and no line judged unreachable
// may ever run (that would make the judgement wrong).
#include "model/check/coverage.hpp"
#include "model/check/runner.hpp"
#include "model/search/fuzz.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

using namespace diosim;

namespace {
// Covered reachable lines of fs/direct-io.c by the shipped scenarios at seed 1. Raise it when
// a scenario reaches more; a drop means a scenario or the port lost a path.
constexpr size_t kShippedCoveredLines = 427; // 294: stale-pagecache-buffered-write-during-aio
} // namespace

TEST_CASE("shipped scenarios keep their fs/direct-io.c line coverage") {
  model::LineHits hits{};
  for (const std::string& f : scenario::list_scenario_files(DIOSIM_SCENARIO_DIR)) {
    const model::RunResult r = model::run_scenario(scenario::load_scenario(f), model::RunOptions{});
    for (size_t i = 0; i < hits.size(); ++i)
      hits[i] += r.line_hits[i];
  }
  const std::vector<int> marked = model::marked_lines(DIOSIM_PORT_SOURCE);
  CHECK(marked.size() > 400);
  const model::CoverageSummary s = model::summarize(hits, marked);
  INFO("uncovered reachable lines: " << s.uncovered.size());
  CHECK(s.covered.size() >= kShippedCoveredLines);
  for (const auto& u : model::unreachable_lines()) {
    CAPTURE(u.line);
    CHECK(std::binary_search(marked.begin(), marked.end(), u.line)); // it is a real statement
    CHECK(hits[static_cast<size_t>(u.line)] == 0);
  }
}

TEST_CASE("shipped scenarios plus the default fuzz budget reach every reachable line") {
  model::LineHits hits{};
  auto add = [&](const model::RunResult& r) {
    for (size_t i = 0; i < hits.size(); ++i)
      hits[i] += r.line_hits[i];
  };
  for (const std::string& f : scenario::list_scenario_files(DIOSIM_SCENARIO_DIR))
    add(model::run_scenario(scenario::load_scenario(f), model::RunOptions{}));
  model::RunOptions opt;
  opt.check_model = false;
  for (uint64_t i = 0; i < model::kDefaultCoverageFuzzCases; ++i)
    add(model::run_scenario(model::generate_case(1, i).value(), opt));
  const model::CoverageSummary s = model::summarize(hits, model::marked_lines(DIOSIM_PORT_SOURCE));
  std::string missing;
  for (int line : s.uncovered)
    missing += " " + std::to_string(line);
  INFO("reachable lines never run:" << missing);
  CHECK(s.uncovered.empty());
}
