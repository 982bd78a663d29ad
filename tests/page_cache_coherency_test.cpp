// SPDX-License-Identifier: GPL-2.0-only
// Buffered I/O (issue 9): the end-of-run page-cache coherency check (I9) fails on a clean
// cached page that differs from the disk and passes when they agree; readahead's window
// (Linux 6.1 mm/readahead.c); the fcntl / fd syntax round-trips and bad shapes are refused.
#include "harness.hpp"
#include "model/check/invariants.hpp"
#include "model/check/runner.hpp"
#include "sim/scenario/scenario_writer.hpp"
#include "sim/world/readahead.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace diosim;

namespace {

scenario::ScenarioSpec spec_with(const std::string& page_cache, const std::string& tasks) {
  const std::string text = R"({
    "file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
             "data": "4096:A 4096:B"}], "page_cache": [)" +
                           page_cache + R"(]},
    "buffers": [{"name": "buf", "address": 1048576, "size": 8192, "fill": "u"}],
    "tasks": [)" + tasks + "]}";
  return scenario::parse_scenario(text, "test.json");
}

const std::string kRead =
    R"({"name": "t", "ops": [{"op": "pread", "offset": 4096, "iov": [{"buffer": "buf", "len": 4096}]}]})";

} // namespace

TEST_CASE("coherency: a clean cached page that differs from the disk is a violation naming it") {
  // A page the run instantiated from the disk, then made incoherent (as a lost invalidation
  // would leave it): the end-of-run check names it.
  const scenario::ScenarioSpec spec = spec_with("", kRead);
  test::Harness h;
  world::World w(spec, h.sched);
  w.cached_page_for_test(1)[5] = 'X';
  const std::optional<engine::Violation> v = model::check_end_of_run(h.kernel, w);
  REQUIRE(v);
  CHECK(v->invariant == "page-cache-coherency");
  CHECK(v->message.find("page 1 ") != std::string::npos);
  CHECK(v->message.find("file offset 4101") != std::string::npos);
}

TEST_CASE("coherency: a page the scenario declares with other bytes is its chosen initial state") {
  CHECK_FALSE(
      model::run_scenario(spec_with(R"({"index": 0, "data": "4096:X"})", kRead), {}).violation);
}

TEST_CASE("coherency: clean pages equal to the disk, and dirty pages, pass") {
  CHECK_FALSE(model::run_scenario(spec_with(R"({"index": 0})", kRead), {}).violation);
  // Dirty with other bytes: newer than the disk by design (the direct read writes it back).
  CHECK_FALSE(
      model::run_scenario(spec_with(R"({"index": 1, "dirty": true, "data": "4096:X"})", kRead), {})
          .violation);
}

TEST_CASE(
    "readahead: the initial window of a read at page 0, clipped at i_size, and random reads") {
  world::ReadaheadState ra;
  const auto none = [](uint64_t) { return false; };
  // get_init_ra_size(1, 32) = 4; async_size 3; ramp-up does not apply (size != async_size).
  world::ReadaheadWindow w = world::ondemand_readahead(ra, 0, 1, false, 32, 4096, 1 << 20, none);
  CHECK(w.start == 0);
  CHECK(w.nr == 4);
  CHECK(w.marked);
  CHECK(w.mark == 1);
  // Clipped at i_size: 3 pages of file.
  world::ReadaheadState ra2;
  w = world::ondemand_readahead(ra2, 0, 1, false, 32, 4096, 3 * 4096, none);
  CHECK(w.nr == 3);
  // A first read elsewhere with nothing cached before it: random, only its pages.
  world::ReadaheadState ra3;
  w = world::ondemand_readahead(ra3, 10, 2, false, 32, 4096, 1 << 20, none);
  CHECK(w.start == 10);
  CHECK(w.nr == 2);
  CHECK_FALSE(w.marked);
  // A large first read at 0: the maximum window (32 pages).
  world::ReadaheadState ra4;
  w = world::ondemand_readahead(ra4, 0, 20, false, 32, 4096, 1 << 20, none);
  CHECK(w.nr == 32);
  // The next sequential read at the mark continues with the next window.
  world::ReadaheadState ra5;
  w = world::ondemand_readahead(ra5, 0, 1, false, 32, 4096, 1 << 20, none);
  w = world::ondemand_readahead(ra5, 1, 1, true, 32, 4096, 1 << 20,
                                [](uint64_t i) { return i < 4; });
  // Sequential (index == start + size - async_size): start 4, get_next_ra_size(4, 32) = 8,
  // all of it async, so the mark is the window's first page.
  CHECK(w.start == 4);
  CHECK(w.nr == 8);
  CHECK(w.mark == 4);
}

TEST_CASE("buffered I/O: a buffered read caches the readahead window; fcntl and fd round-trip") {
  const scenario::ScenarioSpec spec =
      spec_with("", R"({"name": "t", "o_direct": false, "fd": "f", "ops": [
        {"op": "pread", "offset": 0, "iov": [{"buffer": "buf", "len": 4096}]},
        {"op": "fcntl", "o_direct": true},
        {"op": "pread", "offset": 4096, "iov": [{"buffer": "buf", "len": 4096}]}]})");
  const model::RunResult r = model::run_scenario(spec, {});
  CHECK_FALSE(r.violation);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[0].ret == 4096);
  CHECK(r.outcomes[0].data == std::vector<uint8_t>(4096, 'A'));
  CHECK(r.outcomes[2].ret == 4096);
  CHECK(r.outcomes[2].dio_returns.size() == 1); // direct after the fcntl
  CHECK(r.outcomes[0].dio_returns.empty());     // buffered: never called direct-io
  const scenario::ScenarioSpec again =
      scenario::parse_scenario(scenario::to_json(spec), "again.json");
  CHECK(again.tasks[0].fd == "f");
  CHECK_FALSE(again.tasks[0].o_direct);
  CHECK(again.tasks[0].ops[1].kind == scenario::OpKind::fcntl);
  CHECK(again.tasks[0].ops[1].o_direct);
}

TEST_CASE("buffered I/O: bad shapes are refused with the JSON path") {
  const auto error_of = [](const std::string& tasks) {
    try {
      spec_with("", tasks);
    } catch (const scenario::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of(R"({"ops": [{"op": "fcntl"}]})")
            .find("/tasks/0/ops/0: missing required field "
                  "\"o_direct\"") != std::string::npos);
  CHECK(error_of(R"({"o_direct": false, "ops": [{"op": "pread", "nowait": true,
                   "iov": [{"buffer": "buf", "len": 4096}]}]})")
            .find("/tasks/0/ops/0/nowait") != std::string::npos);
  CHECK(error_of(R"({"fd": "f", "ops": [{"op": "reap"}]},
                   {"fd": "f", "o_direct": false, "ops": [{"op": "reap"}]})")
            .find("/tasks/1/o_direct") != std::string::npos);
  CHECK(error_of(R"({"ops": [{"op": "fcntl", "o_direct": true, "offset": 4}]})")
            .find("does not take \"offset\"") != std::string::npos);
}
