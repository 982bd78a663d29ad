// SPDX-License-Identifier: GPL-2.0-only
// Kernel iterators ("iter": iovec, ubuf, bvec, kvec; docs/SEMANTICS.md R-ITER-KVEC): a bvec read
// does not dirty the pages it fills (dio->should_dirty is false), a user-backed one does; a kvec
// gets -EFAULT from iov_iter_get_pages2 as in Linux 6.1, and the reference model agrees; the
// parser refuses kernel memory with unmapped pages and a ubuf with several segments; the writer
// round-trips the field.
#include "model/check/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace diosim;

namespace {

std::string read_scenario(const std::string& iter, bool aio) {
  return std::string(
             R"({"file": {"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 1, "data": "4096:D"}]},
  "buffers": [{"name": "b", "address": 1048576, "size": 4096}],
  "tasks": [{"ops": [{"op": "pread", "iter": ")") +
         iter + R"(", "aio": )" + (aio ? "true" : "false") +
         R"(, "iov": [{"buffer": "b", "len": 4096}], "expect": {"ret": 4096, "data": "4096:D"}}]}]})";
}

std::string failure_text(const model::RunResult& r) {
  std::string s;
  if (r.internal_error) s += "internal error: " + *r.internal_error + "\n";
  if (r.violation) s += "violation " + r.violation->invariant + ": " + r.violation->message + "\n";
  for (const auto& f : r.failed_expectations)
    s += "expectation failed: " + f + "\n";
  return s;
}

model::RunResult run_traced(const std::string& json) {
  model::RunOptions opt;
  opt.trace = true;
  return model::run_scenario(scenario::parse_scenario(json, "iter.json"), opt);
}

std::string parse_error(const std::string& json) {
  try {
    scenario::parse_scenario(json, "iter.json");
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("iter: only user-backed reads dirty the pages they fill (sync and AIO)") {
  for (bool aio : {false, true}) {
    CAPTURE(aio);
    for (const char* iter : {"iovec", "ubuf", "bvec"}) {
      CAPTURE(iter);
      const model::RunResult r = run_traced(read_scenario(iter, aio));
      CHECK_MESSAGE(r.exit_code() == 0, failure_text(r));
      const bool dirtied = r.trace_json.find("\"set_page_dirty\"") != std::string::npos;
      CHECK(dirtied == (std::string(iter) != "bvec"));
    }
  }
}

TEST_CASE("iter: a kvec request gets -EFAULT before any get_block, and the model agrees") {
  const model::RunResult r = run_traced(
      R"({"file": {"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 1, "data": "4096:D"}]},
  "buffers": [{"name": "b", "address": 1048576, "size": 4096, "fill": "W"}],
  "tasks": [{"ops": [
    {"op": "pread", "iter": "kvec", "iov": [{"buffer": "b", "len": 4096}], "expect": {"ret": "-EFAULT", "data": "4096:W"}},
    {"op": "pwrite", "iter": "kvec", "offset": 4096, "iov": [{"buffer": "b", "len": 4096}], "expect": {"ret": "-EFAULT", "i_size": 4096}}]}],
  "expect": {"i_size": 4096, "file": [{"offset": 0, "data": "4096:D"}]}})");
  CHECK_MESSAGE(r.exit_code() == 0, failure_text(r));
  CHECK(r.trace_json.find("get_block") == std::string::npos);
}

TEST_CASE("iter: kernel memory cannot have unmapped pages; ubuf has one segment") {
  const std::string base =
      R"({"buffers": [{"name": "b", "address": 1048576, "size": 8192, "unmapped_pages": [1]}],
  "tasks": [{"ops": [{"op": "pread", )";
  CHECK(parse_error(base + R"("iter": "bvec", "iov": [{"buffer": "b", "len": 4096}]}]}]})")
            .find("iter.json: /tasks/0/ops/0/iov/0: buffer \"b\" has unmapped_pages, but a bvec "
                  "iterator describes kernel memory") != std::string::npos);
  CHECK(parse_error(base + R"("iter": "kvec", "iov": [{"buffer": "b", "len": 4096}]}]}]})")
            .find("a kvec iterator") != std::string::npos);
  CHECK(parse_error(
            base +
            R"("iter": "ubuf", "iov": [{"buffer": "b", "len": 1}, {"buffer": "b", "len": 1}]}]}]})")
            .find("/tasks/0/ops/0/iter: an ubuf iterator (ITER_UBUF) has exactly one segment") !=
        std::string::npos);
  CHECK(parse_error(base + R"("iter": "pipe", "iov": [{"buffer": "b", "len": 1}]}]}]})")
            .find("/tasks/0/ops/0/iter") != std::string::npos);
  CHECK(parse_error(base + R"("iter": "iovec", "iov": [{"buffer": "b", "len": 4096}]}]}]})") == "");
}

TEST_CASE("iter: the writer round-trips every kind and leaves out the default") {
  for (const char* iter : {"iovec", "ubuf", "bvec", "kvec"}) {
    CAPTURE(iter);
    const scenario::ScenarioSpec s =
        scenario::parse_scenario(read_scenario(iter, false), "iter.json");
    const std::string text = scenario::to_json(s);
    CHECK((text.find("\"iter\":") != std::string::npos) == (std::string(iter) != "iovec"));
    const scenario::ScenarioSpec back = scenario::parse_scenario(text, "iter.json");
    CHECK(back.tasks[0].ops[0].iter == s.tasks[0].ops[0].iter);
    CHECK(scenario::to_json(back) == text);
  }
}
