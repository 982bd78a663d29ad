// SPDX-License-Identifier: GPL-2.0-only
// memset, a task storing into its own memory while I/O may use it (sim/world/user_store.cpp,
// rule R-MEMSET): parsing and parse errors, what a run does, what the reference model states,
// and that the explorer interleaves the store with a direct write's DMA (generic/761).
#include "model/check/session.hpp"
#include "model/search/explore.hpp"
#include "scenario_test_util.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace diosim;
using diosim::test::check_clean;
using diosim::test::has_rule;

namespace {

// A two-page buffer of 'F' written to the file with O_DIRECT by one task; `other` are the ops
// of a second task; the writer reads the file back after the barrier "done" into r.
std::string scenario_with(const std::string& writer_ops, const std::string& other,
                          const std::string& read_expect = R"({"ret": 8192})") {
  return R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100,
               "blocks": 2, "data": "8192:o"}]},
    "buffers": [{"name": "buf", "address": 1048576, "size": 8192, "fill": "F"},
                {"name": "r", "address": 2097152, "size": 8192, "fill": "u"},
                {"name": "hole", "address": 4194304, "size": 8192, "unmapped_pages": [1]}],
    "tasks": [{"name": "writer", "ops": [)" +
         writer_ops + R"(, {"op": "barrier", "name": "done"},
        {"op": "pread", "iov": [{"buffer": "r", "len": 8192}], "expect": )" +
         read_expect + R"(}]},
      {"name": "other", "ops": [)" +
         other + R"({"op": "barrier", "name": "done"}]}]})";
}

const char* kWrite = R"({"op": "pwrite", "iov": [{"buffer": "buf", "len": 8192}],
                         "expect": {"ret": 8192}})";
const char* kMemset = R"({"op": "memset", "iov": [{"buffer": "buf", "len": 8192}], "fill": "0",
                          "expect": {"ret": 8192}}, )";

// Every decision the explorer's (as `diosim explore` sets it).
scenario::ScenarioSpec explored(const std::string& json) {
  scenario::ScenarioSpec s = scenario::parse_scenario(json, "memset.json");
  s.mode = scenario::Mode::explore;
  return s;
}

std::string error_of(const std::string& json) {
  return test::scenario_error(json, "memset.json");
}

} // namespace

TEST_CASE("memset: parsed, written back, and its parse errors") {
  const std::string json = scenario_with(kWrite, kMemset);
  const scenario::ScenarioSpec s = scenario::parse_scenario(json, "memset.json");
  const scenario::Operation& m = s.tasks[1].ops[0];
  CHECK(m.kind == scenario::OpKind::memset);
  CHECK(m.fill == '0');
  CHECK(m.iov.at(0).len == 8192);
  const std::string text = scenario::to_json(s);
  CHECK(text.find(R"("op": "memset")") != std::string::npos);
  CHECK(scenario::to_json(scenario::parse_scenario(text, "memset.json")) == text);

  CHECK(
      error_of(scenario_with(kWrite, R"({"op": "memset", "iov": [{"buffer": "buf", "len": 1}]},)"))
          .find("/tasks/1/ops/0: missing required field \"fill\"") != std::string::npos);
  CHECK(error_of(scenario_with(kWrite, R"({"op": "memset", "fill": "x"},)"))
            .find("missing required field \"iov\"") != std::string::npos);
  CHECK(error_of(scenario_with(kWrite, R"({"op": "memset", "fill": "x", "offset": 4,
                                          "iov": [{"buffer": "buf", "len": 1}]},)"))
            .find("a memset op does not take \"offset\"") != std::string::npos);
  CHECK(error_of(scenario_with(kWrite, R"({"op": "memset", "fill": "x",
                                          "iov": [{"buffer": "hole", "offset": 4000, "len": 200}]},)"))
            .find("/tasks/1/ops/0/iov/0: memset stores to page 1 of buffer \"hole\", which is "
                  "unmapped") != std::string::npos);
}

TEST_CASE("memset before a direct write: the file gets the stored bytes, stated by the model") {
  // The memset happens before the write (the writer waits at a barrier). The storing task comes
  // first: the model's serial order is task by task, and a barrier orders only forward in it.
  const std::string json = R"({"file": {"i_size": 8192, "extents": [{"file_block": 0,
      "disk_block": 100, "blocks": 2, "data": "8192:o"}]},
    "buffers": [{"name": "buf", "address": 1048576, "size": 8192, "fill": "F"},
                {"name": "r", "address": 2097152, "size": 8192, "fill": "u"}],
    "tasks": [{"name": "other", "ops": [{"op": "memset", "iov": [{"buffer": "buf",
          "offset": 4096, "len": 4096}], "fill": "0", "expect": {"ret": 4096}},
        {"op": "barrier", "name": "stored"}]},
      {"name": "writer", "ops": [{"op": "barrier", "name": "stored"},
        {"op": "pwrite", "iov": [{"buffer": "buf", "len": 8192}], "expect": {"ret": 8192}},
        {"op": "pread", "iov": [{"buffer": "r", "len": 8192}],
         "expect": {"ret": 8192, "data": "4096:F 4096:0"}}]}]})";
  for (uint64_t seed = 1; seed <= 5; ++seed)
    check_clean(test::run_scenario_text(json, "memset.json", seed));
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(json, "memset.json"));
  REQUIRE(e.ops.size() == 5);
  CHECK(e.exact);
  CHECK(has_rule(e.ops[0], "R-MEMSET"));
  CHECK(e.ops[0].allowed_ret == std::vector<int64_t>{4096});
  CHECK(!has_rule(e.ops[3], "R-UNMODELLED")); // the write is stated: its bytes are known
  CHECK(e.file.value.read(4096, 4096) == std::vector<uint8_t>(4096, '0'));
  CHECK(e.file.value.read(0, 4096) == std::vector<uint8_t>(4096, 'F'));
}

TEST_CASE("memset racing a direct write: the explorer finds the page mixes (generic/761)") {
  const std::string mixes =
      R"({"ret": 8192, "data": {"one_of": ["8192:F", "4096:0 4096:F", "4096:F 4096:0", "8192:0"]}})";
  {
    model::Session session(explored(scenario_with(kWrite, kMemset, mixes)));
    model::ExploreOptions o;
    o.strategy = model::Strategy::dpor;
    o.preemptions = 2; // enough for every page mix; unbounded takes ~10^5 executions
    const model::ExploreResult r = model::explore(session, o);
    CHECK(r.exhausted);
    CHECK(r.violations.empty());
    CHECK(r.outcomes.size() >= 3); // all F, the first page stored, both stored
  }
  {
    // Claiming the write always carries the buffer as it was is wrong, and dpor shows it.
    model::Session session(
        explored(scenario_with(kWrite, kMemset, R"({"ret": 8192, "data": "8192:F"})")));
    model::ExploreOptions o;
    o.strategy = model::Strategy::dpor;
    o.stop_on_violation = true;
    const model::ExploreResult r = model::explore(session, o);
    CHECK(r.violations.count("expectation") == 1);
  }
  {
    // Without the memset there is one outcome.
    model::Session session(explored(scenario_with(kWrite, "")));
    model::ExploreOptions o;
    o.strategy = model::Strategy::dpor;
    o.preemptions = 2;
    const model::ExploreResult r = model::explore(session, o);
    CHECK(r.exhausted);
    CHECK(r.outcomes.size() == 1);
  }
}
