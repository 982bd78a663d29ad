// SPDX-License-Identifier: GPL-2.0-only
// Minimising a violating schedule: scheduling and fault choices are shrunk together by
// replaying ever shorter prefixes of the token and letting the non-preemptive, fault-free
// default take over; a candidate is kept when it fails the same way and is smaller (fewer
// preemptions, then fewer decisions). Deterministic: candidates are tried in a fixed order.
#include "model/search/explore_units.hpp"
#include "model/search/sampling_choosers.hpp"

namespace diosim::model {
namespace {

struct Candidate {
  FoundViolation witness;
  bool fails_same = false;
};

Candidate try_prefix(Session& session, const std::string& kind,
                     const std::vector<engine::ScheduleToken::Entry>& prefix) {
  PrefixChooser chooser(prefix);
  const ExecSummary s = session.execute(chooser);
  Candidate c;
  c.fails_same = !s.divergence && !s.internal_error && s.failure_kind() == kind;
  if (!c.fails_same) return c;
  c.witness.kind = kind;
  c.witness.message = s.violation ? s.violation->message : s.failed_expectations.front();
  c.witness.src_line = s.violation ? s.violation->src_line : 0;
  c.witness.context = s.violation_context;
  c.witness.token = chooser.log.token.to_string();
  c.witness.preemptions = chooser.log.preemptions;
  c.witness.decisions = static_cast<uint32_t>(chooser.log.token.size());
  return c;
}

// One pass: the shortest prefix whose default continuation still fails the same way and is
// better. Returns false when no prefix improves on `best`.
bool improve(Session& session, FoundViolation& best, uint64_t& budget) {
  std::string error;
  const auto token = engine::ScheduleToken::parse(best.token, &error);
  if (!token) return false;
  const std::vector<engine::ScheduleToken::Entry>& entries = token->entries();
  for (size_t len = 0; len < entries.size() && budget > 0; ++len) {
    --budget;
    const std::vector<engine::ScheduleToken::Entry> prefix(
        entries.begin(), entries.begin() + static_cast<long>(len));
    Candidate c = try_prefix(session, best.kind, prefix);
    if (c.fails_same && better_witness(c.witness, best)) {
      c.witness.first_unit = best.first_unit;
      c.witness.first_index = best.first_index;
      c.witness.count = best.count;
      best = c.witness;
      return true;
    }
  }
  return false;
}

} // namespace

void units::minimise_witnesses(Session& session, ExploreResult& r, uint64_t budget) {
  for (auto& [kind, v] : r.violations) {
    uint64_t left = budget;
    while (left > 0 && improve(session, v, left)) {
    }
  }
}

} // namespace diosim::model
