// SPDX-License-Identifier: GPL-2.0-only
// The inode operations (ftruncate, fallocate, fsync) and RWF_APPEND: parsing, the writer's
// round trip, parse errors, what a run does (sim/world/inode_ops.cpp) and what the reference
// model states (model/reference/reference_inode.cpp); the run's divergence check compares the two.
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

std::string with_ops(const std::string& model, const std::string& file, const std::string& ops,
                     const std::string& extra = "") {
  return R"({"filesystem": {"model": ")" + model + R"("}, "file": )" + file + R"(,
  "buffers": [{"name": "w", "address": 1048576, "size": 16384, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 16384, "fill": "u"}],
  "tasks": [{"name": "t", "ops": [)" +
         ops + "]}]" + extra + "}";
}

std::string error_of(const std::string& json) {
  return test::scenario_error(json, "inode.json");
}

model::RunResult run(const std::string& json, uint64_t seed = 1) {
  return test::run_scenario_text(json, "inode.json", seed);
}

} // namespace

TEST_CASE("inode ops: parsed and round-tripped through the writer") {
  const std::string json =
      with_ops("extent", R"({"i_size": 0})",
               R"({"op": "ftruncate", "size": 6000, "expect": {"ret": 0, "i_size": 6000}},
         {"op": "fallocate", "offset": 8192, "len": 4096, "keep_size": true},
         {"op": "fallocate", "offset": 0, "len": 512, "keep_size": true, "punch_hole": true,
          "expect": {"ret": {"one_of": [0, "-EIO"]}}},
         {"op": "fsync", "datasync": true, "expect": {"ret": "-EIO"}},
         {"op": "pwrite", "append": true, "iov": [{"buffer": "w", "len": 4096}]})");
  const scenario::ScenarioSpec s = scenario::parse_scenario(json, "inode.json");
  const auto& ops = s.tasks[0].ops;
  REQUIRE(ops.size() == 5);
  CHECK(ops[0].kind == scenario::OpKind::ftruncate);
  CHECK(ops[0].length == 6000);
  CHECK(ops[1].kind == scenario::OpKind::fallocate);
  CHECK((ops[1].offset == 8192 && ops[1].length == 4096 && ops[1].keep_size && !ops[1].punch_hole));
  CHECK(ops[2].punch_hole);
  CHECK(ops[2].expect.ret->values == std::vector<int64_t>{0, -5});
  CHECK((ops[3].kind == scenario::OpKind::fsync && ops[3].datasync));
  CHECK(ops[4].append);
  const std::string text = scenario::to_json(s);
  CHECK(text.find(R"({"op": "ftruncate", "size": 6000, "expect": {"ret": 0, "i_size": 6000}})") !=
        std::string::npos);
  CHECK(text.find(R"("punch_hole": true)") != std::string::npos);
  CHECK(text.find(R"("append": true)") != std::string::npos);
  const scenario::ScenarioSpec back = scenario::parse_scenario(text, "inode.json");
  CHECK(scenario::to_json(back) == text);
  CHECK(back.tasks[0].ops[3].datasync);
  CHECK(back.tasks[0].ops[2].expect.ret->values == std::vector<int64_t>{0, -5});
}

TEST_CASE("inode ops: bad fields name the JSON path and the problem") {
  const std::string file = R"({"i_size": 0})";
  CHECK(error_of(with_ops("extent", file, R"({"op": "ftruncate"})"))
            .find("/tasks/0/ops/0: missing required field \"size\"") != std::string::npos);
  CHECK(error_of(with_ops("extent", file, R"({"op": "fallocate", "offset": 0})"))
            .find("missing required field \"len\"") != std::string::npos);
  CHECK(error_of(with_ops("extent", file, R"({"op": "ftruncate", "size": 1, "len": 4})"))
            .find("a ftruncate op does not take \"len\"") != std::string::npos);
  CHECK(error_of(with_ops("extent", file, R"({"op": "fsync", "expect": {"data": "1:A"}})"))
            .find("/tasks/0/ops/0/expect/data: a fsync op has no user buffer") !=
        std::string::npos);
  CHECK(error_of(with_ops("vfat", file, R"({"op": "ftruncate", "size": 0})"))
            .find("ftruncate is not modelled for the vfat model") != std::string::npos);
  CHECK(error_of(with_ops("extent", file,
                          R"({"op": "pread", "append": true, "iov": [{"buffer": "r", "len": 1}]})"))
            .find("/tasks/0/ops/0/append: append (RWF_APPEND) applies to pwrite only") !=
        std::string::npos);
  CHECK(error_of(with_ops("extent", file, R"({"op": "truncate", "size": 0})")) != "");
}

TEST_CASE("ftruncate: down zeroes the block tail and frees blocks, up reads zeros") {
  const std::string json = with_ops(
      "ext2", R"({"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
                  "data": "8192:D"}]})",
      R"({"op": "ftruncate", "size": 6000, "expect": {"ret": 0, "i_size": 6000}},
         {"op": "ftruncate", "size": 12288, "expect": {"ret": 0, "i_size": 12288}},
         {"op": "pread", "iov": [{"buffer": "r", "len": 12288}],
          "expect": {"ret": 12288, "data": "6000:D 6288:zero"}})",
      R"(, "expect": {"i_size": 12288, "file": [{"offset": 0, "data": "6000:D 6288:zero"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(json, "inode.json"));
  REQUIRE(e.ops.size() == 3);
  CHECK(has_rule(e.ops[0], "R-TRUNCATE"));
  CHECK(e.ops[0].allowed_ret == std::vector<int64_t>{0});
  CHECK(e.ops[1].allowed_i_size_after == std::vector<int64_t>{12288});
  CHECK(e.exact);
}

TEST_CASE("ftruncate waits for AIO in flight (inode_dio_wait), in every seed") {
  const std::string json = with_ops(
      "extent",
      R"({"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2}]})",
      R"({"op": "pwrite", "offset": 4096, "aio": true, "iov": [{"buffer": "w", "len": 4096}],
          "expect": {"ret": 4096}},
         {"op": "ftruncate", "size": 0, "expect": {"ret": 0, "i_size": 0}},
         {"op": "reap"})",
      R"(, "expect": {"i_size": 0})");
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    const model::RunResult r = run(json, seed);
    check_clean(r);
    REQUIRE(r.outcomes.size() == 3);
    CHECK(r.outcomes[0].submit_ret == -529); // queued: the truncate had to wait for it
  }
}

TEST_CASE("fallocate: ext2 refuses; extent preallocates blocks that read as zeros; punch") {
  const std::string ext2 =
      with_ops("ext2", R"({"i_size": 0})",
               R"({"op": "fallocate", "len": 4096, "expect": {"ret": "-EOPNOTSUPP", "i_size": 0}},
         {"op": "fallocate", "len": 0, "expect": {"ret": "-EINVAL"}})");
  check_clean(run(ext2));
  const std::string extent =
      with_ops("extent", R"({"i_size": 0})",
               R"({"op": "fallocate", "len": 16384, "expect": {"ret": 0, "i_size": 16384}},
         {"op": "pread", "iov": [{"buffer": "r", "len": 16384}],
          "expect": {"ret": 16384, "data": "16384:zero"}},
         {"op": "pwrite", "offset": 4096, "iov": [{"buffer": "w", "len": 8192}],
          "expect": {"ret": 8192}},
         {"op": "fallocate", "offset": 6144, "len": 4096, "keep_size": true, "punch_hole": true,
          "expect": {"ret": 0, "i_size": 16384}},
         {"op": "pread", "iov": [{"buffer": "r", "len": 16384}],
          "expect": {"ret": 16384, "data": "4096:zero 2048:W 4096:zero 2048:W 4096:zero"}})",
               R"(, "expect": {"i_size": 16384})");
  const model::RunResult r = run(extent);
  check_clean(r);
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(extent, "inode.json"));
  CHECK(has_rule(e.ops[0], "R-FALLOC-PREALLOC"));
  CHECK(has_rule(e.ops[3], "R-FALLOC-PUNCH"));
  CHECK(e.exact);
}

TEST_CASE("fsync: the mapping's -EIO once, then 0") {
  const std::string json =
      with_ops("ext2",
               R"({"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 1}],
          "page_cache": [{"index": 0, "dirty": true, "writeback_error": true}]})",
               R"({"op": "fsync", "expect": {"ret": "-EIO"}}, {"op": "fsync", "datasync": true,
          "expect": {"ret": 0}})");
  check_clean(run(json));
  const model::ExpectedRun e = model::reference_outcome(scenario::parse_scenario(json, "i.json"));
  CHECK(e.ops[0].allowed_ret == std::vector<int64_t>{-5});
  CHECK(e.ops[1].allowed_ret == std::vector<int64_t>{0});
  CHECK(has_rule(e.ops[0], "R-FSYNC"));
}

TEST_CASE("RWF_APPEND: the write goes to i_size, whatever its offset") {
  const std::string json = with_ops(
      "extent", R"({"i_size": 4096})",
      R"({"op": "pwrite", "offset": 0, "append": true, "iov": [{"buffer": "w", "len": 4096}],
          "expect": {"ret": 4096, "i_size": 8192}})",
      R"(, "expect": {"file": [{"offset": 0, "data": "4096:zero 4096:W"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].ki_pos_after == 8192);
  const model::ExpectedRun e = model::reference_outcome(scenario::parse_scenario(json, "a.json"));
  CHECK(has_rule(e.ops[0], "R-APPEND"));
}
