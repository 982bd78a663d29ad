// SPDX-License-Identifier: GPL-2.0-only
// Helpers for tests that run scenarios written inline as JSON: the parse error a text gives,
// one seeded run of it, and the check that a run agreed with everything (invariants, the
// scenario's expectations, the reference model).
#pragma once

#include "model/check/runner.hpp"
#include "model/reference/reference.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace diosim::test {

// The ScenarioError message `json` gives when parsed as file `path`; "" when it parses.
inline std::string scenario_error(const std::string& json, const std::string& path) {
  try {
    scenario::parse_scenario(json, path);
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  }
  return "";
}

inline model::RunResult run_scenario_text(const std::string& json, const std::string& path,
                                          uint64_t seed) {
  model::RunOptions o;
  o.seed = seed;
  return model::run_scenario(scenario::parse_scenario(json, path), o);
}

// A run with no violation, no failed expectation and no disagreement with the reference model.
inline void check_clean(const model::RunResult& r) {
  CHECK_MESSAGE(!r.violation, (r.violation ? r.violation->message : ""));
  CHECK_MESSAGE(!r.divergence, r.divergence.value_or(""));
  for (const std::string& f : r.failed_expectations)
    FAIL_CHECK(f);
  CHECK(!r.internal_error);
}

inline bool has_rule(const model::ExpectedOp& e, const std::string& rule) {
  return std::find(e.rules.begin(), e.rules.end(), rule) != e.rules.end();
}

} // namespace diosim::test
