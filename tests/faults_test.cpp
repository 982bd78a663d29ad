// SPDX-License-Identifier: GPL-2.0-only
// Fault injection (docs/SCENARIOS.md "Allocation failures", `writeback_error`): each fault
// fires where it should, returns its errno through the path Linux takes, is traced, reaches the
// fs/direct-io.c line it exists for, and is a decision the explorer takes both ways.
#include "harness.hpp"
#include "model/check/runner.hpp"
#include "model/check/session.hpp"
#include "model/search/explore.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace diosim;

namespace {

// A file of two mapped blocks `4096:A 4096:B`, a buffer `buf` of 8192 `u` bytes, and `ops` for
// one task; `extra` adds top-level fields (with a trailing comma).
scenario::ScenarioSpec spec_of(const std::string& extra, const std::string& file_extra,
                               const std::string& ops) {
  const std::string text = "{" + extra + R"(
    "file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
             "data": "4096:A 4096:B"}])" +
                           file_extra + R"(},
    "buffers": [{"name": "buf", "address": 1048576, "size": 8192, "fill": "u"}],
    "tasks": [{"name": "t", "ops": [)" +
                           ops + "]}]}";
  return scenario::parse_scenario(text, "test.json");
}

model::RunResult run_traced(const scenario::ScenarioSpec& spec) {
  model::RunOptions o;
  o.trace = true;
  return model::run_scenario(spec, o);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const std::string kRead0 =
    R"({"op": "pread", "offset": 0, "iov": [{"buffer": "buf", "len": 4096}]})";
const std::string kRead1 =
    R"({"op": "pread", "offset": 4096, "iov": [{"buffer": "buf", "len": 4096}]})";
const std::string kAioOverwrite0 =
    R"({"op": "pwrite", "offset": 0, "aio": true, "iov": [{"buffer": "buf", "len": 4096}]})";

// Distinct terminal states dfs finds for `spec`, which must show no violation.
size_t dfs_outcomes(scenario::ScenarioSpec spec) {
  spec.mode = scenario::Mode::explore; // every decision is the explorer's (as `diosim explore`)
  model::Session session(spec);
  model::ExploreOptions o;
  o.strategy = model::Strategy::dfs;
  o.shrink_budget = 0;
  const model::ExploreResult r = model::explore(session, o);
  CHECK(r.exhausted);
  CHECK(r.violations.empty());
  return r.outcomes.size();
}

} // namespace

TEST_CASE("alloc_failures dio: the nth struct dio allocation fails with -ENOMEM at line 1123") {
  const auto spec =
      spec_of(R"("alloc_failures": [{"site": "dio", "nth": 2}],)", "", kRead0 + "," + kRead1);
  const model::RunResult r = run_traced(spec);
  CHECK(r.exit_code() == 0);
  REQUIRE(r.outcomes.size() == 2);
  CHECK(r.outcomes[0].ret == 4096);
  CHECK(r.outcomes[1].ret == -ENOMEM);
  CHECK(r.line_hits[1123] == 1);
  CHECK(r.bios == 1); // the failed read did no I/O
  CHECK(contains(r.trace_json, R"("name":"alloc_failure")"));
  CHECK(contains(r.trace_json, R"("site":"dio")"));
  // Without the rule both reads succeed and line 1123 stays dark.
  const model::RunResult plain = model::run_scenario(spec_of("", "", kRead0 + "," + kRead1), {});
  CHECK(plain.outcomes[1].ret == 4096);
  CHECK(plain.line_hits[1123] == 0);
}

TEST_CASE("alloc_failures dio_done_wq: an async overwrite fails at line 1199, the next one "
          "creates the workqueue") {
  const auto spec = spec_of(R"("alloc_failures": [{"site": "dio_done_wq", "nth": 1}],)", "",
                            kAioOverwrite0 + "," + kAioOverwrite0 + R"(, {"op": "reap"})");
  const model::RunResult r = run_traced(spec);
  CHECK(r.exit_code() == 0);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[0].submit_ret == -ENOMEM);
  CHECK(r.outcomes[0].ret == -ENOMEM);
  CHECK(r.outcomes[1].ret == 4096);
  CHECK(r.line_hits[1199] == 1);
  CHECK(contains(r.trace_json, R"("site":"dio_done_wq")"));
}

TEST_CASE("alloc_failures fs_block: get_block's allocation fails, the write returns -ENOMEM "
          "and ext2_write_failed drops what it allocated") {
  const auto spec =
      spec_of(R"("alloc_failures": [{"site": "fs_block", "nth": 2}],
                 "filesystem": {"max_blocks_per_map": 1},)",
              "", R"({"op": "pwrite", "offset": 8192, "iov": [{"buffer": "buf", "len": 8192}]})");
  const model::RunResult r = run_traced(spec);
  CHECK(r.exit_code() == 0);
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].ret == -ENOMEM);
  CHECK(r.final_i_size == 8192);
  CHECK(contains(r.trace_json, R"("site":"fs_block")"));
  // The first allocation succeeded: nth counts attempts at the site.
  const auto first =
      spec_of(R"("alloc_failures": [{"site": "fs_block", "nth": 1}],
                                "filesystem": {"max_blocks_per_map": 1},)",
              "", R"({"op": "pwrite", "offset": 8192, "iov": [{"buffer": "buf", "len": 8192}]})");
  const model::RunResult f = model::run_scenario(first, {});
  CHECK(f.exit_code() == 0);
  CHECK(f.outcomes[0].ret == -ENOMEM);
  CHECK(f.bios == 0);
  CHECK(r.bios == 1);
}

TEST_CASE("writeback_error: -EIO reaches the read path once, and the page is left clean") {
  const auto spec = spec_of(
      "",
      R"(, "page_cache": [{"index": 0, "dirty": true, "writeback_error": true, "data": "4096:C"}])",
      kRead0 + "," + kRead0);
  const model::RunResult r = run_traced(spec);
  CHECK(r.exit_code() == 0);
  REQUIRE(r.outcomes.size() == 2);
  CHECK(r.outcomes[0].ret == -EIO);
  CHECK(r.outcomes[0].dio_returns.empty()); // generic_file_read_iter returned first
  CHECK(r.outcomes[1].ret == 4096);
  CHECK(r.outcomes[1].data == std::vector<uint8_t>(4096, 'A')); // the page's C never reached disk
  CHECK(contains(r.trace_json, R"("name":"writeback_error")"));
  CHECK(contains(r.trace_json, R"("name":"writeback_wait")"));
}

TEST_CASE("writeback_error: the direct write path returns -EIO and writes nothing") {
  const auto spec =
      spec_of("", R"(, "page_cache": [{"index": 1, "dirty": true, "writeback_error": true}])",
              R"({"op": "pwrite", "offset": 0, "iov": [{"buffer": "buf", "len": 8192}]})");
  const model::RunResult r = model::run_scenario(spec, {});
  CHECK(r.exit_code() == 0);
  CHECK(r.outcomes[0].ret == -EIO);
  CHECK(r.bios == 0);
  const std::vector<uint8_t> file = r.final_file.read(0, 8192);
  CHECK(std::string(file.begin(), file.end()) ==
        std::string(4096, 'A') + std::string(4096, 'B'));
}

TEST_CASE("writeback_error: a second reader's failed writeback reaches the first reader at "
          "line 1157") {
  const scenario::ScenarioSpec spec =
      scenario::load_scenario(std::string(DIOSIM_SCENARIO_DIR) + "/writeback-error-dio-check.json");
  const model::RunResult r = model::run_scenario(spec, {});
  CHECK(r.exit_code() == 0);
  CHECK(r.schedule_source == model::ScheduleSource::pinned);
  CHECK(r.line_hits[1157] == 1);
  REQUIRE(r.outcomes.size() == 2);
  CHECK(r.outcomes[0].ret == -EIO);
  CHECK(r.outcomes[0].dio_returns == std::vector<int64_t>{-EIO}); // from __blockdev_direct_IO
  CHECK(r.outcomes[1].ret == 4096);
}

TEST_CASE("explore: each new fault point is a decision dfs takes both ways") {
  // With the fault point the run can also end in the fault's one outcome (-ENOMEM or -EIO):
  // exactly one more terminal state than without it, and no invariant breaks in any.
  struct Case {
    const char* fault;
    std::string file_extra, ops;
  };
  const std::string dirty0 = R"(, "page_cache": [{"index": 0, "dirty": true, "data": "4096:C"}])";
  const std::string extend =
      R"({"op": "pwrite", "offset": 8192, "iov": [{"buffer": "buf", "len": 4096}]})";
  const Case cases[] = {
      {"dio_alloc", "", kRead0},
      {"dio_done_wq_alloc", "", kAioOverwrite0 + R"(, {"op": "reap"})"},
      {"fs_block_alloc", "", extend},
      {"writeback_error", dirty0, kRead0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fault);
    const size_t without = dfs_outcomes(spec_of("", c.file_extra, c.ops));
    const size_t with = dfs_outcomes(
        spec_of(std::string(R"("explore_faults": [")") + c.fault + R"("],)", c.file_extra, c.ops));
    CHECK(without >= 1);
    CHECK(with == without + 1);
  }
}

TEST_CASE("alloc_failures and writeback_error: parsed, written back, and bad shapes rejected") {
  const auto spec = spec_of(
      R"("alloc_failures": [{"site": "fs_block", "nth": 3}, {"site": "dio", "nth": 1}],
         "explore_faults": ["writeback_error", "dio_alloc", "fs_block_alloc", "dio_done_wq_alloc"],)",
      R"(, "page_cache": [{"index": 1, "dirty": true, "writeback_error": true}])", kRead0);
  REQUIRE(spec.alloc_failures.size() == 2);
  CHECK(spec.alloc_failures[0].site == scenario::AllocSite::fs_block);
  CHECK(spec.alloc_failures[0].nth == 3);
  CHECK(spec.page_cache[0].writeback_error);
  CHECK(spec.explore_faults.dio_alloc);
  CHECK(spec.explore_faults.writeback_error);
  const std::string text = scenario::to_json(spec);
  CHECK(contains(text, R"("alloc_failures": [)"));
  CHECK(contains(text, R"("writeback_error": true)"));
  const scenario::ScenarioSpec back = scenario::parse_scenario(text, "back.json");
  CHECK(back.alloc_failures == spec.alloc_failures);
  CHECK(back.explore_faults == spec.explore_faults);
  CHECK(back.page_cache[0].writeback_error);
  CHECK(scenario::to_json(back) == text);

  auto error_of = [](const std::string& extra) {
    try {
      spec_of(extra, "", kRead0);
    } catch (const scenario::ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(contains(error_of(R"("alloc_failures": [{"site": "bio", "nth": 1}],)"),
                 "test.json: /alloc_failures/0/site: expected one of \"dio\""));
  CHECK(contains(error_of(R"("alloc_failures": [{"site": "dio", "nth": 0}],)"),
                 "test.json: /alloc_failures/0/nth"));
  CHECK(contains(error_of(R"("alloc_failures": [{"site": "dio"}],)"),
                 "test.json: /alloc_failures/0"));
  CHECK(contains(
      error_of(R"("alloc_failures": [{"site": "dio", "nth": 2}, {"site": "dio", "nth": 2}],)"),
      "test.json: /alloc_failures/1: allocation 2 at site \"dio\" is already listed at "
      "/alloc_failures/0"));
}

TEST_CASE("kernel: alloc_fails counts every attempt per site; AS_EIO reaches one caller") {
  test::Harness h;
  kern::FaultPlan& plan = h.kernel.faults;
  plan.fail_nth[static_cast<size_t>(kern::AllocSite::fs_block)] = {2, 4};
  std::vector<bool> fs, dio;
  for (int i = 0; i < 5; ++i) {
    fs.push_back(kern::alloc_fails(kern::AllocSite::fs_block));
    dio.push_back(kern::alloc_fails(kern::AllocSite::dio_slab));
  }
  CHECK(fs == std::vector<bool>{false, true, false, true, false});
  CHECK(dio == std::vector<bool>(5, false)); // other sites are not affected
  CHECK(plan.calls[static_cast<size_t>(kern::AllocSite::fs_block)] == 5);
  CHECK(plan.fired == 2);

  kern::address_space mapping;
  CHECK(kern::filemap_check_errors(&mapping) == 0);
  kern::mapping_set_error(&mapping, -EIO);
  CHECK(kern::filemap_check_errors(&mapping) == -EIO); // the first caller gets it
  CHECK(kern::filemap_check_errors(&mapping) == 0);    // and clears it
}

TEST_CASE("alloc_failures dio_done_wq: a BH_Defer_Completion mapping's workqueue set-up fails "
          "(fs/direct-io.c:643-644), the read returns -ENOMEM; once created it is not allocated "
          "again") {
  const std::string fs = R"("filesystem": {"model": "extent", "defer_completion": true},)";
  const std::string ops = kRead0 + "," + kRead0;
  const model::RunResult r = model::run_scenario(
      spec_of(R"("alloc_failures": [{"site": "dio_done_wq", "nth": 1}],)" + fs, "", ops), {});
  CHECK(r.exit_code() == 0); // the reference model agrees
  REQUIRE(r.outcomes.size() == 2);
  CHECK(r.outcomes[0].ret == -ENOMEM);
  CHECK(r.outcomes[1].ret == 4096);
  CHECK(r.line_hits[644] == 2);
  CHECK(r.line_hits[565] == 2); // the second read creates the workqueue
  const model::RunResult second = model::run_scenario(
      spec_of(R"("alloc_failures": [{"site": "dio_done_wq", "nth": 2}],)" + fs, "", ops), {});
  CHECK(second.exit_code() == 0);
  CHECK(second.outcomes[0].ret == 4096);
  CHECK(second.outcomes[1].ret == 4096); // no second attempt: nothing fails
  CHECK(second.line_hits[565] == 1);
}
