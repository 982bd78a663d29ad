// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: what `diosim run FILE` does, minus the file I/O: parse and validate the
// bytes as a scenario; when valid, build the world and run one seeded execution (or the
// scenario's pinned schedule), checked against the invariants and the reference model.
//
// A bad scenario (ScenarioError, a pinned schedule that does not parse) is a normal outcome;
// an internal error (what the CLI maps to exit 3) aborts so libFuzzer records it as a crash, as
// does any other exception. A run stops after kStepBudget scheduling steps (AbandonExecution),
// so the schedule of one input cannot loop for long; what the scenario's own sizes cost is not
// bounded here, on purpose: libFuzzer's -timeout and -rss_limit_mb report it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "model/check/session.hpp"
#include "sim/engine/chooser.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

using namespace diosim;

constexpr uint64_t kStepBudget = 200'000; // shipped scenarios take at most a few thousand

// Asks `inner`, but gives up on the execution once it has run kStepBudget steps.
class BudgetChooser final : public engine::Chooser {
public:
  explicit BudgetChooser(engine::Chooser& inner) : inner_(inner) {}
  uint64_t decide(const engine::Decision& d) override {
    if (d.step > kStepBudget) throw engine::AbandonExecution{};
    return inner_.decide(d);
  }

private:
  engine::Chooser& inner_;
};

[[noreturn]] void internal_error(const std::string& what) {
  std::fprintf(stderr, "scenario_fuzz: internal error (diosim would exit 3): %s\n", what.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<scenario::ScenarioSpec> spec;
  try {
    spec = scenario::parse_scenario(text, "fuzz.json");
  } catch (const scenario::ScenarioError&) {
    return 0; // exit 2: a bad scenario, told to the user
  }
  std::optional<engine::ScheduleToken> pinned;
  if (spec->schedule) {
    pinned = engine::ScheduleToken::parse(*spec->schedule, nullptr);
    if (!pinned) return 0; // exit 2: "bad scenario: FILE: /schedule: ..."
  }
  model::Session session(*spec);
  engine::RandomChooser random(spec->seed);
  std::optional<engine::ReplayChooser> replay;
  if (pinned) replay.emplace(*pinned);
  BudgetChooser chooser(replay ? static_cast<engine::Chooser&>(*replay) : random);
  const model::ExecSummary summary = session.execute(chooser);
  if (summary.internal_error) internal_error(*summary.internal_error);
  return 0;
}
