// SPDX-License-Identifier: GPL-2.0-only
// Buffers that map a file ("mmap" buffers: sim/world/user_memory.cpp, sim/world/mmap_buffer.cpp,
// model/reference/reference_mmap_buffer.cpp): parsing, the writer's round trip, parse errors,
// and what direct and buffered I/O through such a buffer do to the file and the buffer; every
// run is also compared with the reference model.
#include "model/check/runner.hpp"
#include "model/check/session.hpp"
#include "model/reference/reference.hpp"
#include "model/search/explore.hpp"
#include "scenario_test_util.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace diosim;
using diosim::test::check_clean;
using diosim::test::has_rule;

namespace {

// File: page 0 'A', page 1 'B', i_size 8192. Buffer "m" maps it from `offset` (2 pages).
std::string scenario_text(const std::string& mapping, const std::string& ops,
                          const std::string& extra = "", bool o_direct = true) {
  return R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100,
      "blocks": 2, "data": "4096:A 4096:B"}]},
  "buffers": [{"name": "m", "address": 1048576, "size": 8192, "mmap": )" +
         mapping + R"(},
              {"name": "r", "address": 2097152, "size": 8192, "fill": "u"}],
  "tasks": [{"name": "t", "o_direct": )" +
         (o_direct ? "true" : "false") + R"(, "ops": [)" + ops + "]}]" + extra + "}";
}

model::RunResult run(const std::string& json, uint64_t seed = 1, bool trace = false) {
  model::RunOptions o;
  o.seed = seed;
  o.trace = trace;
  return model::run_scenario(scenario::parse_scenario(json, "mmapbuf.json"), o);
}

std::string error_of(const std::string& json) {
  return test::scenario_error(json, "mmapbuf.json");
}

std::string page_of(const model::RunResult& r, uint64_t index) {
  const std::vector<uint8_t> b = r.final_file.read(index * 4096, 4096);
  return std::string(b.begin(), b.end());
}

} // namespace

TEST_CASE("mmap buffers: parsed and round-tripped through the writer") {
  const std::string json = scenario_text(R"({"file": "file", "offset": 4096, "private": true})",
                                         R"({"op": "pwrite", "offset": 0,
      "iov": [{"buffer": "m", "len": 4096}], "expect": {"ret": 4096}})");
  const scenario::ScenarioSpec s = scenario::parse_scenario(json, "mmapbuf.json");
  REQUIRE(s.buffers.at(0).mmap.has_value());
  CHECK(s.buffers[0].mmap->file == "file");
  CHECK(s.buffers[0].mmap->offset == 4096);
  CHECK(s.buffers[0].mmap->private_mapping);
  CHECK(!s.buffers[1].mmap.has_value());
  const std::string text = scenario::to_json(s);
  CHECK(text.find(R"("mmap")") != std::string::npos);
  const scenario::ScenarioSpec back = scenario::parse_scenario(text, "mmapbuf.json");
  CHECK(back.buffers[0].mmap == s.buffers[0].mmap);
  CHECK(scenario::to_json(back) == text);
  // Defaults: the default file, offset 0, shared.
  const scenario::ScenarioSpec d = scenario::parse_scenario(
      scenario_text("{}", R"({"op": "pread", "iov": [{"buffer": "r", "len": 1}]})"), "m.json");
  CHECK(d.buffers[0].mmap == scenario::FileMapping{"file", 0, false});
}

TEST_CASE("mmap buffers: bad fields name the JSON path and the problem") {
  const std::string op = R"({"op": "pread", "iov": [{"buffer": "r", "len": 1}]})";
  CHECK(error_of(scenario_text(R"({"file": "nosuch"})", op))
            .find("/buffers/0/mmap/file: unknown file \"nosuch\"") != std::string::npos);
  CHECK(error_of(scenario_text(R"({"offset": 100})", op))
            .find("/buffers/0/mmap/offset: offset 100 is not a multiple of the page size") !=
        std::string::npos);
  CHECK(error_of(scenario_text(R"({"private": 1})", op)).find("/buffers/0/mmap/private") !=
        std::string::npos);
  std::string json = scenario_text("{}", op);
  json.replace(json.find("1048576"), 7, "1048577");
  CHECK(error_of(json).find("/buffers/0/address: a buffer that maps a file starts on a page "
                            "boundary") != std::string::npos);
  json = scenario_text("{}", op);
  json.replace(json.find(R"("mmap")"), 0, R"("fill": "x", )");
  CHECK(error_of(json).find("/buffers/0/fill: a buffer that maps a file holds the file's bytes") !=
        std::string::npos);
  json = scenario_text("{}", op);
  json.replace(json.find(R"("mmap")"), 0, R"("unmapped_pages": [1], )");
  CHECK(error_of(json).find("/buffers/0/unmapped_pages: a buffer that maps a file") !=
        std::string::npos);
  // Another buffer on the mapping's last page (the mapping owns whole pages).
  json = scenario_text("{}", op);
  json.replace(json.find("8192, \"mmap\""), 4, "5000");
  json.replace(json.find("2097152"), 7, "1054000");
  CHECK(error_of(json).find("/buffers/1: bytes 1054000..") != std::string::npos);
  CHECK(error_of(scenario_text("{}", R"({"op": "pread", "iter": "bvec",
      "iov": [{"buffer": "m", "len": 512}]})"))
            .find("/tasks/0/ops/0/iov/0: buffer \"m\" maps a file, but a bvec iterator") !=
        std::string::npos);
}

TEST_CASE("direct read into a private mapping of the same file copies the page; the file keeps "
          "its bytes") {
  // Page 1 ('B') read into mapped page 0: get_user_pages with FOLL_WRITE copies page 0 first.
  // Without the copy the DMA would land in the page cache's page 0 and the file would change.
  const std::string json =
      scenario_text(R"({"private": true})", R"({"op": "pread", "offset": 4096,
      "iov": [{"buffer": "m", "len": 4096}], "expect": {"ret": 4096, "data": "4096:B"}},
     {"op": "pwrite", "offset": 0, "iov": [{"buffer": "m", "offset": 4096, "len": 4096}],
      "expect": {"ret": 4096}},
     {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 8192}],
      "expect": {"ret": 8192, "data": "8192:B"}},
     {"op": "pread", "offset": 0, "iov": [{"buffer": "m", "len": 8192}],
      "expect": {"ret": 8192, "data": "8192:B"}},
     {"op": "fsync", "expect": {"ret": 0}})",
                    R"(, "expect": {"file": [{"offset": 0, "data": "8192:B"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(json, "mmapbuf.json"));
  CHECK(e.exact);
  REQUIRE(e.ops.size() == 5);
  CHECK(e.ops[0].allowed_ret == std::vector<int64_t>{4096});

  // Only the private copy: the file's page 0 stays 'A'.
  const std::string only_read = scenario_text(R"({"private": true})", R"({"op": "pread",
      "offset": 4096, "iov": [{"buffer": "m", "len": 4096}], "expect": {"ret": 4096,
      "data": "4096:B"}},
     {"op": "pread", "offset": 4096, "iov": [{"buffer": "m", "offset": 4096, "len": 4096}],
      "expect": {"ret": 4096, "data": "4096:B"}},
     {"op": "fsync", "expect": {"ret": 0}})");
  const model::RunResult r2 = run(only_read, 1, true);
  check_clean(r2);
  CHECK(page_of(r2, 0) == std::string(4096, 'A'));
  CHECK(page_of(r2, 1) == std::string(4096, 'B'));
  CHECK(r2.trace_json.find("cow_fault") != std::string::npos);
}

TEST_CASE("direct read into a shared mapping of the file writes the page-cache page, dirty") {
  // Page 1 read into mapped page 0: the write fault dirties the cached page 0, the DMA fills it;
  // a buffered read sees it before any writeback, and the end-of-run writeback puts it on disk.
  const std::string json =
      scenario_text(R"({"file": "file"})", R"({"op": "pread", "offset": 4096,
      "iov": [{"buffer": "m", "len": 4096}], "expect": {"ret": 4096, "data": "4096:B"}},
     {"op": "fcntl", "o_direct": false},
     {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 8192}],
      "expect": {"ret": 8192, "data": "8192:B"}})",
                    R"(, "expect": {"file": [{"offset": 0, "data": "8192:B"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  CHECK(page_of(r, 0) == std::string(4096, 'B'));
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(json, "mmapbuf.json"));
  CHECK(e.exact);
  CHECK(e.ops.at(2).data.has_value());
}

TEST_CASE("direct write of a mapped page onto itself makes progress (generic/729)") {
  // The pinned page-cache page is invalidated after the write anyway (6.1's
  // invalidate_complete_folio2 ignores the refcount): no stale-pagecache warning, ret 4096.
  const std::string json = scenario_text(R"({"private": true})", R"({"op": "pwrite", "offset": 4096,
      "iov": [{"buffer": "m", "offset": 4096, "len": 4096}], "expect": {"ret": 4096}},
     {"op": "pread", "offset": 4096, "iov": [{"buffer": "r", "len": 4096}],
      "expect": {"ret": 4096, "data": "4096:B"}})");
  const model::RunResult r = run(json, 1, true);
  check_clean(r);
  CHECK(r.trace_json.find("filemap_fault") != std::string::npos);
  CHECK(r.trace_json.find("dio_warn_stale_pagecache") == std::string::npos);
  for (uint64_t seed = 2; seed <= 10; ++seed)
    check_clean(run(json, seed));
}

TEST_CASE("a mapped page past EOF faults (SIGBUS): the direct write sees -EFAULT there") {
  // i_size 4096: the mapping's page 1 is past EOF, so get_user_pages fails on it as on an
  // unmapped page: dio_refill_pages records -EFAULT in page_errors and the write returns it.
  std::string json = scenario_text(R"({"file": "file"})", R"({"op": "pwrite", "offset": 16384,
      "iov": [{"buffer": "m", "len": 8192}], "expect": {"ret": "-EFAULT"}})");
  const auto swap = [&](const std::string& from, const std::string& to) {
    json.replace(json.find(from), from.size(), to);
  };
  swap(R"("i_size": 8192)", R"("i_size": 4096)");
  swap(R"("blocks": 2, "data": "4096:A 4096:B")", R"("blocks": 1, "data": "4096:A")");
  const model::RunResult r = run(json, 1, true);
  check_clean(r);
  CHECK(r.trace_json.find("sigbus") != std::string::npos);
  const model::ExpectedRun e =
      model::reference_outcome(scenario::parse_scenario(json, "mmapbuf.json"));
  CHECK(has_rule(e.ops.at(0), "R-UNMODELLED")); // where the I/O stops is not stated
}

TEST_CASE("a direct read into a shared mapping racing a buffered read and a direct write: "
          "explored, clean, the reference gives the racing ops up") {
  const std::string json =
      R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100,
      "blocks": 2, "data": "4096:A 4096:B"}]},
  "buffers": [{"name": "m", "address": 1048576, "size": 4096, "mmap": {"file": "file"}},
              {"name": "r", "address": 2097152, "size": 4096, "fill": "u"},
              {"name": "w", "address": 3145728, "size": 4096, "fill": "W"}],
  "tasks": [{"name": "dio", "ops": [{"op": "pread", "offset": 4096,
               "iov": [{"buffer": "m", "len": 4096}], "expect": {"ret": 4096}}]},
            {"name": "buf", "o_direct": false, "ops": [{"op": "pread", "offset": 0,
               "iov": [{"buffer": "r", "len": 4096}], "expect": {"ret": 4096,
               "data": {"one_of": ["4096:A", "4096:B", "4096:W"]}}}]},
            {"name": "wr", "ops": [{"op": "pwrite", "offset": 0,
               "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}}]}]})";
  scenario::ScenarioSpec spec = scenario::parse_scenario(json, "mmapbuf.json");
  const model::ExpectedRun e = model::reference_outcome(spec);
  CHECK(has_rule(e.ops.at(0), "R-UNMODELLED"));
  spec.mode = scenario::Mode::explore;
  model::Session session(spec);
  model::ExploreOptions o;
  o.strategy = model::Strategy::dpor;
  o.preemptions = 1;
  o.budget = 2000;
  const model::ExploreResult r = model::explore(session, o);
  CHECK(r.violations.empty());
  CHECK(r.executions > 100); // the fault's yield point and the DMA interleave with the others
  // Without "W" among the outcomes the explorer finds the write's bytes in the reader's buffer:
  // the expectation can fail.
  std::string narrow = json;
  narrow.replace(narrow.find(R"(, "4096:W")"), 10, "");
  scenario::ScenarioSpec spec2 = scenario::parse_scenario(narrow, "mmapbuf.json");
  spec2.mode = scenario::Mode::explore;
  model::Session session2(spec2);
  CHECK(!model::explore(session2, o).violations.empty());
}

TEST_CASE("a buffer that maps one file, written to another: both statements withdrawn, the run "
          "still checked by the scenario (generic/708)") {
  const std::string json =
      R"({"file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100,
      "blocks": 2, "data": "4096:A 4096:B"}]},
  "files": {"dst": {"i_size": 0, "expect": {"i_size": 8192,
      "file": [{"offset": 0, "data": "4096:A 4096:B"}]}}},
  "buffers": [{"name": "m", "address": 1048576, "size": 8192,
               "mmap": {"file": "file", "private": true}}],
  "tasks": [{"name": "t", "ops": [{"op": "pwrite", "file": "dst",
      "iov": [{"buffer": "m", "len": 8192}], "expect": {"ret": 8192}},
      {"op": "fsync", "file": "dst", "expect": {"ret": 0}}]}]})";
  const model::RunResult r = run(json);
  check_clean(r);
  const scenario::ScenarioSpec spec = scenario::parse_scenario(json, "mmapbuf.json");
  for (const model::FileReference& f : model::reference_outcomes(spec))
    CHECK(!f.expected.exact);
}

TEST_CASE("ftruncate discards a private mapping's copies past the new size") {
  // Mapped page 1 becomes a private copy ('A' read into it); truncating to one page and back
  // discards it (unmap_mapping_range with even_cows), so page 1 shows the file again: zeros,
  // which a direct write from it then writes. Without the discard it would write 'A'.
  const std::string json =
      scenario_text(R"({"private": true})", R"({"op": "pread", "offset": 0,
      "iov": [{"buffer": "m", "offset": 4096, "len": 4096}], "expect": {"ret": 4096,
      "data": "4096:A"}},
     {"op": "ftruncate", "size": 4096, "expect": {"ret": 0}},
     {"op": "ftruncate", "size": 8192, "expect": {"ret": 0}},
     {"op": "pwrite", "offset": 0, "iov": [{"buffer": "m", "offset": 4096, "len": 4096}],
      "expect": {"ret": 4096}},
     {"op": "fsync", "expect": {"ret": 0}})",
                    R"(, "expect": {"file": [{"offset": 0, "data": "8192:zero"}]})");
  const model::RunResult r = run(json);
  check_clean(r);
  CHECK(page_of(r, 0) == std::string(4096, '\0'));
  CHECK(model::reference_outcome(scenario::parse_scenario(json, "mmapbuf.json")).exact);
}
