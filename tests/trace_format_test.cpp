// SPDX-License-Identifier: GPL-2.0-only
// Every shipped scenario's trace follows docs/TRACE.md and what Perfetto's JSON importer needs:
// object form with displayTimeUnit first, numeric pid/tid named by M events, args.step and
// args.src on events, nestable async bio events with id2.local, counters with numeric series,
// flows that start and end, X slices that do not overlap on a lane, no arrays at the top level
// of an event, and otherData with the run's identity.
#include "model/check/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

using namespace diosim;
using ojson = nlohmann::ordered_json;

namespace {

std::vector<std::string> scenario_files() {
  return scenario::list_scenario_files(DIOSIM_SCENARIO_DIR);
}

void check_trace(const std::string& text) {
  // The raw text: object form, displayTimeUnit first, no raw control characters in strings.
  REQUIRE(text.rfind("{\"displayTimeUnit\":\"ns\"", 0) == 0);
  for (char c : text)
    CHECK_FALSE((static_cast<unsigned char>(c) < 0x20 && c != '\n'));
  const ojson t = ojson::parse(text);
  auto it = t.begin();
  CHECK(it.key() == "displayTimeUnit");
  CHECK((++it).key() == "otherData");
  const ojson& other = t["otherData"];
  for (const char* k :
       {"tool", "version", "format_version", "scenario", "seed", "schedule", "outcome"})
    CHECK_MESSAGE(other.contains(k), k);
  CHECK(other["format_version"] == 1);

  std::set<std::pair<int, int>> named;
  std::set<int> named_pids;
  std::map<std::pair<int, int>, uint64_t> lane_end; // last X end per lane, for nesting
  std::multiset<std::string> flow_starts, flow_ends;
  const std::regex src_re("^fs/direct-io\\.c:[0-9]+$");
  for (const ojson& e : t["traceEvents"]) {
    REQUIRE(e.is_object());
    for (auto f = e.begin(); f != e.end(); ++f)
      CHECK_FALSE(f.value().is_array());
    REQUIRE(e["pid"].is_number_integer());
    REQUIRE(e["tid"].is_number_integer());
    const std::string ph = e["ph"];
    const int pid = e["pid"], tid = e["tid"];
    if (ph == "M") {
      if (e["name"] == "process_name") named_pids.insert(pid);
      if (e["name"] == "thread_name") named.insert({pid, tid});
      continue;
    }
    CHECK_MESSAGE(named_pids.count(pid), "pid " << pid << " not named before use");
    if (ph != "C")
      CHECK_MESSAGE(named.count({pid, tid}), "lane " << pid << "/" << tid << " not named");
    REQUIRE(e["ts"].is_number());
    REQUIRE(e["args"].is_object());
    CHECK(e["args"]["step"].is_number_integer());
    if (e["args"].contains("src"))
      CHECK(std::regex_match(e["args"]["src"].get<std::string>(), src_re));
    if (ph == "b" || ph == "n" || ph == "e") {
      CHECK(e.contains("cat"));
      CHECK(e["id2"]["local"].is_string());
    }
    if (ph == "C")
      for (auto a = e["args"].begin(); a != e["args"].end(); ++a)
        CHECK(a.value().is_number());
    if (ph == "s") flow_starts.insert(e["id"].get<std::string>());
    if (ph == "f") {
      flow_ends.insert(e["id"].get<std::string>());
      CHECK(e["bp"] == "e");
    }
    if (ph == "X") {
      const auto ts = static_cast<uint64_t>(e["ts"].get<double>() * 1000.0 + 0.5);
      const auto dur = static_cast<uint64_t>(e["dur"].get<double>() * 1000.0 + 0.5);
      auto& end = lane_end[{pid, tid}];
      CHECK_MESSAGE(ts >= end, "overlapping slices on lane " << tid << " at ts " << ts);
      end = ts + dur;
    }
  }
  CHECK(flow_starts == flow_ends); // every arrow starts and ends, ids never reused
}

} // namespace

TEST_CASE("traces of every shipped scenario follow the trace format") {
  for (const std::string& path : scenario_files()) {
    CAPTURE(path);
    model::RunOptions opt;
    opt.trace = true;
    const model::RunResult r = model::run_scenario(scenario::load_scenario(path), opt);
    check_trace(r.trace_json);
  }
}

TEST_CASE("a failing run names its failure in otherData") {
  model::RunOptions opt;
  opt.trace = true;
  const model::RunResult r = model::run_scenario(
      scenario::load_scenario(std::string(DIOSIM_TEST_DIR) + "/fixtures/failing-expectation.json"),
      opt);
  const ojson t = ojson::parse(r.trace_json);
  CHECK(t["otherData"]["outcome"] == "expectation-failed");
  CHECK(t["otherData"]["failed_expectations"].size() == 1);
}
