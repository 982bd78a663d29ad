// SPDX-License-Identifier: GPL-2.0-only
// diosim-bench-explore: the explorer's figures, printed, never asserted (machines are noisy).
//
//   1. Executions/s through a Session with and without the reference-model check, on three
//      scenarios (the model is computed once per Session, so the check costs only the
//      comparison); medians of several rounds measured in one run.
//   2. dfs vs dpor executions on the golden scenarios (tests/golden/expected.txt).
//
// `diosim-bench-explore --runs N [--no-model] [SCENARIO]` runs N executions of one scenario
// (default aligned-write) and prints nothing else: a fixed workload for callgrind and perf.
#include "model/check/session.hpp"
#include "model/search/explore.hpp"
#include "model/search/sampling_choosers.hpp"
#include "sim/scenario/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock; // benchmarks only: never part of a simulated run
using namespace diosim;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Executions per second of seeded random schedules for ~0.3 s.
double executions_per_s(model::Session& session) {
  uint64_t runs = 0;
  const Clock::time_point t0 = Clock::now();
  Clock::time_point t1 = t0;
  while (std::chrono::duration<double>(t1 - t0).count() < 0.3) {
    model::SeededRandomChooser chooser(model::execution_seed(1, runs));
    session.execute(chooser);
    ++runs;
    t1 = Clock::now();
  }
  return static_cast<double>(runs) / std::chrono::duration<double>(t1 - t0).count();
}

void check_cost(const std::string& name) {
  scenario::ScenarioSpec spec = scenario::load_scenario(DIOSIM_SCENARIO_DIR "/" + name + ".json");
  model::Session with(spec, true), without(spec, false);
  std::vector<double> a, b;
  for (int r = 0; r < 5; ++r) {
    a.push_back(executions_per_s(with));
    b.push_back(executions_per_s(without));
  }
  std::printf("  %-26s %9.0f %9.0f   %5.1f%%\n", name.c_str(), median(a), median(b),
              100.0 * median(a) / median(b));
}

void ratio_row(const std::string& name, const std::string& k, unsigned jobs) {
  scenario::ScenarioSpec spec =
      scenario::load_scenario(DIOSIM_TEST_DIR "/golden/" + name + ".json");
  model::Session session(spec);
  model::ExploreOptions o;
  o.preemptions = k == "-" ? -1 : std::stoi(k);
  o.shrink_budget = 0;
  o.jobs = jobs;
  o.strategy = model::Strategy::dfs;
  const model::ExploreResult dfs = model::explore(session, o);
  o.strategy = model::Strategy::dpor;
  const model::ExploreResult dpor = model::explore(session, o);
  const uint64_t complete = dpor.executions - dpor.abandoned;
  std::printf("  %-22s %3s %9llu %9llu %7llu %6.1fx\n", name.c_str(), k.c_str(),
              static_cast<unsigned long long>(dfs.executions),
              static_cast<unsigned long long>(complete),
              static_cast<unsigned long long>(dpor.abandoned),
              static_cast<double>(dfs.executions) / static_cast<double>(complete));
}

void golden_ratios() {
  std::ifstream in(DIOSIM_TEST_DIR "/golden/expected.txt");
  std::string line;
  std::printf("\ndfs vs dpor (exhaustive within the bound; dpor complete + sleep-set-blocked)\n");
  std::printf("  %-22s %3s %9s %9s %7s %7s\n", "scenario", "K", "dfs", "dpor", "blocked", "ratio");
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string name, k;
    ss >> name >> k;
    ratio_row(name, k, 1);
  }
  // Too slow for the golden test (dfs runs ~375 000 executions): measured here only.
  std::printf("  bench only:\n");
  ratio_row("aio-read-4bio", "2", 2);
}

// The fixed workload of --runs: N seeded executions through one Session.
int fixed_runs(int argc, char** argv) {
  uint64_t runs = 0;
  bool check_model = true;
  std::string name = "aligned-write";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc && std::isdigit(static_cast<unsigned char>(argv[i + 1][0])))
      runs = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--no-model")
      check_model = false;
    else if (!a.empty() && a[0] != '-')
      name = a;
    else {
      std::fprintf(stderr, "usage: diosim-bench-explore [--runs N [--no-model] [SCENARIO]]\n");
      return 2;
    }
  }
  scenario::ScenarioSpec spec;
  try {
    spec = scenario::load_scenario(DIOSIM_SCENARIO_DIR "/" + name + ".json");
  } catch (const scenario::ScenarioError& e) {
    std::fprintf(stderr, "diosim-bench-explore: %s\n", e.what());
    return 2;
  }
  model::Session session(spec, check_model);
  uint64_t failed = 0;
  for (uint64_t r = 0; r < runs; ++r) {
    model::SeededRandomChooser chooser(model::execution_seed(1, r));
    const model::ExecSummary s = session.execute(chooser);
    failed += s.violation || !s.failed_expectations.empty() || s.internal_error;
  }
  std::printf("%s: %llu executions, %llu failed\n", name.c_str(),
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(failed));
  return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1) return fixed_runs(argc, argv);
  std::printf("executions/s through a Session (seeded random schedules, median of 5)\n");
  std::printf("  %-26s %9s %9s   %s\n", "scenario", "checked", "unchecked", "ratio");
  for (const char* s : {"aligned-write", "aio-read-queued", "two-tasks"})
    check_cost(s);
  golden_ratios();
  return 0;
}
