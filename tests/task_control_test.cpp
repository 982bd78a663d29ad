// SPDX-License-Identifier: GPL-2.0-only
// Task control (docs/SCENARIOS.md "Task control"): a task reaping another task's AIO through a
// shared context, barriers that order tasks, repeat blocks. Each scenario is explored by dpor
// to exhaustion within 1 preemption, and each has a control that fails when the feature is
// missing.
#include "model/check/session.hpp"
#include "model/search/explore.hpp"
#include "sim/scenario/scenario.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace diosim;

namespace {

// A 2-block file of 'O' bytes on ext2, two 4 KiB buffers and the given tasks.
std::string scenario_with(const std::string& tasks) {
  return R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2, "data": "8192:O"}]},
  "buffers": [{"name": "w", "address": 1048576, "size": 4096, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 4096}],
  "tasks": [)" +
         tasks + "]}";
}

model::ExploreResult explore_all(const std::string& json) {
  scenario::ScenarioSpec spec = scenario::parse_scenario(json, "task-control.json");
  spec.mode = scenario::Mode::explore; // every decision is the explorer's (as `diosim explore`)
  model::Session session(std::move(spec));
  model::ExploreOptions o;
  o.strategy = model::Strategy::dpor;
  o.preemptions = 1;
  return model::explore(session, o);
}

std::string kinds(const model::ExploreResult& r) {
  std::string out;
  for (const auto& [kind, v] : r.violations)
    out += (out.empty() ? "" : ",") + kind + " (" + v.message + ")";
  return out;
}

const char* kAioWrite0 = R"({"op": "pwrite", "offset": 0, "aio": true,
  "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}})";
const char* kAioWrite1 = R"({"op": "pwrite", "offset": 4096, "aio": true,
  "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}})";

} // namespace

TEST_CASE("a task reaps, one event at a time, what another task submitted to a shared context") {
  const std::string tasks =
      std::string(R"({"name": "submitter", "ops": [)") + kAioWrite0 + ", " + kAioWrite1 + R"(]},
    {"name": "reaper", "aio_context": "submitter", "ops": [
      {"op": "repeat", "count": 2, "ops": [{"op": "reap", "events": 1}]}]})";
  const model::ExploreResult r = explore_all(scenario_with(tasks));
  CHECK(r.exhausted);
  CHECK(r.executions > 10);
  CHECK_MESSAGE(r.violations.empty(), kinds(r));
  // Without the shared context the reaper's own context receives nothing: the parser refuses
  // the reap that would wait forever (and the world's sharing is what the run above needs).
  std::string own = tasks;
  own.erase(own.find(R"("aio_context": "submitter", )"), 29);
  REQUIRE(own.find("aio_context") == std::string::npos);
  CHECK_THROWS_AS(explore_all(scenario_with(own)), scenario::ScenarioError);
}

TEST_CASE("a barrier orders a write in one task before a read in another, in every schedule") {
  const std::string write =
      R"({"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 4096}]})";
  const std::string read = R"({"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 4096}],
    "expect": {"ret": 4096, "data": "4096:W"}})";
  const std::string barrier = R"({"op": "barrier", "name": "done"})";
  const model::ExploreResult r =
      explore_all(scenario_with(R"({"name": "writer", "ops": [)" + write + ", " + barrier + R"(]},
         {"name": "reader", "ops": [)" +
                                barrier + ", " + read + "]}"));
  CHECK(r.exhausted);
  CHECK_MESSAGE(r.violations.empty(), kinds(r));
  // Control: without the barrier some schedule reads the old bytes.
  const model::ExploreResult c =
      explore_all(scenario_with(R"({"name": "writer", "ops": [)" + write +
                                R"(]}, {"name": "reader", "ops": [)" + read + "]}"));
  CHECK(c.violations.count("expectation") == 1);
}

TEST_CASE("an AIO write still in flight at a barrier is not ordered by it; a reap before it is") {
  const std::string read_new =
      R"({"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 4096}],
    "expect": {"ret": 4096, "data": "4096:W"}})";
  const std::string barrier = R"({"op": "barrier", "name": "b"})";
  const model::ExploreResult in_flight = explore_all(
      scenario_with(std::string(R"({"name": "writer", "ops": [)") + kAioWrite0 + ", " + barrier +
                    R"(]}, {"name": "reader", "ops": [)" + barrier + ", " + read_new + "]}"));
  CHECK_MESSAGE(in_flight.violations.count("expectation") == 1,
                kinds(in_flight) << " executions " << in_flight.executions);
  const model::ExploreResult reaped = explore_all(scenario_with(
      std::string(R"({"name": "writer", "ops": [)") + kAioWrite0 + R"(, {"op": "reap"}, )" +
      barrier + R"(]}, {"name": "reader", "ops": [)" + barrier + ", " + read_new + "]}"));
  CHECK(reaped.exhausted);
  CHECK_MESSAGE(reaped.violations.empty(), kinds(reaped));
}

TEST_CASE("a barrier in a repeat block is reached once per repetition by every task") {
  const std::string loop = R"({"op": "repeat", "count": 2, "ops": [{"op": "barrier", "name": "s"},
    {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 512}], "expect": {"ret": 512}}]})";
  const model::ExploreResult r = explore_all(scenario_with(
      R"({"name": "a", "ops": [)" + loop + R"(]}, {"name": "b", "ops": [)" + loop + "]}"));
  CHECK(r.exhausted);
  CHECK_MESSAGE(r.violations.empty(), kinds(r));
}
