// SPDX-License-Identifier: GPL-2.0-only
#include "model/search/explore_json.hpp"

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace diosim::model {

using J = nlohmann::ordered_json;

namespace {

std::string hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

J violation_json(const FoundViolation& v) {
  return J{{"kind", v.kind},
           {"count", v.count},
           {"first_unit", v.first_unit},
           {"first_index", v.first_index},
           {"preemptions", v.preemptions},
           {"decisions", v.decisions},
           {"src_line", v.src_line},
           {"context", v.context},
           {"message", v.message},
           {"schedule", v.token}};
}

template <typename T> T field(const J& j, const char* key) {
  if (!j.contains(key)) throw std::runtime_error(std::string("missing field \"") + key + "\"");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(std::string("field \"") + key + "\" has the wrong type");
  }
}

FoundViolation violation_of(const J& j) {
  FoundViolation v;
  v.kind = field<std::string>(j, "kind");
  v.count = field<uint64_t>(j, "count");
  v.first_unit = field<uint64_t>(j, "first_unit");
  v.first_index = field<uint64_t>(j, "first_index");
  v.preemptions = field<uint32_t>(j, "preemptions");
  v.decisions = field<uint32_t>(j, "decisions");
  v.src_line = field<int>(j, "src_line");
  v.context = field<std::string>(j, "context");
  v.message = field<std::string>(j, "message");
  v.token = field<std::string>(j, "schedule");
  return v;
}

} // namespace

std::string explore_result_json(const ExploreResult& r, const std::string& scenario_path) {
  J j;
  j["format"] = "diosim-explore-1";
  j["scenario"] = scenario_path;
  j["strategy"] = strategy_name(r.strategy);
  j["preemptions"] = r.preemptions;
  j["executions"] = r.executions;
  j["abandoned"] = r.abandoned;
  j["exhausted"] = r.exhausted;
  j["units"] = r.units;
  j["units_done"] = r.units_done;
  j["unit_executions"] = r.unit_executions;
  J outcomes = J::array();
  for (uint64_t h : r.outcomes)
    outcomes.push_back(hex64(h));
  j["outcomes"] = outcomes;
  J violations = J::array();
  for (const auto& [kind, v] : r.violations)
    violations.push_back(violation_json(v));
  j["violations"] = violations;
  j["race_windows"] = r.race_windows;
  j["internal_errors"] = r.internal_errors;
  j["notes"] = r.notes;
  j["seconds"] = r.seconds;
  return j.dump(1) + "\n";
}

ExploreResult explore_result_from_json(const std::string& text, std::string* scenario_path) {
  J j;
  try {
    j = J::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != "diosim-explore-1")
    throw std::runtime_error("not a diosim explore result (format \"diosim-explore-1\")");
  ExploreResult r;
  const auto strategy = parse_strategy(field<std::string>(j, "strategy"));
  if (!strategy) throw std::runtime_error("field \"strategy\": unknown strategy");
  r.strategy = *strategy;
  if (scenario_path) *scenario_path = field<std::string>(j, "scenario");
  r.preemptions = field<int>(j, "preemptions");
  r.executions = field<uint64_t>(j, "executions");
  r.abandoned = field<uint64_t>(j, "abandoned");
  r.exhausted = field<bool>(j, "exhausted");
  r.units = field<uint64_t>(j, "units");
  r.units_done = field<uint64_t>(j, "units_done");
  r.unit_executions = field<std::vector<uint64_t>>(j, "unit_executions");
  for (const std::string& h : field<std::vector<std::string>>(j, "outcomes"))
    r.outcomes.insert(std::stoull(h, nullptr, 16));
  for (const J& v : field<J>(j, "violations"))
    r.violations.emplace(v.at("kind").get<std::string>(), violation_of(v));
  r.race_windows = field<std::map<std::string, uint64_t>>(j, "race_windows");
  r.internal_errors = field<std::vector<std::string>>(j, "internal_errors");
  if (j.contains("notes")) r.notes = field<std::vector<std::string>>(j, "notes");
  r.seconds = field<double>(j, "seconds");
  return r;
}

} // namespace diosim::model
