// SPDX-License-Identifier: GPL-2.0-only
// Several files in one scenario ("files", docs/SCENARIOS.md "Several files"): the syntax and
// its errors, the writer's round trip, each file's own inode / block map / page cache on one
// disk and allocator, per-file end expectations, the reference model's per-file statement
// (R-FILES) and its withdrawal when the disk may run out (R-FILES-SPACE), and the explorer.
#include "model/check/runner.hpp"
#include "model/check/session.hpp"
#include "model/reference/reference.hpp"
#include "model/search/explore.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_files.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace diosim;

namespace {

// A default file of 8 KiB 'A' at disk block 10, a second file "out" (given), a reader/writer
// buffer, and the given tasks.
std::string two_files(const std::string& out_file, const std::string& tasks,
                      const std::string& extra = "") {
  return R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 10, "blocks": 2, "data": "8192:A"}]},
  "files": {"out": )" +
         out_file + R"(},
  "buffers": [{"name": "b", "address": 1048576, "size": 8192, "fill": "u"},
              {"name": "w", "address": 2097152, "size": 8192, "fill": "W"},
              {"name": "c", "address": 3145728, "size": 8192, "fill": "u"}],
  "tasks": [)" +
         tasks + "]" + extra + "}";
}

const char* kCopy = R"({"name": "copy", "ops": [
    {"op": "pread", "iov": [{"buffer": "b", "len": 8192}], "expect": {"ret": 8192, "data": "8192:A"}},
    {"op": "pwrite", "file": "out", "iov": [{"buffer": "b", "len": 8192}], "expect": {"ret": 8192, "i_size": 8192}}]})";

std::string parse_error(const std::string& json) {
  try {
    scenario::parse_scenario(json, "files.json");
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  }
  return "";
}

std::string kinds(const model::ExploreResult& r) {
  std::string out;
  for (const auto& [kind, v] : r.violations)
    out += (out.empty() ? "" : ",") + kind + " (" + v.message + ")";
  return out;
}

} // namespace

TEST_CASE("files: parsed with their fields; ops and tasks name them; the writer round-trips") {
  const std::string json = two_files(
      R"({"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 20, "blocks": 1, "data": "4096:O"}],
          "page_cache": [{"index": 0}], "expect": {"i_size": {"one_of": [4096, 8192]}, "file": [{"offset": 0, "data": "4096:O"}]}})",
      R"({"name": "t", "file": "out", "fd": "shared", "ops": [{"op": "fsync"}, {"op": "pread", "file": "file", "iov": [{"buffer": "b", "len": 4096}]}, {"op": "reap"}]})");
  const scenario::ScenarioSpec spec = scenario::parse_scenario(json, "files.json");
  REQUIRE(spec.files.size() == 1);
  const scenario::FileSpec& f = spec.files[0];
  CHECK(f.name == "out");
  CHECK(f.i_size == 4096);
  CHECK(f.extents.size() == 1);
  CHECK(f.page_cache.size() == 1);
  CHECK(f.expect_i_size->values == std::vector<int64_t>{4096, 8192});
  CHECK(f.expect_file.size() == 1);
  CHECK(spec.fs.first_free_block == 21); // after every file's extents
  const scenario::Task& t = spec.tasks[0];
  CHECK(scenario::file_of(spec, t, t.ops[0]) == 1); // the task's file
  CHECK(scenario::file_of(spec, t, t.ops[1]) == 0); // the op's own
  CHECK(scenario::file_index(spec, "nope") == scenario::kNoFile);
  const std::string text = scenario::to_json(spec);
  CHECK(scenario::to_json(scenario::parse_scenario(text, "again.json")) == text);
  CHECK(text.find("\"files\"") != std::string::npos);
}

TEST_CASE("files: a file's view has its fields as the default file's and only its ops") {
  const scenario::ScenarioSpec spec = scenario::parse_scenario(
      two_files(
          R"({"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 20, "blocks": 1}]})",
          std::string(kCopy) + R"(, {"name": "r", "ops": [{"op": "reap"}]})"),
      "files.json");
  const scenario::FileView out = scenario::file_view(spec, 1, true);
  CHECK(out.spec.files.empty());
  CHECK(out.spec.i_size == 4096);
  CHECK(out.spec.extents.at(0).disk_block == 20);
  CHECK(out.spec.fs.used_blocks.size() == 1); // the default file's extent
  CHECK(out.spec.tasks.at(0).ops.size() == 1);
  CHECK(out.spec.tasks.at(0).ops.at(0).kind == scenario::OpKind::pwrite);
  CHECK(out.op_of == std::vector<size_t>{1, 2}); // the pwrite, the other task's reap
  const scenario::FileView def = scenario::file_view(spec, 0, true);
  CHECK(def.op_of == std::vector<size_t>{0, 2});
}

TEST_CASE("files: bad file references and layouts are exit-2 errors naming the JSON path") {
  CHECK(parse_error(two_files("{}", R"({"ops": [{"op": "fsync", "file": "nope"}]})"))
            .find("/tasks/0/ops/0/file: unknown file \"nope\"") != std::string::npos);
  CHECK(parse_error(two_files("{}", R"({"file": "nope", "ops": [{"op": "fsync"}]})"))
            .find("/tasks/0/file: unknown file") != std::string::npos);
  CHECK(parse_error(
            two_files(R"({"extents": [{"file_block": 0, "disk_block": 11, "blocks": 2}]})", kCopy))
            .find("/files/out/extents/0: disk blocks 11..12 overlap /file/extents/0") !=
        std::string::npos);
  CHECK(parse_error(R"({"files": {"file": {}}, "tasks": [{"ops": [{"op": "fsync"}]}]})")
            .find("/files/file: file name \"file\" is the default file's") != std::string::npos);
  CHECK(parse_error(two_files("{}", R"({"name": "a", "fd": "x", "ops": [{"op": "fsync"}]},
      {"name": "b", "fd": "x", "file": "out", "ops": [{"op": "fsync"}]})"))
            .find("/tasks/1/file: task \"b\" shares fd \"x\"") != std::string::npos);
  CHECK(parse_error(two_files(R"({"bogus": 1})", kCopy)).find("/files/out") != std::string::npos);
  CHECK(parse_error(two_files("{}", R"({"ops": [{"op": "reap", "file": "out"}]})"))
            .find("a reap op does not take \"file\"") != std::string::npos);
}

TEST_CASE("files: a DIO copy between two files, each with its own inode, on one allocator") {
  const scenario::ScenarioSpec spec = scenario::parse_scenario(
      two_files(R"({"expect": {"i_size": 8192, "file": [{"offset": 0, "data": "8192:A"}]}})", kCopy,
                R"(, "expect": {"i_size": 8192, "file": [{"offset": 0, "data": "8192:A"}]})"),
      "files.json");
  model::Session session(spec);
  model::RunOptions o;
  const model::RunResult r = model::run_in_session(session, o);
  CHECK_MESSAGE(r.exit_code() == 0, (r.violation ? r.violation->message : std::string()));
  CHECK(r.failed_expectations.empty());
  // The control: the second file's expectation is checked (a wrong one fails).
  scenario::ScenarioSpec wrong = spec;
  wrong.files[0].expect_i_size = scenario::OneOf<int64_t>(int64_t{4096});
  const model::RunResult w = model::run_scenario(wrong, o);
  REQUIRE(w.failed_expectations.size() == 1);
  CHECK(w.failed_expectations[0].find("end: out: i_size 8192") != std::string::npos);
}

TEST_CASE("files: new blocks of two files interleave on the disk; neither sees the other's") {
  // Two tasks write their own empty file, block by block; the allocator is shared, so the
  // disk blocks handed out alternate between the files in some runs, never overlap, and every
  // file reads back its own bytes (each task reads into its own buffer: R-FILES-MEMORY).
  const std::string out_write =
      R"({"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}},
      {"op": "pwrite", "offset": 4096, "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}},
      {"op": "pread", "offset": 0, "iov": [{"buffer": "b", "len": 8192}], "expect": {"ret": 8192, "data": "8192:W"}})";
  std::string out_write_c = out_write;
  out_write_c.replace(out_write_c.find(R"("buffer": "b")"), 13, R"("buffer": "c")");
  const std::string json =
      two_files(R"({"expect": {"i_size": 8192, "file": [{"offset": 0, "data": "8192:W"}]}})",
                R"({"name": "a", "ops": [{"op": "ftruncate", "size": 0}, )" + out_write +
                    R"(]}, {"name": "c", "file": "out", "ops": [)" + out_write_c + "]}",
                R"(, "expect": {"i_size": 8192, "file": [{"offset": 0, "data": "8192:W"}]})");
  scenario::ScenarioSpec spec = scenario::parse_scenario(json, "files.json");
  spec.mode = scenario::Mode::explore;
  model::Session session(spec);
  model::ExploreOptions o;
  o.strategy = model::Strategy::dpor;
  o.preemptions = 1;
  o.budget = 3000;
  const model::ExploreResult r = model::explore(session, o);
  CHECK_MESSAGE(r.violations.empty(), kinds(r));
  CHECK(r.executions > 1);
  // The reference model states both files exactly: the disk has room for every allocation.
  for (const model::FileReference& f : model::reference_outcomes(spec))
    CHECK(f.expected.exact);
}

TEST_CASE("files: R-FILES-SPACE withdraws the statement when the files may exhaust the disk") {
  // 24 disk blocks, 12 used by the default file's extent and first_free_block: 12 free; the
  // two files' writes may take 2 + 2 blocks: exact. With 13 disk blocks, 1 free: withdrawn.
  std::string tasks =
      std::string(kCopy) +
      R"(, {"name": "w", "ops": [{"op": "pwrite", "offset": 8192, "iov": [{"buffer": "w", "len": 8192}]}]})";
  const std::string roomy = two_files(
      "{}", tasks, R"(, "geometry": {"disk_blocks": 24}, "filesystem": {"model": "extent"})");
  for (const model::FileReference& f :
       model::reference_outcomes(scenario::parse_scenario(roomy, "roomy.json")))
    CHECK(f.expected.why_not_exact.find("R-FILES-SPACE") == std::string::npos);
  const std::string tight = two_files(
      "{}", tasks, R"(, "geometry": {"disk_blocks": 13}, "filesystem": {"model": "extent"})");
  scenario::ScenarioSpec spec = scenario::parse_scenario(tight, "tight.json");
  for (scenario::Task& t : spec.tasks) // the writes may now fail: no expectations
    for (scenario::Operation& op : t.ops)
      op.expect = scenario::Expect();
  for (const model::FileReference& f : model::reference_outcomes(spec)) {
    CHECK_FALSE(f.expected.exact);
    CHECK(f.expected.why_not_exact.find("R-FILES-SPACE") != std::string::npos);
    for (const model::ExpectedOp& e : f.expected.ops)
      CHECK(e.allowed_ret.empty());
  }
  // The run itself: one write gets its block, the other ENOSPC -- and nothing is claimed.
  model::RunOptions o;
  CHECK(model::run_scenario(spec, o).exit_code() == 0);
}

TEST_CASE("files: the reference model checks each file (a wrong byte in the second is found)") {
  // The write's source is not filled by a read of the other file, so "out" is stated exactly.
  const scenario::ScenarioSpec spec =
      scenario::parse_scenario(two_files("{}", R"({"name": "t", "ops": [
    {"op": "pread", "iov": [{"buffer": "b", "len": 8192}]},
    {"op": "pwrite", "file": "out", "iov": [{"buffer": "w", "len": 8192}]}]})"),
                               "files.json");
  const std::vector<model::FileReference> refs = model::reference_outcomes(spec);
  REQUIRE(refs.size() == 2);
  CHECK(refs[1].op_of == std::vector<size_t>{1});
  CHECK(refs[1].expected.exact);
  model::ActualOp write{8192, std::nullopt, {}, 8192};
  std::vector<uint8_t> eight_k(8192, 'W');
  write.data.append(eight_k.data(), eight_k.size());
  model::FileImage good;
  good.size = 8192;
  good.add_fill(0, 8192, 'W');
  CHECK(model::compare_with_reference(refs[1].view, refs[1].expected, {write}, good, 8192).empty());
  model::FileImage bad;
  bad.size = 8192;
  bad.add_fill(0, 4096, 'W');
  bad.add_fill(4096, 4096, 's');
  CHECK_FALSE(
      model::compare_with_reference(refs[1].view, refs[1].expected, {write}, bad, 8192).empty());
}

TEST_CASE("files: R-FILES-MEMORY withdraws a file whose op uses memory another file's read fills") {
  const scenario::ScenarioSpec spec =
      scenario::parse_scenario(two_files("{}", kCopy), "files.json");
  const std::vector<model::FileReference> refs = model::reference_outcomes(spec);
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].expected.exact); // the source's reads: stated
  CHECK_FALSE(refs[1].expected.exact);
  CHECK(refs[1].expected.why_not_exact.find("R-FILES-MEMORY") != std::string::npos);
  CHECK(refs[1].expected.ops.at(0).allowed_ret.empty());
}
