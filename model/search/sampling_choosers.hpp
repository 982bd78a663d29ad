// SPDX-License-Identifier: GPL-2.0-only
// Choosers for sampling strategies and for minimising a found schedule.
//
//   PctChooser     PCT (Burckhardt et al., ASPLOS 2010): every actor (context or pending
//                  completion) gets a random priority when first seen; the highest-priority
//                  enabled option runs; at d-1 random decision indexes the running actor drops
//                  below everyone. A bug of depth d is found with probability >= 1/(n k^(d-1)).
//   PrefixChooser  replays a token prefix by identity, then takes the non-preemptive default
//                  (the running context, else the first option; no fault; the lowest latency).
//   Both record what they chose, with the preemptions they made.
#pragma once

#include "sim/engine/chooser.hpp"
#include "sim/engine/prng.hpp"
#include "sim/engine/scheduler.hpp"

#include <cstdint>
#include <utility>
#include <vector>

namespace diosim::model {

// Records the chosen entries and counts preemptions (a choice other than a running context).
struct ChoiceLog {
  // One allocation up front instead of one per doubling: a log lives for one execution.
  ChoiceLog() { token.reserve(64); }
  engine::ScheduleToken token;
  uint32_t preemptions = 0;
  void note(const engine::Decision& d, uint64_t value);
};

class PctChooser final : public engine::Chooser {
public:
  // `steps_estimate`: decisions an execution takes (k in the paper); `depth`: d.
  PctChooser(uint64_t seed, uint32_t steps_estimate, int depth);
  uint64_t decide(const engine::Decision& d) override;
  ChoiceLog log;

private:
  int64_t priority_of(uint32_t key);
  engine::Prng prng_;
  std::vector<std::pair<uint32_t, int64_t>> priorities_; // actor key -> priority
  std::vector<uint64_t> change_points_;                  // decision indexes, sorted
  uint64_t decision_ = 0;
  int64_t next_low_ = -1;
};

class SeededRandomChooser final : public engine::Chooser {
public:
  explicit SeededRandomChooser(uint64_t seed) : random_(seed) {}
  uint64_t decide(const engine::Decision& d) override {
    const uint64_t v = random_.decide(d);
    log.note(d, v);
    return v;
  }
  bool reads_options() const override { return false; } // note() reads the chosen option only
  ChoiceLog log;

private:
  engine::RandomChooser random_;
};

class PrefixChooser final : public engine::Chooser {
public:
  explicit PrefixChooser(std::vector<engine::ScheduleToken::Entry> prefix)
      : prefix_(std::move(prefix)) {}
  uint64_t decide(const engine::Decision& d) override;
  ChoiceLog log;

private:
  std::vector<engine::ScheduleToken::Entry> prefix_;
  size_t next_ = 0;
};

// A seed for execution `index` of a campaign seeded with `seed` (splitmix64 of both).
uint64_t execution_seed(uint64_t seed, uint64_t index);

} // namespace diosim::model
