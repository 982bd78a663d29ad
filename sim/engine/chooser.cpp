// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/chooser.hpp"

namespace diosim::engine {

uint64_t ReplayChooser::decide(const Decision& d) {
  const bool want_latency = d.kind == DecisionKind::latency_ns;
  const std::string where = "replay diverged at step " + std::to_string(d.step) + ": ";
  if (next_ >= token_.size())
    throw ReplayDivergence(where + "the token has " + std::to_string(token_.size()) +
                           " decisions and the run asks for another");
  const ScheduleToken::Entry& e = token_[next_++];
  if (e.is_latency != want_latency)
    throw ReplayDivergence(where + "decision " + std::to_string(next_ - 1) + " is " +
                           (e.is_latency ? "a latency" : "a step choice") + " in the token but " +
                           (want_latency ? "a latency" : "a step choice") + " in the run");
  if (!want_latency && e.value >= d.options.size())
    throw ReplayDivergence(where + "decision " + std::to_string(next_ - 1) + " picks option " +
                           std::to_string(e.value) + " of " + std::to_string(d.options.size()));
  if (want_latency && (e.value < d.lo || e.value > d.hi))
    throw ReplayDivergence(where + "latency " + std::to_string(e.value) + " outside [" +
                           std::to_string(d.lo) + ", " + std::to_string(d.hi) + "]");
  return e.value;
}

void ReplayChooser::finish() const {
  if (next_ != token_.size())
    throw ReplayDivergence("replay diverged: the run ended after " + std::to_string(next_) +
                           " of the token's " + std::to_string(token_.size()) + " decisions");
}

} // namespace diosim::engine
