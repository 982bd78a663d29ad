// SPDX-License-Identifier: GPL-2.0-only
// The fd and AIO-context operations (close, io_cancel, io_destroy, chattr) and O_APPEND:
// parsing, the writer's round trip, parse errors, what a run does (sim/world/fd_ops.cpp) and
// what the reference model states (model/reference/reference_fd.cpp); every run's divergence
// check compares the two.
#include "model/check/runner.hpp"
#include "model/reference/reference.hpp"
#include "scenario_test_util.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace diosim;
using diosim::test::check_clean;
using diosim::test::has_rule;

namespace {

const char* kFile =
    R"({"i_size": 16384, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 4,
        "data": "16384:D"}]})";

std::string scenario_with(const std::string& tasks, const std::string& extra = "") {
  return std::string(R"({"filesystem": {"model": "extent"}, "file": )") + kFile + R"(,
  "buffers": [{"name": "w", "address": 1048576, "size": 16384, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 16384, "fill": "u"},
              {"name": "q", "address": 4194304, "size": 16384, "fill": "u"}],
  "tasks": [)" +
         tasks + "]" + extra + "}";
}

std::string one_task(const std::string& ops, const std::string& task_fields = "") {
  return scenario_with(R"({"name": "t", )" + task_fields + R"("ops": [)" + ops + "]}");
}

std::string error_of(const std::string& json) {
  return test::scenario_error(json, "fd.json");
}

model::RunResult run(const std::string& json, uint64_t seed = 1) {
  return test::run_scenario_text(json, "fd.json", seed);
}

model::ExpectedRun reference(const std::string& json) {
  return model::reference_outcome(scenario::parse_scenario(json, "fd.json"));
}

const char* kAioRead = R"({"op": "pread", "aio": true, "iov": [{"buffer": "r", "len": 16384}],
                           "expect": {"ret": 16384, "data": "16384:D"}})";

} // namespace

TEST_CASE("fd ops: parsed and round-tripped through the writer") {
  const std::string json = one_task(std::string(kAioRead) + R"(,
      {"op": "io_cancel", "iocb": 0, "expect": {"ret": "-EINVAL"}},
      {"op": "chattr", "sync": true}, {"op": "chattr", "sync": false, "expect": {"ret": 0}},
      {"op": "close", "expect": {"ret": 0}}, {"op": "io_destroy"})",
                                    R"("o_append": true, )");
  const scenario::ScenarioSpec s = scenario::parse_scenario(json, "fd.json");
  const auto& ops = s.tasks[0].ops;
  REQUIRE(ops.size() == 6);
  CHECK(s.tasks[0].o_append);
  CHECK((ops[1].kind == scenario::OpKind::io_cancel && ops[1].iocb == 0));
  CHECK(ops[1].expect.ret->values == std::vector<int64_t>{-22});
  CHECK((ops[2].kind == scenario::OpKind::chattr && ops[2].sync));
  CHECK(!ops[3].sync);
  CHECK(ops[4].kind == scenario::OpKind::close);
  CHECK(ops[5].kind == scenario::OpKind::io_destroy);
  const std::string text = scenario::to_json(s);
  CHECK(text.find(R"({"op": "io_cancel", "iocb": 0, "expect": {"ret": "-EINVAL"}})") !=
        std::string::npos);
  CHECK(text.find(R"({"op": "chattr", "sync": false, "expect": {"ret": 0}})") != std::string::npos);
  CHECK(text.find(R"("o_append": true)") != std::string::npos);
  const scenario::ScenarioSpec back = scenario::parse_scenario(text, "fd.json");
  CHECK(scenario::to_json(back) == text);
  CHECK(back.tasks[0].o_append);
  CHECK(back.tasks[0].ops[3].sync == false);
}

TEST_CASE("fd ops: bad fields name the JSON path and the problem") {
  CHECK(error_of(one_task(std::string(kAioRead) + R"(, {"op": "io_cancel"})"))
            .find("/tasks/0/ops/1: missing required field \"iocb\"") != std::string::npos);
  CHECK(error_of(one_task(R"({"op": "pread", "iov": [{"buffer": "r", "len": 512}]},
                             {"op": "io_cancel", "iocb": 0})"))
            .find("/tasks/0/ops/1/iocb: io_cancel names op 0 of task \"t\", which is not an "
                  "earlier AIO pread or pwrite") != std::string::npos);
  CHECK(error_of(one_task(R"({"op": "io_cancel", "iocb": 3})")).find("not an earlier AIO") !=
        std::string::npos);
  CHECK(error_of(one_task(std::string(kAioRead) + R"(, {"op": "io_destroy"},
                             {"op": "io_cancel", "iocb": 0})"))
            .find("cannot be in flight any more: the io_destroy at /tasks/0/ops/1") !=
        std::string::npos);
  CHECK(error_of(one_task(R"({"op": "chattr"})")).find("missing required field \"sync\"") !=
        std::string::npos);
  CHECK(error_of(one_task(R"({"op": "close", "expect": {"i_size": 0}})"))
            .find("/tasks/0/ops/0/expect/i_size: a close op has no user buffer") !=
        std::string::npos);
  CHECK(error_of(one_task(R"({"op": "close", "sync": true})"))
            .find("a close op does not take \"sync\"") != std::string::npos);
  CHECK(error_of(
            scenario_with(R"({"name": "a", "fd": "f", "o_append": true, "ops": [{"op": "close"}]},
                                  {"name": "b", "fd": "f", "ops": [{"op": "close"}]})"))
            .find("/tasks/1/o_append: task \"b\" opens fd \"f\" without O_APPEND") !=
        std::string::npos);
}

TEST_CASE("close with AIO in flight: the reads complete, later ops get -EBADF (every seed)") {
  const std::string json = one_task(std::string(kAioRead) + R"(,
      {"op": "close", "expect": {"ret": 0}},
      {"op": "pread", "iov": [{"buffer": "q", "len": 4096}], "expect": {"ret": "-EBADF",
       "data": "4096:u"}},
      {"op": "pwrite", "aio": true, "iov": [{"buffer": "w", "len": 4096}],
       "expect": {"ret": "-EBADF", "submit_ret": "-EBADF"}},
      {"op": "fcntl", "o_direct": false},
      {"op": "ftruncate", "size": 0, "expect": {"ret": "-EBADF", "i_size": 16384}},
      {"op": "chattr", "sync": true, "expect": {"ret": "-EBADF"}},
      {"op": "close", "expect": {"ret": "-EBADF"}},
      {"op": "reap"})",
                                    "");
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    const model::RunResult r = run(json, seed);
    check_clean(r);
    REQUIRE(r.outcomes.size() == 9);
    CHECK(r.outcomes[0].submit_ret == -529); // queued: in flight across the close
    CHECK(r.outcomes[0].ki_complete_calls == 1);
    CHECK(r.outcomes[4].ret == -9); // fcntl on the closed fd
  }
  const model::ExpectedRun e = reference(json);
  CHECK(has_rule(e.ops[1], "R-CLOSE"));
  CHECK(e.ops[2].allowed_ret == std::vector<int64_t>{-9});
  CHECK(e.ops[3].allowed_submit_ret == std::vector<int64_t>{-9});
  CHECK(e.ops[7].allowed_ret == std::vector<int64_t>{-9});
  CHECK(e.exact);
}

TEST_CASE("io_cancel: -EINVAL, and the request completes and is reaped as usual") {
  const std::string json = one_task(std::string(kAioRead) + R"(,
      {"op": "io_cancel", "iocb": 0, "expect": {"ret": "-EINVAL"}}, {"op": "reap"})");
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const model::RunResult r = run(json, seed);
    check_clean(r);
    CHECK(r.outcomes[1].ret == -22);
    CHECK(r.outcomes[0].ret == 16384);
  }
  const model::ExpectedRun e = reference(json);
  CHECK(has_rule(e.ops[1], "R-IO-CANCEL"));
  CHECK(e.ops[1].allowed_ret == std::vector<int64_t>{-22});
}

TEST_CASE("io_destroy waits for the requests in flight; then the context is gone (-EINVAL)") {
  const std::string json = one_task(std::string(kAioRead) + R"(,
      {"op": "io_destroy", "expect": {"ret": 0}},
      {"op": "pread", "aio": true, "iov": [{"buffer": "q", "len": 4096}],
       "expect": {"submit_ret": "-EINVAL", "ret": "-EINVAL", "data": "4096:u"}},
      {"op": "reap"},
      {"op": "io_destroy", "expect": {"ret": "-EINVAL"}})");
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    const model::RunResult r = run(json, seed);
    check_clean(r);
    CHECK(r.outcomes[0].submit_ret == -529);
    CHECK(r.outcomes[0].finished);
    CHECK(r.outcomes[3].ret == -22); // io_getevents on the destroyed context
  }
  const model::ExpectedRun e = reference(json);
  CHECK(has_rule(e.ops[1], "R-IO-DESTROY"));
  CHECK(e.ops[3].allowed_ret == std::vector<int64_t>{-22});
  CHECK(e.ops[4].allowed_ret == std::vector<int64_t>{-22});
}

TEST_CASE("chattr +S: AIO writes are deferred to the workqueue; +S in flight is a finding") {
  const std::string before = one_task(R"({"op": "chattr", "sync": true, "expect": {"ret": 0}},
      {"op": "pwrite", "aio": true, "iov": [{"buffer": "w", "len": 16384}],
       "expect": {"ret": 16384}}, {"op": "reap"})",
                                      "");
  for (uint64_t seed = 1; seed <= 10; ++seed)
    check_clean(run(before, seed));
  CHECK(has_rule(reference(before).ops[0], "R-SYNC-INODE"));
  // Submitted before +S, so not deferred; completed after it, in irq context: dio_complete's
  // generic_write_sync sees IS_SYNC (iocb_is_dsync reads it at completion) and may sleep.
  const std::string during = one_task(R"({"op": "pwrite", "aio": true,
       "iov": [{"buffer": "w", "len": 16384}]},
      {"op": "chattr", "sync": true}, {"op": "reap"})",
                                      "");
  int findings = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const model::RunResult r = run(during, seed);
    if (!r.violation) continue;
    ++findings;
    CHECK(r.violation->invariant == "might-sleep-in-irq");
    CHECK(r.violation->message.find("generic_write_sync") != std::string::npos);
  }
  CHECK(findings > 0);
}

TEST_CASE("O_APPEND: every write of the fd goes to i_size") {
  const std::string json =
      one_task(R"({"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 4096}],
                   "expect": {"ret": 4096, "i_size": 20480}},
                  {"op": "pwrite", "offset": 512, "aio": true,
                   "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}},
                  {"op": "reap"})",
               R"("o_append": true, )");
  const model::RunResult r = run(json);
  check_clean(r);
  CHECK(r.final_i_size == 24576);
  CHECK(r.outcomes[0].ki_pos_after == 20480);
  const model::ExpectedRun e = reference(json);
  CHECK(has_rule(e.ops[0], "R-O-APPEND"));
  CHECK(e.allowed_final_i_size == std::vector<int64_t>{24576});
}
