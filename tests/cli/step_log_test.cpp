// SPDX-License-Identifier: GPL-2.0-only
// The --log text (model/check/step_log.cpp) and the trace's lane order (model/check/runner.cpp):
// events land on the line of the lane they happened on, unchanged values are not listed, and
// lanes read tasks, irq contexts by CPU, workers.
#include "model/check/runner.hpp"
#include "model/check/step_log.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace diosim;

namespace {

std::string traced_run(const char* scenario_file) {
  model::RunOptions opt;
  opt.trace = true;
  const model::RunResult r = model::run_scenario(
      scenario::load_scenario(std::string(DIOSIM_SCENARIO_DIR) + "/" + scenario_file), opt);
  REQUIRE(r.exit_code() == 0);
  return r.trace_json;
}

std::vector<std::string> body_lines(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#' && line.find("step  lane") == std::string::npos)
      out.push_back(line);
  return out;
}

// The lane column of a log line (columns: step 6, two spaces, lane 22).
std::string lane_of(const std::string& line) {
  std::string lane = line.substr(8, 22);
  return lane.substr(0, lane.find_last_not_of(' ') + 1);
}

} // namespace

TEST_CASE("step log: each event is on a line of its own lane") {
  const std::string trace = traced_run("aio-read-queued.json");
  // The trace's own lane of every instant event, by (step, name): what the log must show.
  const nlohmann::json t = nlohmann::json::parse(trace);
  std::map<std::pair<int, int>, std::string> lanes;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name")
      lanes[{e["pid"].get<int>(), e["tid"].get<int>()}] = e["args"]["name"].get<std::string>();
  int checked = 0;
  const std::vector<std::string> lines = body_lines(model::format_step_log(trace));
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "i" || e["name"] != "woken") continue;
    const std::string want_lane = lanes[{e["pid"].get<int>(), e["tid"].get<int>()}];
    const std::string step = std::to_string(e["args"]["step"].get<int>());
    bool found = false;
    for (const std::string& l : lines)
      if (l.find(" woken task=") != std::string::npos &&
          std::stoi(l.substr(0, 6)) == std::stoi(step)) {
        CHECK_MESSAGE(lane_of(l) == want_lane, l);
        found = true;
      }
    CHECK_MESSAGE(found, "no log line for the woken event of step " << step);
    ++checked;
  }
  // aio-read-queued: the irq context wakes the task, whose "woken" event must not sit on the
  // irq's line.
  CHECK(checked >= 1);
}

TEST_CASE("step log: a value that did not change is not listed") {
  for (const char* f : {"aio-read-queued.json", "deferred-aio-completion.json", "two-tasks.json"}) {
    const std::string log = model::format_step_log(traced_run(f));
    static const std::regex same(R"( ([-0-9A-Za-z_#]+)->\1( |$))");
    for (const std::string& l : body_lines(log))
      CHECK_MESSAGE(!std::regex_search(l, same), f << ": " << l);
    CHECK_MESSAGE(log.find("->") != std::string::npos, f); // changes are still listed
  }
}

TEST_CASE("trace lanes: tasks, then irq contexts by CPU, then workers") {
  const nlohmann::json t = nlohmann::json::parse(traced_run("deferred-aio-completion.json"));
  std::map<int, std::string> name;
  std::map<int, int> sort_index;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] != "M" || e["pid"] != 1) continue;
    if (e["name"] == "thread_name") name[e["tid"]] = e["args"]["name"];
    if (e["name"] == "thread_sort_index") sort_index[e["tid"]] = e["args"]["sort_index"];
  }
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [tid, n] : name)
    order.push_back({sort_index.at(tid), n});
  std::sort(order.begin(), order.end());
  std::vector<std::string> names;
  for (const auto& o : order)
    names.push_back(o.second);
  REQUIRE(names.size() == 4);
  CHECK(names[0] == "task aio");
  CHECK(names[1] == "irq/0");
  CHECK(names[2] == "irq/1");
  CHECK(names[3].find("kworker") == 0);
}
