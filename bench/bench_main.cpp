// SPDX-License-Identifier: GPL-2.0-only
// diosim-bench: throughput figures, printed, never asserted (machines here are noisy).
//
// Prints, each as the median of several rounds measured in one run:
//   - a bare Boost.Context fiber switch round trip (ns), the floor for a scheduling step;
//   - executions per second of a scenario with tracing off (default: aligned-write);
//   - ns per scheduling step, and its ratio to the bare switch.
#include "model/check/runner.hpp"
#include "sim/engine/scheduler.hpp"
#include "sim/scenario/scenario.hpp"

#include <boost/context/fiber.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock; // benchmarks only: never part of a simulated run

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double fiber_round_trip_ns() {
  namespace ctx = boost::context;
  constexpr int kSwitches = 1'000'000;
  ctx::fiber f{[](ctx::fiber&& main) {
    for (;;)
      main = std::move(main).resume();
    return std::move(main);
  }};
  const auto t0 = Clock::now();
  for (int i = 0; i < kSwitches; ++i)
    f = std::move(f).resume();
  const auto t1 = Clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / kSwitches;
}

// One scheduling step of the bare engine: two task contexts yielding, a seeded random choice
// at every step (about half of them switch contexts).
double engine_step_ns() {
  using namespace diosim::engine;
  constexpr int kSteps = 1'000'000;
  RandomChooser chooser(1);
  Scheduler::Config cfg;
  Scheduler s(cfg, chooser, nullptr);
  for (int t = 0; t < 2; ++t)
    s.spawn(ContextKind::task, "t", [&s] {
      for (int i = 0; i < kSteps / 2; ++i)
        s.yield(StepOp::observe, {});
    });
  const auto t0 = Clock::now();
  s.run();
  const auto t1 = Clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / kSteps;
}

} // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : DIOSIM_SCENARIO_DIR "/aligned-write.json";
  const int rounds = 7;
  const diosim::scenario::ScenarioSpec spec = diosim::scenario::load_scenario(path);

  std::vector<double> switch_ns, exec_per_s, step_ns, engine_ns;
  uint64_t steps = 0;
  for (int r = 0; r < rounds; ++r) {
    switch_ns.push_back(fiber_round_trip_ns());
    engine_ns.push_back(engine_step_ns());
    int runs = 0;
    uint64_t total_steps = 0;
    const auto t0 = Clock::now();
    auto t1 = t0;
    while (std::chrono::duration<double>(t1 - t0).count() < 0.3) {
      diosim::model::RunOptions opt;
      opt.seed = static_cast<uint64_t>(runs + 1);
      const auto res = diosim::model::run_scenario(spec, opt);
      if (res.exit_code() != 0) {
        std::fprintf(stderr, "bench: scenario %s did not pass\n", path.c_str());
        return 1;
      }
      total_steps += res.steps;
      ++runs;
      t1 = Clock::now();
    }
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    exec_per_s.push_back(runs / secs);
    step_ns.push_back(secs * 1e9 / static_cast<double>(total_steps));
    steps = total_steps / static_cast<uint64_t>(runs);
  }
  const double sw = median(switch_ns), st = median(step_ns);
  std::printf("scenario            %s (%llu steps per execution)\n", spec.name.c_str(),
              static_cast<unsigned long long>(steps));
  std::printf("fiber round trip    %.1f ns (median of %d)\n", sw, rounds);
  std::printf("engine step         %.1f ns, %.1fx a fiber round trip (2 contexts, random choice)\n",
              median(engine_ns), median(engine_ns) / sw);
  std::printf("executions/s        %.0f (median of %d, tracing off)\n", median(exec_per_s), rounds);
  std::printf("ns per step         %.1f, %.1fx a fiber round trip (whole execution incl. set-up)\n",
              st, st / sw);
  return 0;
}
