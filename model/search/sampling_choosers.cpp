// SPDX-License-Identifier: GPL-2.0-only
#include "model/search/sampling_choosers.hpp"

#include <algorithm>

namespace diosim::model {

using engine::DecisionKind;

void ChoiceLog::note(const engine::Decision& d, uint64_t value) {
  const engine::ScheduleToken::Entry e = engine::token_entry(d, value);
  token.push(e.kind, e.value);
  if (d.kind == DecisionKind::next_step && d.running != 0) {
    const engine::DecisionOption o = d.option(value);
    if (o.is_event || o.id != d.running) ++preemptions;
  }
}

uint64_t execution_seed(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

PctChooser::PctChooser(uint64_t seed, uint32_t steps_estimate, int depth) : prng_(seed) {
  const uint64_t k = std::max<uint32_t>(steps_estimate, 1);
  for (int i = 1; i < depth; ++i)
    change_points_.push_back(prng_.below(k));
  std::sort(change_points_.begin(), change_points_.end());
}

int64_t PctChooser::priority_of(uint32_t key) {
  for (const auto& [k, p] : priorities_)
    if (k == key) return p;
  // New actors get a random high priority (above every lowered one, which are negative).
  const int64_t p = static_cast<int64_t>(prng_.below(1u << 30)) + 1;
  priorities_.emplace_back(key, p);
  return p;
}

uint64_t PctChooser::decide(const engine::Decision& d) {
  uint64_t value = 0;
  if (d.kind == DecisionKind::latency_ns) {
    value = d.lo;
  } else if (d.kind == DecisionKind::fault) {
    value = prng_.below(d.fault_options);
  } else {
    const uint64_t index = decision_++;
    auto key = [&](size_t i) {
      const engine::DecisionOption& o = d.options[i];
      return o.is_event ? engine::Transition::kEventBit | o.id : o.id;
    };
    size_t best = 0;
    for (size_t i = 1; i < d.options.size(); ++i)
      if (priority_of(key(i)) > priority_of(key(best))) best = i;
    if (std::binary_search(change_points_.begin(), change_points_.end(), index)) {
      for (auto& [k, p] : priorities_)
        if (k == key(best)) p = next_low_--; // drops below every other actor
      best = 0;
      for (size_t i = 1; i < d.options.size(); ++i)
        if (priority_of(key(i)) > priority_of(key(best))) best = i;
    }
    value = best;
  }
  log.note(d, value);
  return value;
}

uint64_t PrefixChooser::decide(const engine::Decision& d) {
  uint64_t value = 0;
  if (next_ < prefix_.size()) {
    value = engine::value_of_entry(d, prefix_[next_], next_);
  } else if (d.kind == DecisionKind::latency_ns) {
    value = d.lo;
  } else if (d.kind == DecisionKind::next_step) {
    for (size_t i = 0; i < d.options.size(); ++i)
      if (!d.options[i].is_event && d.options[i].id == d.running) value = i;
  }
  ++next_;
  log.note(d, value);
  return value;
}

} // namespace diosim::model
