// SPDX-License-Identifier: GPL-2.0-only
// Scenario parsing: byte runs, defaults, schema errors and semantic errors, each checked by the
// content of the message.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/json_schema.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

using namespace diosim::scenario;

namespace {

// The message parse_scenario throws for `json`, or "" when it parses.
std::string error_of(const std::string& json, const std::string& file = "test.json") {
  try {
    parse_scenario(json, file);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A valid scenario with one pread of 4096 bytes; `extra` adds top-level fields.
std::string scenario(const std::string& op_fields = R"("offset": 0)",
                     const std::string& extra = "") {
  return R"({
  "buffers": [{"name": "buf", "address": 1048576, "size": 8192}],
  "tasks": [{"name": "reader", "ops": [
    {"op": "pread", "iov": [{"buffer": "buf", "offset": 0, "len": 4096}], )" +
         op_fields + R"(}]}])" + (extra.empty() ? "" : ",\n  " + extra) + "\n}";
}

} // namespace

TEST_CASE("ByteRuns: parse, size, expand and describe round trip") {
  std::string why;
  auto runs = ByteRuns::parse("3:A 2:zero 1:~", &why);
  REQUIRE(runs);
  CHECK(why.empty());
  CHECK(runs->size() == 6);
  const std::vector<uint8_t> bytes = runs->expand();
  CHECK(bytes == std::vector<uint8_t>{'A', 'A', 'A', 0, 0, '~'});
  CHECK(ByteRuns::describe(bytes.data(), bytes.size()) == "3:A 2:zero 1:~");

  // describe merges equal neighbours and escapes what parse cannot spell.
  const uint8_t odd[] = {'x', 'x', 0x01, ' ', ' '};
  CHECK(ByteRuns::describe(odd, sizeof odd) == "2:x 1:\\x01 2:\\x20");
  CHECK(ByteRuns::describe(odd, 0).empty());

  // the word zero is a zero byte, a lone 'z' is the letter
  auto z = ByteRuns::parse("1:z 1:zero", &why);
  REQUIRE(z);
  CHECK(z->expand() == std::vector<uint8_t>{'z', 0});
}

TEST_CASE("ByteRuns: bad text names the run and the problem") {
  std::string why;
  CHECK_FALSE(ByteRuns::parse("4096:AB", &why));
  CHECK(contains(why, "run 1 \"4096:AB\""));
  CHECK(contains(why, "one printable ASCII character"));

  CHECK_FALSE(ByteRuns::parse("1:A 0:B", &why));
  CHECK(contains(why, "run 2 \"0:B\": the length must be a positive decimal number"));

  CHECK_FALSE(ByteRuns::parse("12A", &why));
  CHECK(contains(why, "expected LEN:X"));

  CHECK_FALSE(ByteRuns::parse("", &why));
  CHECK(contains(why, "no runs"));

  CHECK_FALSE(ByteRuns::parse("99999999999999999999999:A", &why));
  CHECK(contains(why, "too large"));
}

TEST_CASE("a minimal scenario parses with the defaults of scenario.hpp") {
  const ScenarioSpec s =
      parse_scenario(R"({"tasks": [{"ops": [{"op": "reap"}]}]})", "dir/minimal.json");
  CHECK(s.name == "minimal");
  CHECK(s.path == "dir/minimal.json");
  CHECK(s.mode == Mode::timed);
  CHECK(s.seed == 1);
  CHECK(s.step_cost_ns == 100);
  CHECK(s.geometry.page_size == 4096);
  CHECK(s.geometry.fs_block_size == 4096);
  CHECK(s.geometry.logical_block_size == 512);
  CHECK(s.geometry.disk_blocks == 1024);
  CHECK(s.geometry.dio_pages == 64);
  CHECK(s.geometry.bio_max_vecs == 256);
  CHECK(s.geometry.reap_threshold == 64);
  CHECK(s.geometry.plug_limit == 32);
  CHECK(s.fs.model == FsModel::ext2);
  CHECK_FALSE(s.fs.error_at_block);
  CHECK(s.fs.end_io_error == 0);
  CHECK(s.fs.first_free_block == 0);
  CHECK(s.disk.latency_ns_min == 20000);
  CHECK(s.disk.latency_ns_max == 200000);
  CHECK(s.disk.queue_depth == 32);
  CHECK(s.disk.stale_byte == 's');
  CHECK(s.i_size == 0);
  REQUIRE(s.tasks.size() == 1);
  CHECK(s.tasks[0].name == "task0");
  REQUIRE(s.tasks[0].ops.size() == 1);
  CHECK(s.tasks[0].ops[0].kind == OpKind::reap);
  CHECK(s.tasks[0].ops[0].where == "/tasks/0/ops/0");
  CHECK_FALSE(s.expect_i_size);
}

TEST_CASE("a full scenario fills every field") {
  const ScenarioSpec s = parse_scenario(R"({
    "name": "full", "mode": "explore", "seed": 18446744073709551615,
    "geometry": {"page_size": 8192, "fs_block_size": 2048, "logical_block_size": 1024},
    "filesystem": {"model": "ocfs2", "boundary_blocks": [3], "get_block_error": {"block": 5, "errno": "ENOSPC"},
                   "end_io_error": "EIO", "defer_completion": true},
    "disk": {"latency_ns": {"min": 1, "max": 2}, "stale_byte": "zero",
             "errors": [{"bio": 2}, {"sectors": [8, 15], "status": "AGAIN"}, {"probability": 0.5}]},
    "file": {"i_size": 4096, "extents": [{"file_block": 0, "disk_block": 10, "blocks": 2, "data": "4096:D"}],
             "page_cache": [{"index": 0, "dirty": true, "data": "8192:C"}]},
    "buffers": [{"name": "b", "address": 65536, "size": 4096, "fill": "zero", "unmapped_pages": [0]}],
    "tasks": [{"ops": [{"op": "pwrite", "offset": 2048, "aio": true, "nowait": true,
                        "iov": [{"buffer": "b", "len": 2048}], "expect": {"ret": "-EAGAIN", "i_size": 4096}},
                       {"op": "pread", "iov": [{"buffer": "b", "offset": 2048, "len": 2048}],
                        "expect": {"ret": 2048, "data": "2048:D", "data_fnv1a": "cbf29ce484222325"}}]}],
    "expect": {"i_size": 4096, "file": [{"offset": 0, "data": "4096:D"}]}
  })",
                                        "full.json");
  CHECK(s.mode == Mode::explore);
  CHECK(s.seed == UINT64_MAX);
  CHECK(s.fs.model == FsModel::ocfs2);
  CHECK(s.fs.boundary_blocks == std::vector<uint64_t>{3});
  CHECK(s.fs.error_at_block == 5);
  CHECK(s.fs.error_errno == -28);
  CHECK(s.fs.end_io_error == -5);
  CHECK(s.fs.defer_completion);
  CHECK(s.fs.first_free_block == 12); // after the last extent
  CHECK(s.disk.stale_byte == 0);
  REQUIRE(s.disk.errors.size() == 3);
  CHECK(s.disk.errors[0].kind == DiskErrorRule::Kind::bio_ordinal);
  CHECK(s.disk.errors[0].bio == 2);
  CHECK(s.disk.errors[1].kind == DiskErrorRule::Kind::sectors);
  CHECK(s.disk.errors[1].sector_first == 8);
  CHECK(s.disk.errors[1].sector_last == 15);
  CHECK(s.disk.errors[1].again);
  CHECK(s.disk.errors[2].kind == DiskErrorRule::Kind::probability);
  CHECK(s.disk.errors[2].probability == doctest::Approx(0.5));
  CHECK(s.extents.at(0).data->size() == 4096);
  CHECK(s.page_cache.at(0).dirty);
  CHECK(s.buffers.at(0).fill == 0);
  CHECK(s.buffers.at(0).unmapped_pages == std::vector<uint64_t>{0});
  const Operation& w = s.tasks.at(0).ops.at(0);
  CHECK(w.kind == OpKind::pwrite);
  CHECK(w.offset == 2048);
  CHECK(w.aio);
  CHECK(w.nowait);
  CHECK(w.expect.ret == -11);
  CHECK(w.expect.i_size == 4096);
  const Operation& r = s.tasks.at(0).ops.at(1);
  CHECK(r.where == "/tasks/0/ops/1");
  CHECK(r.expect.ret == 2048);
  CHECK(r.expect.data->values.at(0).size() == 2048);
  CHECK(r.expect.data_fnv1a == "cbf29ce484222325");
  CHECK(s.expect_i_size == 4096);
  CHECK(s.expect_file.at(0).data.size() == 4096);
}

TEST_CASE("the scenario helper is valid as written") {
  CHECK(error_of(scenario()) == "");
}

TEST_CASE("schema error: a typo in a field name names the path and the allowed fields") {
  const std::string e = error_of(scenario(R"("ofset": 0)"));
  CHECK(e.rfind("test.json: ", 0) == 0);
  CHECK(contains(
      e, "test.json: /tasks/0/ops/0: unknown field \"ofset\" "
         "(allowed: op, offset, iov, aio, dsync, nowait, iter, expect, file, o_direct, events, "
         "name, count, ops, append, size, len, keep_size, punch_hole, datasync, iocb, sync, fill)"));
  CHECK(contains(e, "did you mean \"offset\"?"));
}

TEST_CASE("schema error: wrong type") {
  const std::string e = error_of(scenario(R"("offset": "abc")"));
  CHECK(contains(e, "test.json: /tasks/0/ops/0/offset: expected integer, found string \"abc\""));
}

TEST_CASE("schema error: missing required field") {
  const std::string e = error_of(R"({"tasks": [{"ops": [{"op": "reap"}]}],
    "buffers": [{"name": "b", "size": 10}]})");
  CHECK(contains(e, "test.json: /buffers/0: missing required field \"address\""));
  CHECK(contains(error_of("{}"), "test.json: (top level): missing required field \"tasks\""));
}

TEST_CASE("schema error: bad enum value") {
  const std::string e = error_of(scenario(R"("offset": 0)", R"("mode": "timd")"));
  CHECK(contains(
      e, "test.json: /mode: expected one of \"timed\", \"explore\", found string \"timd\""));
  CHECK(contains(e, "did you mean \"timed\"?"));
}

TEST_CASE("schema error: bad errno names") {
  const std::string e =
      error_of(scenario(R"("expect": {"ret": "-EWHAT"})",
                        R"("filesystem": {"get_block_error": {"block": 1, "errno": "EIOX"}})"));
  CHECK(contains(e, "test.json: /filesystem/get_block_error/errno: expected one of \"EPERM\""));
  CHECK(contains(e, "found string \"EIOX\""));
  CHECK(contains(e, "test.json: /tasks/0/ops/0/expect/ret: expected one of \"-EPERM\""));
  CHECK(contains(e, "found string \"-EWHAT\""));
  // ret is an integer, a string or a {"one_of": [...]} object: another type reports all three
  CHECK(contains(
      error_of(scenario(R"("expect": {"ret": true})")),
      "/tasks/0/ops/0/expect/ret: expected integer, string or object, found boolean true"));
}

TEST_CASE("schema error: bad byte runs explain the run at fault") {
  const std::string e = error_of(scenario(R"("expect": {"data": "4096:DD"})"));
  CHECK(contains(e, "test.json: /tasks/0/ops/0/expect/data: invalid byte runs \"4096:DD\": "
                    "run 1 \"4096:DD\": the byte must be one printable ASCII character"));
  CHECK(contains(
      error_of(scenario(R"("expect": {"data_fnv1a": "ABC"})")),
      "/tasks/0/ops/0/expect/data_fnv1a: expected 16 lowercase hex digits, found \"ABC\""));
}

TEST_CASE("schema error: disk error rules need exactly one selector") {
  const std::string none =
      error_of(scenario(R"("offset": 0)", R"("disk": {"errors": [{"status": "AGAIN"}]})"));
  CHECK(contains(
      none, "/disk/errors/0: missing one of the fields \"bio\", \"sectors\", \"probability\""));
  const std::string two = error_of(
      scenario(R"("offset": 0)", R"("disk": {"errors": [{"bio": 1, "probability": 0.5}]})"));
  CHECK(contains(two, "/disk/errors/0: matches more than one allowed form"));
}

TEST_CASE("all schema errors are reported, one per line, in document order") {
  const std::string e =
      error_of(R"({"mode": 1, "tasks": [{"ops": [{"op": "jump"}]}], "seed": -1})");
  const size_t mode = e.find("/mode:"), op = e.find("/tasks/0/ops/0/op:"), seed = e.find("/seed:");
  REQUIRE(mode != std::string::npos);
  REQUIRE(op != std::string::npos);
  REQUIRE(seed != std::string::npos);
  CHECK(mode < op);
  CHECK(op < seed);
  CHECK(contains(e, "\ntest.json: /tasks/0/ops/0/op:"));
}

TEST_CASE("semantic error: overlapping extents") {
  const std::string e = error_of(scenario(R"("offset": 0)", R"("file": {"extents": [
    {"file_block": 0, "disk_block": 100, "blocks": 4},
    {"file_block": 3, "disk_block": 200, "blocks": 2},
    {"file_block": 10, "disk_block": 101, "blocks": 1}]})"));
  CHECK(contains(
      e,
      "test.json: /file/extents/1: file blocks 3..4 overlap /file/extents/0 (file blocks 0..3)"));
  CHECK(contains(e, "test.json: /file/extents/2: disk blocks 101..101 overlap /file/extents/0 "
                    "(disk blocks 100..103)"));
}

TEST_CASE("semantic error: extent beyond the disk and extent data of the wrong size") {
  const std::string e = error_of(scenario(R"("offset": 0)", R"("file": {"extents": [
    {"file_block": 0, "disk_block": 1020, "blocks": 8, "data": "100:A"}]})"));
  CHECK(contains(
      e,
      "/file/extents/0: disk blocks 1020..1027 lie beyond the end of the disk (disk_blocks 1024)"));
  CHECK(contains(
      e,
      "/file/extents/0/data: byte runs hold 100 bytes, expected blocks * fs_block_size = 32768"));
}

TEST_CASE("semantic error: iov beyond its buffer, unknown buffer") {
  const std::string e = error_of(R"({
    "buffers": [{"name": "buf", "address": 1048576, "size": 4096}],
    "tasks": [{"ops": [{"op": "pread", "iov": [{"buffer": "buf", "offset": 512, "len": 4096},
                                               {"buffer": "bfu", "len": 1}]}]}]})");
  CHECK(contains(e,
                 "test.json: /tasks/0/ops/0/iov/0: offset 512 + len 4096 = 4608 is beyond the end "
                 "of buffer \"buf\" (size 4096)"));
  CHECK(
      contains(e, "test.json: /tasks/0/ops/0/iov/1/buffer: unknown buffer \"bfu\" (buffers: buf)"));
}

TEST_CASE("semantic error: a disk larger than 1 TiB") {
  const std::string e =
      error_of(scenario(R"("offset": 0)", R"("geometry": {"disk_blocks": 268435457})"));
  CHECK(
      contains(e, "test.json: /geometry/disk_blocks: the disk would hold 268435457 * 4096 bytes"));
  // 1 TiB exactly is allowed (the disk is sparse: only written chunks cost memory).
  CHECK(error_of(scenario(R"("offset": 0)", R"("geometry": {"disk_blocks": 268435456})")).empty());
}

TEST_CASE("semantic error: block sizes") {
  const std::string odd =
      error_of(scenario(R"("offset": 0)", R"("geometry": {"fs_block_size": 3000})"));
  CHECK(contains(
      odd, "test.json: /geometry/fs_block_size: fs_block_size must be a power of two, found 3000"));
  const std::string big =
      error_of(scenario(R"("offset": 0)", R"("geometry": {"fs_block_size": 8192})"));
  CHECK(contains(big, "test.json: /geometry/fs_block_size: fs_block_size (8192) must not exceed "
                      "page_size (4096): the kernel requires blocksize <= PAGE_SIZE"));
  const std::string lbs = error_of(scenario(
      R"("offset": 0)", R"("geometry": {"fs_block_size": 1024, "logical_block_size": 2048})"));
  CHECK(contains(lbs, "/geometry/logical_block_size: logical_block_size (2048) must not exceed "
                      "fs_block_size (1024)"));
}

TEST_CASE("semantic error: buffers, page cache, ops and task names") {
  const std::string e = error_of(R"({
    "file": {"page_cache": [{"index": 2}, {"index": 2}]},
    "buffers": [{"name": "a", "address": 8192, "size": 8192, "unmapped_pages": [2]},
                {"name": "b", "address": 12288, "size": 10}],
    "tasks": [{"name": "t", "ops": [{"op": "reap", "aio": true},
                                    {"op": "pwrite", "iov": [{"buffer": "a", "len": 1}], "expect": {"data": "1:x"}},
                                    {"op": "pread"}]},
              {"name": "t", "ops": [{"op": "reap"}]}]})");
  CHECK(contains(e,
                 "/file/page_cache/1/index: page index 2 is already listed at /file/page_cache/0"));
  CHECK(contains(e,
                 "/buffers/0/unmapped_pages/0: page 2 is outside the buffer, which spans 2 pages"));
  CHECK(contains(e, "/buffers/1: bytes 12288..12297 overlap /buffers/0"));
  CHECK(contains(e, "/tasks/0/ops/0: a reap op does not take \"aio\""));
  CHECK(contains(e, "/tasks/0/ops/1/expect/data: expect.data applies to pread and mmap_read only"));
  CHECK(contains(e, "/tasks/0/ops/2: missing required field \"iov\""));
  CHECK(contains(e, "/tasks/1/name: task name \"t\" is already used by /tasks/0"));
}

TEST_CASE("every error line starts with the file name") {
  const std::string e = error_of(
      scenario(R"("offset": 0)", R"("geometry": {"page_size": 3000, "fs_block_size": 3000})"),
      "scenarios/x.json");
  REQUIRE_FALSE(e.empty());
  size_t start = 0, lines = 0;
  while (start < e.size()) {
    size_t end = e.find('\n', start);
    if (end == std::string::npos) end = e.size();
    CHECK(e.compare(start, 18, "scenarios/x.json: ") == 0);
    ++lines;
    start = end + 1;
  }
  CHECK(lines == 2);
}

TEST_CASE("invalid JSON, duplicate fields and unreadable files") {
  const std::string bad = error_of("{\n  \"tasks\": [\n    {\"ops\": [}\n  ]\n}\n", "bad.json");
  CHECK(bad.rfind("bad.json: invalid JSON at line 3 column 14: ", 0) == 0);
  const std::string dup =
      error_of(R"({"tasks": [{"ops": [{"op": "reap", "op": "pread"}]}]})", "dup.json");
  CHECK(dup == "dup.json: /tasks/0/ops/0/op: duplicate field \"op\"");
  try {
    load_scenario("/nonexistent/diosim/scenario.json");
    FAIL("load_scenario accepted a missing file");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).rfind("/nonexistent/diosim/scenario.json: cannot read", 0) == 0);
  }
}

// The lines of a multi-line message.
std::vector<std::string> lines_of(const std::string& e) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < e.size()) {
    size_t end = e.find('\n', start);
    if (end == std::string::npos) end = e.size();
    out.push_back(e.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST_CASE("nesting deeper than the limit is refused with its position, at any depth") {
  // One level too deep, inside a real field: the message names the limit and the bracket.
  std::string nested = "{\"tasks\": ";
  for (size_t i = 1; i < kMaxJsonDepth; ++i)
    nested += "[";
  const std::string one_too_deep = error_of(nested + "[]}");
  CHECK(one_too_deep == "test.json: invalid JSON at line 1 column " +
                            std::to_string(11 + kMaxJsonDepth - 1) +
                            ": arrays and objects nest deeper than the limit of 64 levels");
  // At the limit the parse goes on (and the schema then refuses the arrays).
  const std::string at_limit = error_of(nested + std::string(kMaxJsonDepth - 1, ']') + "}");
  CHECK_FALSE(contains(at_limit, "nest deeper"));
  CHECK(contains(at_limit, "test.json: /tasks/0: "));
  // 100 000 levels (a stack overflow before the limit existed) and a string holding brackets.
  CHECK(contains(error_of(std::string(100000, '[') + std::string(100000, ']')),
                 "nest deeper than the limit of 64 levels"));
  CHECK(contains(error_of("{\"a\": \"[[[[\", \"b\": " + std::string(100000, '[')),
                 "invalid JSON at line 1 column 83: arrays and objects nest deeper"));
}

TEST_CASE("a number beyond the range of double is invalid JSON, with its position") {
  CHECK(error_of("{\n  \"seed\": 1e999\n}", "big.json") ==
        "big.json: invalid JSON at line 2 column 11: number out of range: 1e999");
  CHECK(error_of(R"({"seed": -1.5e400})") ==
        "test.json: invalid JSON at line 1 column 10: number out of range: -1.5e400");
  // Integers beyond 64 bits are still numbers (doubles): the schema says what is wrong.
  CHECK(contains(error_of(R"({"seed": 100000000000000000000000})"), "/seed: "));
}

TEST_CASE("many problems: the first 20 lines, then how many more, in bounded time") {
  // 100 buffers of one name at one address: 99 duplicate names and 99*100/2 overlaps.
  std::string buffers;
  for (int i = 0; i < 100; ++i)
    buffers += std::string(i ? "," : "") + R"({"name": "b", "address": 4096, "size": 4096})";
  const std::string e = error_of(
      R"({"buffers": [)" + buffers + R"(], "tasks": [{"ops": [{"op": "reap"}]}]})", "many.json");
  const std::vector<std::string> lines = lines_of(e);
  REQUIRE(lines.size() == kMaxReportedErrors + 1);
  CHECK(lines[0] == "many.json: /buffers/1/name: buffer name \"b\" is already used by /buffers/0");
  CHECK(lines[1] == "many.json: /buffers/1: bytes 4096..8191 overlap /buffers/0 (\"b\", bytes "
                    "4096..8191)");
  CHECK(lines.back() == "many.json: and " + std::to_string(99 + 4950 - kMaxReportedErrors) +
                            " more problems (only the first 20 are listed)");
  // Schema errors are capped the same way.
  std::string ops;
  for (int i = 0; i < 50; ++i)
    ops += std::string(i ? "," : "") + R"({"op": "pread", "ofset": 1})";
  const std::vector<std::string> schema_lines =
      lines_of(error_of(R"({"tasks": [{"ops": [)" + ops + "]}]}"));
  CHECK(schema_lines.size() == kMaxReportedErrors + 1);
  CHECK(contains(schema_lines.back(), " more problems (only the first 20 are listed)"));
}

TEST_CASE("json_schema: keywords on their own") {
  using nlohmann::json;
  const json schema = json::parse(R"({
    "type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 2,
    "properties": {
      "n": {"type": "number", "minimum": 0, "maximum": 10, "exclusiveMinimum": 1},
      "s": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"},
      "a": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"$ref": "#/$defs/i"}}
    },
    "$defs": {"i": {"type": "integer"}}
  })");
  CHECK(validate(schema, json::parse(R"({"n": 5, "s": "ab"})")).empty());
  auto errs = validate(schema, json::parse(R"({"n": 1, "s": "A"})"));
  REQUIRE(errs.size() == 3);
  CHECK(errs[0].path == "/n");
  CHECK(errs[0].message == "expected more than 1, found 1");
  CHECK(errs[1].message == "expected at least 2 characters, found string \"A\"");
  CHECK(errs[2].message == "expected a string matching ^[a-z]+$, found string \"A\"");
  CHECK(errs[2].schema_path == "/properties/s/pattern");
  errs = validate(schema, json::parse(R"({"a": [1, 2.5, 3]})"));
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].message == "expected at most 2 items, found 3");
  CHECK(errs[1].path == "/a/1");
  CHECK(errs[1].message == "expected integer, found number 2.5");
  CHECK(errs[1].schema_path == "/$defs/i/type");
  errs = validate(schema, json::parse("{}"));
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].path == "");
  CHECK(errs[0].message == "expected at least 1 field, found 0");
  CHECK_THROWS_AS(validate(json::parse(R"({"typo": 1})"), json(1)), std::invalid_argument);
}

TEST_CASE("schedule and explore_faults: parsed, defaulted, written back") {
  const ScenarioSpec plain = parse_scenario(scenario(), "t.json");
  CHECK_FALSE(plain.schedule);
  CHECK(plain.explore_faults == ExploreFaults{});
  const ScenarioSpec s = parse_scenario(
      scenario(R"("offset": 0)",
               R"("schedule": "v1:0*3.1", "explore_faults": ["user_page_fault", "bio_error"])"),
      "t.json");
  REQUIRE(s.schedule);
  CHECK(*s.schedule == "v1:0*3.1");
  CHECK(s.explore_faults.bio_error);
  CHECK_FALSE(s.explore_faults.get_block_error);
  CHECK(s.explore_faults.user_page_fault);
  const std::string text = to_json(s);
  CHECK(contains(text, R"("schedule": "v1:0*3.1")"));
  CHECK(contains(text, R"("explore_faults": ["bio_error", "user_page_fault"])"));
  const ScenarioSpec back = parse_scenario(text, "t.json");
  CHECK(back.schedule == s.schedule);
  CHECK(back.explore_faults == s.explore_faults);
}

TEST_CASE("schedule and explore_faults: bad shapes name the JSON path") {
  CHECK(contains(error_of(scenario(R"("offset": 0)", R"("schedule": 7)")),
                 "test.json: /schedule: expected string, found integer 7"));
  const std::string unknown =
      error_of(scenario(R"("offset": 0)", R"("explore_faults": ["bio_error", "disk_fire"])"));
  CHECK(contains(unknown, "test.json: /explore_faults/1: expected one of \"bio_error\""));
  CHECK(contains(unknown, "found string \"disk_fire\""));
  const std::string twice = error_of(
      scenario(R"("offset": 0)", R"("explore_faults": ["get_block_error", "get_block_error"])"));
  CHECK(contains(twice, "test.json: /explore_faults/1: fault point \"get_block_error\" is "
                        "already listed at /explore_faults/0"));
  CHECK(contains(error_of(scenario(R"("offset": 0)", R"("explore_faults": "bio_error")")),
                 "test.json: /explore_faults: expected array"));
}

TEST_CASE("expect one_of: sets of allowed values, and a plain value is a set of one") {
  const ScenarioSpec s = parse_scenario(
      scenario(R"("offset": 0, "aio": true, "expect": {"ret": {"one_of": [4096, "-EIO"]},
                  "submit_ret": {"one_of": ["-EIOCBQUEUED", 4096]}, "i_size": {"one_of": [0, 8192]},
                  "data": {"one_of": ["4096:s", "2048:s 2048:zero"]}})",
               R"("expect": {"i_size": {"one_of": [8192, 4096]}})"),
      "t.json");
  const Expect& e = s.tasks.at(0).ops.at(0).expect;
  REQUIRE(e.ret);
  CHECK(e.ret->values == std::vector<int64_t>{4096, -5});
  CHECK(e.ret->allows(-5));
  CHECK_FALSE(e.ret->allows(0));
  CHECK(e.submit_ret->values == std::vector<int64_t>{-529, 4096});
  CHECK(e.i_size->values == std::vector<int64_t>{0, 8192});
  REQUIRE(e.data);
  REQUIRE(e.data->values.size() == 2);
  CHECK(e.data->values[1].expand().at(2048) == 0);
  CHECK(s.expect_i_size->values == std::vector<int64_t>{8192, 4096});
  // The writer keeps the sets, and a set of one becomes the plain form again.
  const ScenarioSpec back = parse_scenario(to_json(s), "t.json");
  const Expect& b = back.tasks.at(0).ops.at(0).expect;
  CHECK(b.ret == e.ret);
  CHECK(b.submit_ret == e.submit_ret);
  CHECK(b.i_size == e.i_size);
  CHECK(b.data == e.data);
  CHECK(back.expect_i_size == s.expect_i_size);
  const ScenarioSpec one =
      parse_scenario(scenario(R"("offset": 0, "expect": {"ret": {"one_of": [4096]}})"), "t.json");
  CHECK(one.tasks.at(0).ops.at(0).expect.ret->values == std::vector<int64_t>{4096});
  CHECK(contains(to_json(one), R"("expect": {"ret": 4096})"));
}

TEST_CASE("expect one_of: bad shapes give the JSON path of the element at fault") {
  CHECK(contains(error_of(scenario(R"("expect": {"ret": {"one_of": []}})")),
                 "test.json: /tasks/0/ops/0/expect/ret/one_of: expected at least 1 item"));
  CHECK(contains(error_of(scenario(R"("expect": {"ret": {"one_of": [1, "-EWHAT"]}})")),
                 "/tasks/0/ops/0/expect/ret/one_of/1: expected one of \"-EPERM\""));
  CHECK(contains(error_of(scenario(R"("expect": {"ret": {"any_of": [1]}})")),
                 "/tasks/0/ops/0/expect/ret"));
  CHECK(contains(error_of(scenario(R"("expect": {"i_size": {"one_of": [-1]}})")),
                 "/tasks/0/ops/0/expect/i_size/one_of/0: "));
  CHECK(contains(error_of(scenario(R"("expect": {"data": {"one_of": ["4096:A", "4095:A"]}})")),
                 "test.json: /tasks/0/ops/0/expect/data/one_of/1: byte runs hold 4095 bytes, "
                 "expected the iovecs' total length 4096"));
  CHECK(contains(error_of(scenario(R"("expect": {"data": {"one_of": ["4096:DD"]}})")),
                 "/tasks/0/ops/0/expect/data/one_of/0: invalid byte runs \"4096:DD\""));
  CHECK(contains(error_of(scenario(R"("offset": 0)", R"("expect": {"i_size": {"one_of": "x"}})")),
                 "test.json: /expect/i_size"));
}

TEST_CASE("ByteRuns::matches agrees with expand() ==") {
  std::string error;
  const auto runs = ByteRuns::parse("3:A 2:B", &error);
  REQUIRE(runs);
  const std::vector<uint8_t> same = runs->expand();
  CHECK(runs->matches(same.data(), same.size()));
  std::vector<uint8_t> other = same;
  other[4] = 'C';
  CHECK_FALSE(runs->matches(other.data(), other.size()));
  CHECK_FALSE(runs->matches(same.data(), same.size() - 1)); // shorter
  const std::vector<uint8_t> longer = {'A', 'A', 'A', 'B', 'B', 'B'};
  CHECK_FALSE(runs->matches(longer.data(), longer.size()));
  CHECK(ByteRuns{}.matches(nullptr, 0));
}

// ---- task control: repeat, barrier, shared AIO contexts (docs/SCENARIOS.md) -----------------

namespace {

// Two tasks over one buffer; `a` and `b` are their ops lists, `extra_b` more fields of task b.
std::string two_tasks(const std::string& a, const std::string& b, const std::string& extra_b = "") {
  return R"({"buffers": [{"name": "buf", "address": 1048576, "size": 8192}],
  "tasks": [{"name": "a", "ops": [)" +
         a + R"(]}, {"name": "b", )" + extra_b + R"("ops": [)" + b + "]}]}";
}

const std::string kRead = R"({"op": "pread", "iov": [{"buffer": "buf", "len": 4096}]})";
const std::string kAioWrite =
    R"({"op": "pwrite", "aio": true, "iov": [{"buffer": "buf", "len": 4096}]})";

} // namespace

TEST_CASE("repeat: the block is expanded in place, each copy names its repetition") {
  const ScenarioSpec s = parse_scenario(
      two_tasks(kRead + R"(, {"op": "repeat", "count": 3, "ops": [)" + kRead +
                    R"(, {"op": "repeat", "count": 2, "ops": [{"op": "reap"}]}]}, )" + kRead,
                kRead),
      "t.json");
  const std::vector<Operation>& ops = s.tasks[0].ops;
  REQUIRE(ops.size() == 1 + 3 * (1 + 2) + 1);
  CHECK(ops[1].kind == OpKind::pread);
  CHECK(ops[1].where == "/tasks/0/ops/1/ops/0 (repeat 1 of 3)");
  CHECK(ops[2].kind == OpKind::reap);
  CHECK(ops[2].where == "/tasks/0/ops/1/ops/1/ops/0 (repeat 1 of 2) (repeat 1 of 3)");
  CHECK(ops[9].where == "/tasks/0/ops/1/ops/1/ops/0 (repeat 2 of 2) (repeat 3 of 3)");
  CHECK(ops[10].where == "/tasks/0/ops/2");
}

TEST_CASE("repeat: problems inside a block are reported once; the size limit holds") {
  const std::string e = error_of(two_tasks(
      R"({"op": "repeat", "count": 50, "ops": [{"op": "pread", "iov": [{"buffer": "nope", "len": 1}]}]})",
      kRead));
  CHECK(contains(e, "/tasks/0/ops/0/ops/0/iov/0/buffer: unknown buffer \"nope\""));
  CHECK(e.find("unknown buffer") == e.rfind("unknown buffer"));
  const std::string big = error_of(two_tasks(
      R"({"op": "repeat", "count": 1000, "ops": [{"op": "repeat", "count": 1000, "ops": [)" +
          kRead + "]}]}",
      kRead));
  CHECK(contains(big, "/tasks/0/ops/0/count: the block of 1000 operations repeated 1000 "
                      "times takes the scenario beyond 100000 operations"));
  CHECK(contains(error_of(two_tasks(R"({"op": "repeat", "count": 2, "ops": [], "x": 1})", kRead)),
                 "/tasks/0/ops/0"));
}

TEST_CASE("barrier: needs a name, two tasks, and equal arrivals") {
  CHECK(contains(error_of(two_tasks(R"({"op": "barrier"})", kRead)),
                 "/tasks/0/ops/0: missing required field \"name\""));
  CHECK(contains(error_of(two_tasks(R"({"op": "barrier", "name": "s"})", kRead)),
                 "/tasks/0/ops/0: barrier \"s\" is named by one task only"));
  const std::string e =
      error_of(two_tasks(R"({"op": "repeat", "count": 3, "ops": [{"op": "barrier", "name": "s"}]})",
                         R"({"op": "barrier", "name": "s"}, {"op": "barrier", "name": "s"})"));
  CHECK(contains(e, "barrier \"s\" is reached 3 times by task \"a\" but 2 times by task \"b\""));
  CHECK(contains(error_of(two_tasks(R"({"op": "barrier", "name": "s", "offset": 0})",
                                    R"({"op": "barrier", "name": "s"})")),
                 "/tasks/0/ops/0: a barrier op does not take \"offset\""));
  CHECK(error_of(two_tasks(R"({"op": "barrier", "name": "s"})",
                           R"({"op": "barrier", "name": "s"})")) == "");
}

TEST_CASE("shared AIO context: reaps of N events must not outnumber the context's AIO") {
  const ScenarioSpec s =
      parse_scenario(two_tasks(kAioWrite + ", " + kAioWrite, R"({"op": "reap", "events": 2})",
                               R"("aio_context": "a", )"),
                     "t.json");
  CHECK(s.tasks[1].aio_context == "a");
  CHECK(s.tasks[1].context_name() == "a");
  CHECK(s.tasks[0].context_name() == "a");
  CHECK(s.tasks[1].ops[0].events == 2);
  const std::string e =
      error_of(two_tasks(kAioWrite, R"({"op": "reap", "events": 1}, {"op": "reap", "events": 1})",
                         R"("aio_context": "a", )"));
  CHECK(contains(e, "/tasks/1/ops/1/events: the reaps of AIO context \"a\" wait for 2 events up "
                    "to here, but its tasks submit only 1 AIO operations"));
  // Without the shared context, task b's own context receives nothing.
  CHECK(contains(error_of(two_tasks(kAioWrite, R"({"op": "reap", "events": 1})")),
                 "AIO context \"b\" wait for 1 events"));
}

TEST_CASE("task control round-trips through the writer") {
  const ScenarioSpec s =
      parse_scenario(two_tasks(kAioWrite + R"(, {"op": "barrier", "name": "s"})",
                               R"({"op": "barrier", "name": "s"}, {"op": "reap", "events": 1})",
                               R"("aio_context": "a", )"),
                     "t.json");
  const std::string text = to_json(s);
  CHECK(contains(text, R"("aio_context": "a")"));
  CHECK(contains(text, R"({"op": "barrier", "name": "s"})"));
  CHECK(contains(text, R"({"op": "reap", "events": 1})"));
  const ScenarioSpec back = parse_scenario(text, "t.json");
  CHECK(back.tasks[1].aio_context == "a");
  CHECK(back.tasks[1].ops[1].events == 1);
  CHECK(back.tasks[0].ops[1].barrier == "s");
}
