// SPDX-License-Identifier: GPL-2.0-only
// diosim coverage [SCENARIO...] [--seeds K] [--fuzz-cases N] [--fuzz-seed S] [--listing FILE]
//
// Runs the scenarios (default: every shipped one) K times each, and generated fuzz cases, and
// reports which lines of fs/direct-io.c executed: a summary (covered / reachable), the reachable
// lines never run, and optionally the reference listing annotated with hit counts. A run that
// fails (a violation, a failed expectation; for fuzz cases, anything but a known quirk) is
// listed and makes the exit code 1: coverage of failing runs is no evidence.
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/options.hpp"
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

// Failing runs: how many, and the first few, one line each.
struct Failures {
  static constexpr size_t kListed = 10;
  uint64_t count = 0;
  std::vector<std::string> lines;
  void add(const std::string& what, const model::RunResult& r) {
    ++count;
    if (lines.size() >= kListed) return;
    std::string why = r.violation ? "VIOLATION " + r.violation->invariant
                      : !r.failed_expectations.empty()
                          ? "EXPECTATION FAILED " + r.failed_expectations[0]
                      : r.divergence ? "replay divergence: " + *r.divergence
                                     : "exit " + std::to_string(r.exit_code());
    lines.push_back(what + ": " + why);
  }
  void print() const {
    if (!count) return;
    std::printf("FAILING RUNS: %llu (their lines count, but a failing run is a finding):\n",
                static_cast<unsigned long long>(count));
    for (const std::string& l : lines)
      std::printf("  %s\n", l.c_str());
    if (count > lines.size())
      std::printf("  ... and %llu more\n", static_cast<unsigned long long>(count - lines.size()));
  }
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
  std::string error;
  if (!write_text_file(listing, model::annotated_listing(hits, marked, ss.str()), &error)) {
    std::fprintf(stderr, "diosim: %s\n", error.c_str());
    return 2;
  }
  std::printf("annotated listing: %s\n", listing.c_str());
  return 0;
}

// The scenario runs: run 1 is the scenario's own run (its seed, or its pinned schedule, as
// `diosim run FILE` does), runs 2..K use seeds 2..K. Exit code 0, or 2/3 to stop.
int run_scenarios(const std::vector<std::string>& files, uint64_t seeds, model::LineHits& hits,
                  WindowCounts& windows, Failures& failures, uint64_t& runs) {
  for (const std::string& f : files) {
    const std::optional<scenario::ScenarioSpec> loaded = load_scenario_or_report(f);
    if (!loaded) return 2;
    try {
      model::Session session(*loaded);
      for (uint64_t seed = 1; seed <= seeds; ++seed) {
        model::RunOptions opt;
        if (seed > 1) opt.seed = seed;
        const model::RunResult r = model::run_in_session(session, opt);
        if (r.internal_error) {
          std::fprintf(stderr, "diosim: %s\n", r.internal_error->c_str());
          return 3;
        }
        if (r.exit_code() != 0)
          failures.add(f + (seed > 1 ? " --seed " + std::to_string(seed) : std::string()), r);
        add_run(hits, windows, r);
        ++runs;
      }
    } catch (const scenario::ScenarioError& e) { // a pinned schedule that does not parse
      std::fprintf(stderr, "diosim: bad scenario: %s\n", e.what());
      return 2;
    }
  }
  return 0;
}

// Generated scenarios, the same cases `diosim fuzz --seed S` runs (no model check: coverage
// only needs the kernel lines each run executes; a known quirk is not a failure, as in fuzz).
int run_fuzz_cases(const CoverageArgs& a, model::LineHits& hits, WindowCounts& windows,
                   Failures& failures, uint64_t& runs) {
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
    if (r.exit_code() != 0 && !model::known_quirk(spec, r))
      failures.add("diosim fuzz --case " + std::to_string(i) + " --seed " +
                       std::to_string(a.fuzz_seed) + " --no-model",
                   r);
    add_run(hits, windows, r);
    ++runs;
  }
  return 0;
}

int cmd_coverage(const CoverageArgs& a) {
  const std::vector<std::string> files = a.scenarios.empty() ? shipped() : a.scenarios;
  model::LineHits hits{};
  WindowCounts windows{};
  Failures failures;
  uint64_t runs = 0;
  if (const int rc = run_scenarios(files, a.seeds, hits, windows, failures, runs)) return rc;
  if (const int rc = run_fuzz_cases(a, hits, windows, failures, runs)) return rc;
  const std::vector<int> marked = model::marked_lines(kPortSource);
  print_coverage(a, hits, marked, runs, files.size());
  print_windows(windows);
  failures.print();
  if (!a.listing.empty())
    if (const int rc = write_listing(a.listing, hits, marked)) return rc;
  return failures.count ? 1 : 0;
}

} // namespace

Action register_coverage(CLI::App& app) {
  auto a = std::make_shared<CoverageArgs>();
  CLI::App* cmd = app.add_subcommand("coverage", "report which fs/direct-io.c lines runs execute");
  cmd->add_option("scenarios", a->scenarios, "scenario files (default: every shipped scenario)");
  cmd->add_option("--seeds", a->seeds,
                  "run each scenario K times: its own run (its seed or pinned schedule), then "
                  "seeds 2..K (default 1)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000}));
  cmd->add_option("--fuzz-cases", a->fuzz_cases,
                  "also run N generated scenarios, the cases of diosim fuzz (default 2000)");
  cmd->add_option("--fuzz-seed", a->fuzz_seed, "campaign seed of those cases (default 1)")
      ->check(unsigned_integer());
  cmd->add_option("--listing", a->listing, "write fs/direct-io.c annotated with hit counts here");
  return [a, cmd]() -> int { return cmd->parsed() ? cmd_coverage(*a) : -1; };
}

} // namespace diosim::cli
