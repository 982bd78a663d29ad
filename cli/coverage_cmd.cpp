// SPDX-License-Identifier: GPL-2.0-only
// diosim coverage [SCENARIO...] [--seeds K] [--fuzz-cases N] [--fuzz-seed S] [--listing FILE]
//
// Runs the scenarios (default: every shipped one) with seeds 1..K and reports which lines of
// fs/direct-io.c executed: a summary (covered / reachable), the reachable lines never run, and
// optionally the reference listing annotated with hit counts.
#include "cli/commands.hpp"
#include "cli/port_source.hpp"
#include "sim/kernel/race_windows.hpp"

#include "model/check/coverage.hpp"
#include "model/check/runner.hpp"
#include "model/search/fuzz.hpp"
#include "sim/scenario/scenario.hpp"
#include <array>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace diosim::cli {
namespace {

struct CoverageArgs {
  std::vector<std::string> scenarios;
  uint64_t seeds = 1;
  uint64_t fuzz_cases = model::kDefaultCoverageFuzzCases;
  uint64_t fuzz_seed = 1;
  std::string listing;
};

using WindowCounts = std::array<uint64_t, static_cast<size_t>(kern::RaceWindow::count)>;

void add_run(model::LineHits& hits, WindowCounts& windows, const model::RunResult& r) {
  for (size_t i = 0; i < hits.size(); ++i)
    hits[i] += r.line_hits[i];
  for (size_t w = 0; w < windows.size(); ++w)
    windows[w] += (r.race_windows >> w) & 1u;
}

// Race windows (sim/kernel/race_windows.hpp): how many runs opened each.
void print_windows(const WindowCounts& windows) {
  std::printf("race windows (runs that opened each):\n");
  for (size_t w = 0; w < windows.size(); ++w)
    std::printf("  %-30s %llu\n", kern::race_window_name(static_cast<kern::RaceWindow>(w)),
                static_cast<unsigned long long>(windows[w]));
}

std::vector<std::string> shipped() {
  return scenario::list_scenario_files(DIOSIM_SCENARIO_DIR);
}

void print_coverage(const CoverageArgs& a, const model::LineHits& hits,
                    const std::vector<int>& marked, uint64_t runs, size_t scenario_count) {
  const model::CoverageSummary s = model::summarize(hits, marked);
  std::printf("fs/direct-io.c line coverage: %zu / %zu reachable lines (%.1f%%), %llu runs of %zu "
              "scenario(s)\n",
              s.covered.size(), s.reachable.size(),
              s.reachable.empty() ? 0.0 : 100.0 * s.covered.size() / s.reachable.size(),
              static_cast<unsigned long long>(runs), scenario_count);
  if (a.fuzz_cases)
    std::printf("  (of which %llu generated cases, diosim fuzz --seed %llu)\n",
                static_cast<unsigned long long>(a.fuzz_cases),
                static_cast<unsigned long long>(a.fuzz_seed));
  std::printf("judged unreachable (not counted):\n");
  for (const auto& u : model::unreachable_lines())
    std::printf("  fs/direct-io.c:%d  %s\n", u.line, u.reason);
  if (!s.uncovered.empty()) {
    std::printf("reachable but not covered:");
    for (int line : s.uncovered)
      std::printf(" %d", line);
    std::printf("\n");
  }
}

// The reference source annotated with hit counts; exit code 0, or 2 when a file fails.
int write_listing(const std::string& listing, const model::LineHits& hits,
                  const std::vector<int>& marked) {
  std::ifstream in(std::string(DIOSIM_REFERENCE_SOURCE));
  if (!in) {
    std::fprintf(stderr, "diosim: %s: cannot read the reference source\n", DIOSIM_REFERENCE_SOURCE);
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::ofstream out(listing);
  out << model::annotated_listing(hits, marked, ss.str());
  if (!out) {
    std::fprintf(stderr, "diosim: cannot write %s\n", listing.c_str());
    return 2;
  }
  std::printf("annotated listing: %s\n", listing.c_str());
  return 0;
}

int cmd_coverage(const CoverageArgs& a) {
  const std::vector<std::string> files = a.scenarios.empty() ? shipped() : a.scenarios;
  model::LineHits hits{};
  WindowCounts windows{};
  uint64_t runs = 0;
  for (const std::string& f : files) {
    const std::optional<scenario::ScenarioSpec> loaded = load_scenario_or_report(f);
    if (!loaded) return 2;
    const scenario::ScenarioSpec& spec = *loaded;
    for (uint64_t seed = 1; seed <= a.seeds; ++seed) {
      model::RunOptions opt;
      opt.seed = seed;
      // A scenario's pinned interleaving is what its first run replays, as `diosim run` does.
      if (seed == 1 && spec.schedule)
        opt.replay = engine::ScheduleToken::parse(*spec.schedule, nullptr);
      const model::RunResult r = model::run_scenario(spec, opt);
      if (r.internal_error) {
        std::fprintf(stderr, "diosim: %s\n", r.internal_error->c_str());
        return 3;
      }
      add_run(hits, windows, r);
      ++runs;
    }
  }
  // Generated scenarios, the same cases `diosim fuzz --seed S` runs (no model check: coverage
  // only needs the kernel lines each run executes).
  for (uint64_t i = 0; i < a.fuzz_cases; ++i) {
    const scenario::ScenarioSpec spec = model::generate_case(a.fuzz_seed, i).value();
    model::RunOptions opt;
    opt.check_model = false;
    const model::RunResult r = model::run_scenario(spec, opt);
    if (r.internal_error) {
      std::fprintf(stderr, "diosim: fuzz case %llu: %s\n", static_cast<unsigned long long>(i),
                   r.internal_error->c_str());
      return 3;
    }
    add_run(hits, windows, r);
    ++runs;
  }
  const std::vector<int> marked = model::marked_lines(kPortSource);
  print_coverage(a, hits, marked, runs, files.size());
  print_windows(windows);
  return a.listing.empty() ? 0 : write_listing(a.listing, hits, marked);
}

} // namespace

Action register_coverage(CLI::App& app) {
  auto a = std::make_shared<CoverageArgs>();
  CLI::App* cmd = app.add_subcommand("coverage", "report which fs/direct-io.c lines runs execute");
  cmd->add_option("scenarios", a->scenarios, "scenario files (default: every shipped scenario)");
  cmd->add_option("--seeds", a->seeds, "run each scenario with seeds 1..K (default 1)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));
  cmd->add_option("--fuzz-cases", a->fuzz_cases,
                  "also run N generated scenarios, the cases of diosim fuzz (default 2000)");
  cmd->add_option("--fuzz-seed", a->fuzz_seed, "campaign seed of those cases (default 1)");
  cmd->add_option("--listing", a->listing, "write fs/direct-io.c annotated with hit counts here");
  return [a, cmd]() -> int { return cmd->parsed() ? cmd_coverage(*a) : -1; };
}

} // namespace diosim::cli
