// SPDX-License-Identifier: GPL-2.0-only
// mmap_read / mmap_write (sim/world/mmap.cpp, model/reference/reference_mmap.cpp): parsing, the
// writer's round trip, parse errors, what a run does (faults, read-around, dirty pages, SIGBUS)
// and the rules the reference model states; every run is also compared with the model.
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

std::string with_ops(const std::string& file, const std::string& ops,
                     const std::string& extra = "") {
  return R"({"file": )" + file + R"(,
  "buffers": [{"name": "w", "address": 1048576, "size": 16384, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 16384, "fill": "u"},
              {"name": "hole", "address": 4194304, "size": 8192, "fill": "H",
               "unmapped_pages": [1]}],
  "tasks": [{"name": "t", "ops": [)" +
         ops + "]}]" + extra + "}";
}

std::string error_of(const std::string& json) {
  return test::scenario_error(json, "mmap.json");
}

model::RunResult run(const std::string& json, uint64_t seed = 1) {
  return test::run_scenario_text(json, "mmap.json", seed);
}

const std::string kTwoBlocks =
    R"({"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
        "data": "4096:A 4096:B"}]})";

} // namespace

TEST_CASE("mmap ops: parsed and round-tripped through the writer") {
  const std::string json = with_ops(
      kTwoBlocks, R"({"op": "mmap_read", "offset": 100, "iov": [{"buffer": "r", "len": 10}],
          "expect": {"ret": 10, "data": "10:A"}},
         {"op": "mmap_write", "iov": [{"buffer": "w", "offset": 4, "len": 4096}],
          "expect": {"ret": {"one_of": [4096, "-EFAULT"]}}})");
  const scenario::ScenarioSpec s = scenario::parse_scenario(json, "mmap.json");
  const auto& ops = s.tasks[0].ops;
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == scenario::OpKind::mmap_read);
  CHECK((ops[0].offset == 100 && ops[0].iov.at(0).len == 10));
  CHECK(ops[1].kind == scenario::OpKind::mmap_write);
  CHECK(ops[1].expect.ret->values == std::vector<int64_t>{4096, -14});
  const std::string text = scenario::to_json(s);
  CHECK(text.find(R"("op": "mmap_read")") != std::string::npos);
  CHECK(text.find(R"("op": "mmap_write")") != std::string::npos);
  const scenario::ScenarioSpec back = scenario::parse_scenario(text, "mmap.json");
  CHECK(scenario::to_json(back) == text);
  CHECK(back.tasks[0].ops[1].kind == scenario::OpKind::mmap_write);
}

TEST_CASE("mmap ops: bad fields name the JSON path and the problem") {
  CHECK(error_of(with_ops(kTwoBlocks, R"({"op": "mmap_read", "aio": true,
          "iov": [{"buffer": "r", "len": 1}]})"))
            .find("/tasks/0/ops/0: a mmap_read op does not take \"aio\"") != std::string::npos);
  CHECK(error_of(with_ops(kTwoBlocks, R"({"op": "mmap_write",
          "iov": [{"buffer": "w", "len": 1}, {"buffer": "w", "len": 1}]})"))
            .find("/tasks/0/ops/0/iov: an mmap_write is one memcpy") != std::string::npos);
  CHECK(error_of(with_ops(kTwoBlocks, R"({"op": "mmap_write", "iov": [{"buffer": "w", "len": 1}],
          "expect": {"data": "1:W"}})"))
            .find("expect.data applies to pread and mmap_read only") != std::string::npos);
  CHECK(error_of(with_ops(kTwoBlocks, R"({"op": "mmap_read"})"))
            .find("missing required field \"iov\"") != std::string::npos);
}

TEST_CASE("mmap_read: faults pages in with read-around, reads the file, SIGBUS past the last "
          "page") {
  const std::string json = with_ops(
      R"({"i_size": 6000, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
          "data": "4096:A 4096:B"}]})",
      R"({"op": "mmap_read", "offset": 4000, "iov": [{"buffer": "r", "len": 200}],
          "expect": {"ret": 200, "data": "96:A 104:B"}},
         {"op": "mmap_read", "offset": 5000, "iov": [{"buffer": "r", "len": 3000}],
          "expect": {"ret": 1000, "data": "1000:B 2000:u"}},
         {"op": "mmap_read", "offset": 8000, "iov": [{"buffer": "r", "len": 200}],
          "expect": {"ret": "-EFAULT", "data": "200:B"}})");
  const model::RunResult r = run(json);
  check_clean(r);
  const model::ExpectedRun e = model::reference_outcome(scenario::parse_scenario(json, "m.json"));
  REQUIRE(e.ops.size() == 3);
  CHECK(has_rule(e.ops[0], "R-MMAP-READ"));
  CHECK(e.ops[1].allowed_ret == std::vector<int64_t>{1000});
  CHECK(has_rule(e.ops[2], "R-MMAP-SIGBUS"));
  CHECK(e.ops[2].allowed_ret == std::vector<int64_t>{-14});
}

TEST_CASE("mmap_write: dirties pages, never i_size; fsync allocates the hole and writes it") {
  // Block 1 is a hole: the store dirties the page, writeback allocates the block (ext2).
  const std::string json = with_ops(
      R"({"i_size": 10000, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 1,
          "data": "4096:A"}]})",
      R"({"op": "mmap_write", "offset": 4096, "iov": [{"buffer": "w", "len": 8192}],
          "expect": {"ret": 5904, "i_size": 10000}},
         {"op": "pread", "iov": [{"buffer": "r", "len": 12288}],
          "expect": {"ret": 10000, "data": "4096:A 5904:W 2288:zero"}},
         {"op": "fsync", "expect": {"ret": 0}})",
      R"(, "expect": {"i_size": 10000, "file": [{"offset": 0, "data": "4096:A 5904:W"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  const model::ExpectedRun e = model::reference_outcome(scenario::parse_scenario(json, "m.json"));
  CHECK(has_rule(e.ops[0], "R-MMAP-WRITE"));
  CHECK(e.ops[0].allowed_i_size_after == std::vector<int64_t>{10000});
  CHECK(e.exact);
}

TEST_CASE("mmap_write from an unmapped user page stops with -EFAULT after what it copied") {
  const std::string json =
      with_ops(kTwoBlocks,
               R"({"op": "mmap_write", "iov": [{"buffer": "hole", "len": 8192}],
          "expect": {"ret": "-EFAULT"}},
         {"op": "fsync", "expect": {"ret": 0}})",
               R"(, "expect": {"file": [{"offset": 0, "data": "4096:H 4096:B"}]})");
  check_clean(run(json));
}

TEST_CASE("mmap_write racing a direct read of the same page: both outcomes allowed, every seed") {
  const std::string json =
      R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
          "data": "4096:A 4096:B"}]},
  "buffers": [{"name": "w", "address": 1048576, "size": 4096, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 4096, "fill": "u"}],
  "tasks": [{"name": "mapper", "ops": [{"op": "mmap_write", "iov": [{"buffer": "w", "len": 4096}],
              "expect": {"ret": 4096}}]},
            {"name": "reader", "ops": [{"op": "pread", "iov": [{"buffer": "r", "len": 4096}],
              "expect": {"ret": 4096, "data": {"one_of": ["4096:A", "4096:W"]}}}]}]})";
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    CAPTURE(seed);
    check_clean(run(json, seed));
  }
}
