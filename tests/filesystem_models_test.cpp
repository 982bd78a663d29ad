// SPDX-License-Identifier: GPL-2.0-only
// The filesystem models' behaviours that shape bios or results (issue 9): ext2's placement
// (indirect block in front of the data it maps, used blocks skipped, the sequential goal),
// ocfs2's unwritten extents (a filled hole reads as zeros until end_io converts it; the
// stale-data quirk only when opted into), unaligned AIO serialisation (inode_dio_wait, -EAGAIN
// under nowait), and the scenario fields' validation and round trip.
#include "model/check/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

using namespace diosim;

namespace {

model::RunResult run_json(const std::string& json, uint64_t seed = 1, bool trace = false) {
  model::RunOptions o;
  o.trace = trace;
  o.seed = seed;
  return model::run_scenario(scenario::parse_scenario(json, "fs-model.json"), o);
}

// (sector, nr_sectors) of every submit_bio, in submission order.
std::vector<std::pair<uint64_t, uint64_t>> submitted_bios(const std::string& trace) {
  static const std::regex re(
      R"re("name":"submit_bio"[^}]*"sector":([0-9]+),"nr_sectors":([0-9]+))re");
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (auto it = std::sregex_iterator(trace.begin(), trace.end(), re); it != std::sregex_iterator();
       ++it)
    out.emplace_back(std::stoull((*it)[1]), std::stoull((*it)[2]));
  return out;
}

// One task writing `len` bytes of 'W' at `offset` (sync), then reading them back.
std::string ext2_write(uint64_t len, const std::string& fs_fields, const std::string& file) {
  const std::string n = std::to_string(len);
  return R"({"filesystem": {)" + fs_fields + R"(}, "file": )" + file +
         R"(, "buffers": [{"name": "w", "address": 16777216, "size": )" + n +
         R"(, "fill": "W"}],
  "tasks": [{"ops": [{"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": )" +
         n + R"(}], "expect": {"ret": )" + n + R"(}}]}],
  "expect": {"file": [{"offset": 0, "data": ")" +
         n + R"(:W"}]}})";
}

std::string ocfs2_fill_then_read(bool unwritten) {
  return std::string(R"({"filesystem": {"model": "ocfs2", "unwritten": )") +
         (unwritten ? "true" : "false") + R"(},
  "file": {"i_size": 8192},
  "buffers": [{"name": "w", "address": 1048576, "size": 8192, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 8192, "fill": "u"}],
  "tasks": [{"ops": [
    {"op": "pwrite", "offset": 0, "aio": true, "iov": [{"buffer": "w", "len": 8192}]},
    {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 8192}]},
    {"op": "reap"}]}]})";
}

std::string bad_message(const std::string& json) {
  try {
    scenario::parse_scenario(json, "bad-fs.json");
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("ext2: a 1 MiB write at 0 puts the indirect block between data blocks 11 and 12") {
  // 4 KiB blocks: file blocks 0..11 are direct; block 12 needs the indirect block, which
  // ext2_alloc_blocks takes in front of the data (ext2_find_goal: the sequential hint, 112).
  const model::RunResult r =
      run_json(ext2_write(1 << 20, R"("first_free_block": 100)", R"({"i_size": 0})"), 1, true);
  REQUIRE(r.exit_code() == 0);
  const auto bios = submitted_bios(r.trace_json);
  REQUIRE(bios.size() == 2);
  // Blocks 0..11 at disk 100..111, ended by BH_Boundary; block 12 onward at disk 113.
  CHECK(bios[0] == std::make_pair<uint64_t, uint64_t>(100 * 8, 12 * 8));
  CHECK(bios[1] == std::make_pair<uint64_t, uint64_t>(113 * 8, 244 * 8));
}

TEST_CASE("ext2: an allocation stops at a used block and goes on after it") {
  const model::RunResult r = run_json(
      ext2_write(32768,
                 R"("first_free_block": 100, "used_blocks": [{"disk_block": 104, "blocks": 2}])",
                 R"({"i_size": 0})"),
      1, true);
  REQUIRE(r.exit_code() == 0);
  const auto bios = submitted_bios(r.trace_json);
  REQUIRE(bios.size() == 2); // discontiguous: two bios
  CHECK(bios[0] == std::make_pair<uint64_t, uint64_t>(100 * 8, 4 * 8));
  CHECK(bios[1] == std::make_pair<uint64_t, uint64_t>(106 * 8, 4 * 8));
}

TEST_CASE("ext2: the indirect block takes disk space: 13 data blocks need 14") {
  // 13 blocks of data at file blocks 0..12: the 13th needs the indirect block as well.
  const auto run = [](uint64_t disk_blocks, const std::string& ret) {
    return run_json(R"({"geometry": {"disk_blocks": )" + std::to_string(disk_blocks) +
                    R"(}, "filesystem": {"first_free_block": 100},
  "buffers": [{"name": "w", "address": 1048576, "size": 53248, "fill": "W"}],
  "tasks": [{"ops": [{"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 53248}],
                      "expect": {"ret": )" +
                    ret + "}}]}]}");
  };
  const model::RunResult tight = run(113, "\"-ENOSPC\"");
  CHECK(tight.failed_expectations.empty());
  CHECK(tight.exit_code() == 0);
  const model::RunResult roomy = run(114, "53248");
  CHECK(roomy.failed_expectations.empty());
  CHECK(roomy.exit_code() == 0);
}

TEST_CASE("ocfs2: a hole being filled reads as zeros until end_io converts it") {
  // The read runs while the AIO write's bios are in flight: with unwritten extents its
  // get_block sees a hole; without them it maps the new block and reads stale disk bytes.
  const model::RunResult on = run_json(ocfs2_fill_then_read(true));
  CHECK(!on.violation);
  REQUIRE(on.outcomes.size() == 3);
  CHECK(on.outcomes[1].ret == 8192);
  CHECK(on.outcomes[1].data == std::vector<uint8_t>(8192, 0));
  CHECK(on.outcomes[0].ret == 8192);
  CHECK(on.final_file.dense() == std::vector<uint8_t>(8192, 'W')); // converted after the write
  const model::RunResult off = run_json(ocfs2_fill_then_read(false));
  REQUIRE(off.violation);
  CHECK(off.violation->invariant == "stale-data");
}

TEST_CASE("ocfs2: a failed hole fill leaves unwritten extents that read as zeros") {
  const std::string json = R"({"filesystem": {"model": "ocfs2"},
  "disk": {"errors": [{"bio": 1}]},
  "file": {"i_size": 8192},
  "buffers": [{"name": "w", "address": 1048576, "size": 8192, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 8192, "fill": "u"}],
  "tasks": [{"ops": [
    {"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 8192}], "expect": {"ret": "-EIO"}},
    {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 8192}],
     "expect": {"ret": 8192, "data": "8192:zero"}}]}],
  "expect": {"file": [{"offset": 0, "data": "8192:zero"}]}})";
  const model::RunResult r = run_json(json);
  CHECK(!r.violation);
  CHECK(r.failed_expectations.empty());
}

TEST_CASE("serialise_unaligned_aio: generic/538 on the ocfs2 model passes only with it") {
  const auto g538 = [](bool serialise) {
    std::string s = R"({"filesystem": {"model": "ocfs2", "serialise_unaligned_aio": )";
    s += serialise ? "true" : "false";
    s += R"(}, "geometry": {"fs_block_size": 4096, "logical_block_size": 512},
  "file": {"i_size": 8704},
  "buffers": [{"name": "wbuf", "address": 1048576, "size": 8192, "fill": "Z"},
              {"name": "r1", "address": 2097152, "size": 8192, "fill": "u"},
              {"name": "r2", "address": 3145728, "size": 8192, "fill": "u"}],
  "tasks": [{"name": "t", "ops": [
    {"op": "pwrite", "offset": 512, "aio": true, "iov": [{"buffer": "wbuf", "len": 8192}]},
    {"op": "pwrite", "offset": 0, "aio": true, "iov": [{"buffer": "wbuf", "len": 8192}]},
    {"op": "reap"},
    {"op": "pread", "offset": 512, "iov": [{"buffer": "r1", "len": 8192}], "expect": {"data": "8192:Z"}},
    {"op": "pread", "offset": 0, "iov": [{"buffer": "r2", "len": 8192}], "expect": {"data": "8192:Z"}}
  ]}], "expect": {"file": [{"offset": 0, "data": "8704:Z"}]}})";
    return s;
  };
  int failed_without = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    const model::RunResult with = run_json(g538(true), seed);
    CHECK(with.exit_code() == 0);
    // The unaligned write ran synchronously (IOMAP_DIO_FORCE_WAIT); the aligned one was queued.
    CHECK(with.outcomes[0].submit_ret == 8192);
    CHECK(with.outcomes[1].submit_ret == -529);
    failed_without += run_json(g538(false), seed).exit_code() != 0;
  }
  CHECK(failed_without > 0); // the corruption the serialisation prevents
}

TEST_CASE("serialise_unaligned_aio: an unaligned nowait AIO write fails with -EAGAIN") {
  const std::string json = R"({"filesystem": {"model": "extent", "serialise_unaligned_aio": true},
  "file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 10, "blocks": 2}]},
  "buffers": [{"name": "w", "address": 1048576, "size": 8192, "fill": "W"}],
  "tasks": [{"ops": [
    {"op": "pwrite", "offset": 512, "aio": true, "nowait": true,
     "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": "-EAGAIN"}},
    {"op": "pwrite", "offset": 0, "aio": true, "nowait": true,
     "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}}]}]})";
  const model::RunResult r = run_json(json);
  CHECK(r.failed_expectations.empty());
  CHECK(r.exit_code() == 0);
}

TEST_CASE("vfat: a direct write past mmu_private is done buffered; one inside goes direct") {
  const model::RunResult r = run_json(R"({"filesystem": {"model": "vfat", "cluster_size": 8192},
  "file": {"i_size": 8192, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 2,
                                        "data": "8192:D"}]},
  "buffers": [{"name": "w", "address": 1048576, "size": 8192, "fill": "W"},
              {"name": "r", "address": 2097152, "size": 16384, "fill": "u"}],
  "tasks": [{"ops": [
    {"op": "pwrite", "offset": 8192, "iov": [{"buffer": "w", "len": 8192}],
     "expect": {"ret": 8192, "i_size": 16384}},
    {"op": "pwrite", "offset": 0, "iov": [{"buffer": "w", "len": 4096}], "expect": {"ret": 4096}},
    {"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 16384}],
     "expect": {"ret": 16384, "data": "4096:W 4096:D 8192:W"}}]}],
  "expect": {"i_size": 16384, "file": [{"offset": 0, "data": "4096:W 4096:D 8192:W"}]}})");
  CHECK(r.failed_expectations.empty());
  CHECK(r.exit_code() == 0);
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[0].dio_returns.empty()); // fat_direct_IO returned 0 before direct-io ran
  CHECK(r.outcomes[1].dio_returns == std::vector<int64_t>{4096});
  CHECK(r.outcomes[2].dio_returns == std::vector<int64_t>{16384});
}

TEST_CASE("vfat: get_block maps at most to a cluster's end, without BH_Boundary") {
  const model::RunResult r = run_json(R"({"filesystem": {"model": "vfat", "cluster_size": 8192},
  "file": {"i_size": 32768, "extents": [{"file_block": 0, "disk_block": 100, "blocks": 8}]},
  "buffers": [{"name": "r", "address": 2097152, "size": 32768, "fill": "u"}],
  "tasks": [{"ops": [{"op": "pread", "offset": 0, "iov": [{"buffer": "r", "len": 32768}],
                      "expect": {"ret": 32768, "data": "32768:s"}}]}]})",
                                      1, true);
  REQUIRE(r.exit_code() == 0);
  static const std::regex re(
      R"re("name":"get_block_result"[^}]*"blocks":([0-9]+),"new":0,"boundary":([0-9]))re");
  std::vector<std::string> runs;
  for (auto it = std::sregex_iterator(r.trace_json.begin(), r.trace_json.end(), re);
       it != std::sregex_iterator(); ++it)
    runs.push_back((*it)[1].str() + "/" + (*it)[2].str());
  CHECK(runs == std::vector<std::string>{"2/0", "2/0", "2/0", "2/0"});
  const auto bios = submitted_bios(r.trace_json);
  REQUIRE(bios.size() == 1); // the clusters are contiguous: one bio
  CHECK(bios[0] == std::make_pair<uint64_t, uint64_t>(800, 64));
}

TEST_CASE("filesystem fields: validated with file, path and problem; written back") {
  const std::string base = R"({"tasks": [{"ops": [{"op": "reap"}]}], )";
  CHECK(bad_message(base + R"("filesystem": {"unwritten": false}})")
            .find("bad-fs.json: /filesystem/unwritten: unwritten applies to the ocfs2 model") !=
        std::string::npos);
  CHECK(bad_message(base + R"("filesystem": {"serialise_unaligned_aio": true}})")
            .find("/filesystem/serialise_unaligned_aio: the ext2 model does not serialise") !=
        std::string::npos);
  CHECK(bad_message(base + R"("geometry": {"disk_blocks": 10},
        "filesystem": {"used_blocks": [{"disk_block": 8, "blocks": 4}]}})")
            .find("/filesystem/used_blocks/0: disk blocks 8") != std::string::npos);
  CHECK(
      bad_message(base + R"("file": {"extents": [{"file_block": 0, "disk_block": 5, "blocks": 2}]},
        "filesystem": {"used_blocks": [{"disk_block": 6, "blocks": 1}]}})")
          .find("overlap /file/extents/0") != std::string::npos);
  CHECK(bad_message(base + R"("file": {"i_size": 12288, "extents": [
          {"file_block": 0, "disk_block": 5, "blocks": 1},
          {"file_block": 2, "disk_block": 9, "blocks": 1}]},
        "filesystem": {"model": "vfat"}})")
            .find("/file/extents/1: vfat files have no holes") != std::string::npos);
  CHECK(bad_message(base + R"("filesystem": {"model": "vfat", "cluster_size": 6144}})")
            .find("/filesystem/cluster_size: cluster_size 6144 must be a power of two") !=
        std::string::npos);
  CHECK(bad_message(base + R"("filesystem": {"cluster_size": 8192}})")
            .find("/filesystem/cluster_size: cluster_size applies to the vfat model only") !=
        std::string::npos);
  const scenario::ScenarioSpec vfat = scenario::parse_scenario(
      base + R"("filesystem": {"model": "vfat", "cluster_size": 16384}})", "vf.json");
  const scenario::ScenarioSpec vfat_back =
      scenario::parse_scenario(scenario::to_json(vfat), "vf2.json");
  CHECK(vfat_back.fs.model == scenario::FsModel::vfat);
  CHECK(vfat_back.fs.cluster_size == 16384);
  const scenario::ScenarioSpec spec = scenario::parse_scenario(
      base +
          R"("filesystem": {"model": "ocfs2", "unwritten": false, "serialise_unaligned_aio": true,
                               "used_blocks": [{"disk_block": 7, "blocks": 3}]}})",
      "rt.json");
  const scenario::ScenarioSpec back = scenario::parse_scenario(scenario::to_json(spec), "rt2.json");
  CHECK(back.fs.used_blocks == spec.fs.used_blocks);
  CHECK(back.fs.used_blocks.size() == 1);
  CHECK(!back.fs.unwritten);
  CHECK(back.fs.serialise_unaligned_aio);
}
