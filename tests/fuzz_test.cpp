// SPDX-License-Identifier: GPL-2.0-only
// diosim fuzz (model/search/fuzz.hpp): the shrinker reaches a minimal scenario, a campaign does not
// depend on --jobs, and a written counterexample reproduces with its scenario file and its
// schedule token.
#include "model/search/fuzz.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace diosim;

namespace {

uint64_t op_bytes(const scenario::Operation& op) {
  uint64_t n = 0;
  for (const scenario::IoVec& v : op.iov)
    n += v.len;
  return n;
}

bool has_long_pwrite(const scenario::ScenarioSpec& s) {
  for (const scenario::Task& t : s.tasks)
    for (const scenario::Operation& op : t.ops)
      if (op.kind == scenario::OpKind::pwrite && op_bytes(op) > 8192) return true;
  return false;
}

// A fresh directory under the build's temporary area.
std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("diosim-fuzz-test-" + name);
  std::filesystem::remove_all(p);
  return p;
}

} // namespace

TEST_CASE("generate_case is a pure function of (campaign seed, case)") {
  for (uint64_t i = 0; i < 20; ++i) {
    CAPTURE(i);
    const std::string a = scenario::to_json(model::generate_case(7, i).value());
    CHECK(a == scenario::to_json(model::generate_case(7, i).value()));
    CHECK(a != scenario::to_json(model::generate_case(8, i).value()));
  }
  CHECK(model::case_seed(1, 0) != model::case_seed(1, 1));
  CHECK(model::case_seed(1, 0) != model::case_seed(2, 0));
}

TEST_CASE("shrinking a 'pwrite longer than 8 KiB' failure gives the minimal scenario") {
  // The predicate stands for a bug that needs a long write and nothing else: everything else
  // must shrink away (one task, one op, one iovec, defaults), the length to 8192 + 1 byte.
  uint64_t index = 0;
  while (!has_long_pwrite(model::generate_case(3, index).value()))
    ++index;
  const rc::Shrinkable<scenario::ScenarioSpec> start = model::generate_case(3, index);
  const model::ShrinkResult r = model::shrink_failure(start, has_long_pwrite);
  CAPTURE(scenario::to_json(start.value()));
  CHECK_FALSE(r.budget_exhausted);
  CHECK(r.steps > 0);
  const scenario::ScenarioSpec& m = r.spec;
  REQUIRE(m.tasks.size() == 1);
  REQUIRE(m.tasks[0].ops.size() == 1);
  const scenario::Operation& op = m.tasks[0].ops[0];
  CHECK(op.kind == scenario::OpKind::pwrite);
  REQUIRE(op.iov.size() == 1);
  CHECK(op_bytes(op) == 8193);
  // Everything else at its default, so the file is as short as it can be.
  CHECK(scenario::to_json(m) == R"({
  "name": "generated",
  "buffers": [{"name": "buf0", "address": 1048576, "size": 8193}],
  "tasks": [{"ops": [{"op": "pwrite", "iov": [{"buffer": "buf0", "len": 8193}]}]}]
}
)");
}

TEST_CASE("shrink_failure stops at its budget and keeps the last failing value") {
  const rc::Shrinkable<scenario::ScenarioSpec> start = [] {
    uint64_t i = 0;
    while (!has_long_pwrite(model::generate_case(3, i).value()))
      ++i;
    return model::generate_case(3, i);
  }();
  const model::ShrinkResult r = model::shrink_failure(start, has_long_pwrite, 3);
  CHECK(r.attempts == 3);
  CHECK(r.budget_exhausted);
  CHECK(has_long_pwrite(r.spec));
}

TEST_CASE("a campaign gives the same cases, failures and finding texts whatever --jobs is") {
  model::FuzzOptions o;
  o.cases = 120;
  o.seed = 11;
  o.include_known = true; // known quirks count as failures here, so there is something to shrink
  o.max_shrink_attempts = 300;
  o.check_model = false; // the campaign machinery is under test, not the model (and it is faster)
  o.out_dir = scratch_dir("jobs1").string();
  o.jobs = 1;
  const model::FuzzSummary one = model::run_fuzz(o, nullptr);
  o.out_dir = scratch_dir("jobs2").string();
  o.jobs = 2;
  const model::FuzzSummary two = model::run_fuzz(o, nullptr);

  CHECK(one.cases == 120);
  CHECK(two.cases == 120);
  CHECK(one.failing_cases == two.failing_cases);
  CHECK(one.by_kind == two.by_kind);
  CHECK(one.line_hits == two.line_hits);
  CHECK(one.write_errors.empty());
  CHECK(two.write_errors.empty());
  REQUIRE(one.findings.size() == two.findings.size());
  REQUIRE(one.findings.size() > 0); // seed 11's first 120 cases hold failures to compare
  for (size_t i = 0; i < one.findings.size(); ++i) {
    const model::Finding &a = one.findings[i], &b = two.findings[i];
    CAPTURE(a.base_path);
    CHECK(a.case_index == b.case_index);
    CHECK(a.kind == b.kind);
    const auto texts = [](const model::Finding& f) {
      return std::vector<std::string>{f.scenario_json, f.schedule, f.trace_json};
    };
    const std::vector<std::string> ta = texts(a), tb = texts(b);
    for (size_t k = 0; k < ta.size(); ++k) {
      CHECK_FALSE(ta[k].empty());
      // The texts name their own path only in the trace's scenario_file.
      std::string fb = tb[k];
      for (size_t at; (at = fb.find("jobs2")) != std::string::npos;)
        fb.replace(at, 5, "jobs1");
      CHECK(ta[k] == fb);
    }
  }
}

TEST_CASE("a written counterexample reproduces from its file and from its schedule token") {
  model::FuzzOptions o;
  o.cases = 60;
  o.seed = 11;
  o.include_known = true;
  o.max_shrink_attempts = 300;
  o.check_model = false;
  o.out_dir = scratch_dir("repro").string();
  const model::FuzzSummary s = model::run_fuzz(o, nullptr);
  REQUIRE_FALSE(s.findings.empty());
  CHECK(s.exit_code() == 1);
  for (const model::Finding& f : s.findings) {
    CAPTURE(f.base_path);
    const scenario::ScenarioSpec spec =
        scenario::parse_scenario(f.scenario_json, f.base_path + ".json");
    CHECK(spec.name == std::filesystem::path(f.base_path).filename().string());
    CHECK(spec.description.find("case " + std::to_string(f.case_index)) != std::string::npos);
    // `diosim run FILE`: the file's own seed and mode.
    const model::RunResult run = model::run_scenario(spec, {});
    CHECK(model::failure_kind(run) == f.kind);
    // `diosim run FILE --schedule "$(cat FILE.schedule)"`: the exact run, trace and all.
    const std::string token_text = f.schedule;
    REQUIRE(!token_text.empty());
    std::string error;
    auto token = engine::ScheduleToken::parse(token_text, &error);
    REQUIRE_MESSAGE(token, error);
    model::RunOptions replay;
    replay.replay = *token;
    replay.trace = true;
    const model::RunResult again = model::run_scenario(spec, replay);
    CHECK_FALSE(again.divergence);
    CHECK(model::failure_kind(again) == f.kind);
    CHECK(again.trace_json == f.trace_json);
  }
}

TEST_CASE("failure_kind and known_quirk classify runs") {
  model::RunResult r;
  CHECK_FALSE(model::failure_kind(r));
  r.failed_expectations.push_back("x");
  CHECK(model::failure_kind(r) == "expectation");
  r.violation = engine::Violation{"stale-data", 0, "file offset 0 ...", 0, 0};
  CHECK(model::failure_kind(r) == "stale-data");
  r.internal_error = "[internal error] boom";
  CHECK(model::failure_kind(r) == "internal-error");

  // The negative control: ocfs2 filling a hole, and the bio fails.
  const scenario::ScenarioSpec spec = scenario::load_scenario(
      std::string(DIOSIM_TEST_DIR) + "/fixtures/stale-after-failed-fill.json");
  const model::RunResult run = model::run_scenario(spec, {});
  CHECK(model::failure_kind(run) == "stale-data");
  CHECK(model::known_quirk(spec, run) == "ocfs2-hole-fill");
  scenario::ScenarioSpec with_unwritten = spec; // the quirk is opt-in: not with the default
  with_unwritten.fs.unwritten = true;
  CHECK_FALSE(model::known_quirk(with_unwritten, run));
  scenario::ScenarioSpec ext2 = spec;
  ext2.fs.model = scenario::FsModel::ext2;
  CHECK_FALSE(model::known_quirk(ext2, run));

  // What the generator's vfat and writeback-error scenarios met (fuzz --seed 1, cases 1001 and
  // 69, shrunk). The vfat cluster gap was the quirk "vfat-cluster-gap" until the world zero-filled
  // it as cont_write_begin does (R-VFAT-ZERO-GAP): now the run passes. A failed writeback's new
  // block is still the quirk "writeback-error-stale".
  const scenario::ScenarioSpec gap = scenario::parse_scenario(
      R"({"filesystem": {"model": "vfat", "cluster_size": 8192},
  "buffers": [{"name": "buf0", "address": 1048576, "size": 1}],
  "tasks": [{"ops": [{"op": "pwrite", "offset": 4096, "iov": [{"buffer": "buf0", "len": 1}]}]}]})",
      "gap.json");
  const model::RunResult gap_run = model::run_scenario(gap, {});
  CHECK_MESSAGE(!model::failure_kind(gap_run), model::failure_kind(gap_run).value_or(""));
  CHECK_FALSE(model::known_quirk(gap, gap_run));
  const scenario::ScenarioSpec lost = scenario::parse_scenario(
      R"({"explore_faults": ["writeback_error"], "filesystem": {"model": "vfat"},
  "buffers": [{"name": "buf0", "address": 1048576, "size": 1}],
  "tasks": [{"ops": [{"op": "pwrite", "iov": [{"buffer": "buf0", "len": 1}]}]}]})",
      "lost.json");
  model::RunOptions fail_writeback;
  std::string token_error;
  const auto token = engine::ScheduleToken::parse("v2:f1", &token_error); // the writeback fails
  REQUIRE_MESSAGE(token, token_error);
  fail_writeback.replay = *token;
  const model::RunResult lost_run = model::run_scenario(lost, fail_writeback);
  CHECK(model::failure_kind(lost_run) == "stale-data");
  CHECK(model::known_quirk(lost, lost_run) == "writeback-error-stale");
}

TEST_CASE("known_quirk: a stale tail past EOF brought inside i_size by ftruncate") {
  // fuzz --seed 3 case 471, shrunk: the last block (file block 5) holds the stale 's' past
  // i_size 11093; a failed append zeroes the cached tail, an ftruncate up to 12288 (a block
  // boundary: no block_truncate_page) brings byte 11093 inside i_size.
  const std::string text = R"({"geometry": {"page_size": 8192, "fs_block_size": 2048,
    "disk_blocks": 19},
  "file": {"i_size": 11093, "extents": [{"file_block": 2, "disk_block": 16, "blocks": 2},
                                        {"file_block": 5, "disk_block": 18, "blocks": 1}]},
  "buffers": [{"name": "buf0", "address": 1048576, "size": 1196}],
  "tasks": [{"ops": [{"op": "ftruncate", "size": 12288}]},
            {"o_direct": false, "o_append": true,
             "ops": [{"op": "pwrite", "iov": [{"buffer": "buf0", "len": 1196}]}]}]})";
  scenario::ScenarioSpec spec = scenario::parse_scenario(text, "tail.json");
  const model::RunResult run = model::run_scenario(spec, {});
  REQUIRE(model::failure_kind(run) == "page-cache-coherency");
  CHECK(run.violation->message.find("(file offset 11093)") != std::string::npos);
  CHECK(model::known_quirk(spec, run) == "stale-tail-past-eof");
  // Not the quirk when the tail past EOF is zero on disk (as Linux keeps it): then the run passes.
  std::string parse_error;
  spec.extents[1].data = scenario::ByteRuns::parse("853:s 1195:zero", &parse_error);
  REQUIRE_MESSAGE(spec.extents[1].data, parse_error);
  const model::RunResult zero_tail = model::run_scenario(spec, {});
  CHECK_MESSAGE(!model::failure_kind(zero_tail), model::failure_kind(zero_tail).value_or(""));
  // Nor without an ftruncate in the scenario.
  scenario::ScenarioSpec no_truncate = scenario::parse_scenario(text, "tail.json");
  no_truncate.tasks[0].ops.clear();
  CHECK_FALSE(model::known_quirk(no_truncate, run));
}
