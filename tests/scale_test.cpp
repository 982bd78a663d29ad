// SPDX-License-Identifier: GPL-2.0-only
// Cost follows the I/O (issue 8): memory and work depend on the bytes an execution touches and
// on the number of tasks, never on the offsets used or the disk's size. Deterministic counters
// only (bytes of disk chunk memory, mapped blocks, step counts); no timing: the speed figures
// are printed by bench/scale_bench.cpp.
#include "model/check/runner.hpp"
#include "model/check/session.hpp"
#include "model/reference/reference.hpp"
#include "sim/engine/chooser.hpp"
#include "sim/kernel/race_detector.hpp"
#include "sim/world/world.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace diosim;

namespace {

constexpr uint64_t kTiB = uint64_t{1} << 40;

scenario::Operation pwrite_op(uint64_t offset, const std::string& buffer, uint64_t len) {
  scenario::Operation op;
  op.kind = scenario::OpKind::pwrite;
  op.offset = offset;
  op.iov.push_back({buffer, 0, len});
  return op;
}

// `tasks` tasks, each one aligned 4 KiB pwrite of its own buffer at `offset + i * 4096`;
// `mapped`: over blocks the file already has, below i_size (else into a hole past i_size).
scenario::ScenarioSpec writers(size_t tasks, uint64_t offset, bool mapped = false) {
  scenario::ScenarioSpec spec;
  spec.name = "scale";
  spec.geometry.disk_blocks = 4096;
  if (mapped) {
    spec.i_size = static_cast<int64_t>(offset + tasks * 4096);
    spec.extents.push_back({offset / 4096, 0, tasks, std::nullopt});
  }
  for (size_t i = 0; i < tasks; ++i) {
    const std::string name = "b" + std::to_string(i);
    spec.buffers.push_back({name, (uint64_t{1} << 20) + i * 8192, 4096, 'W', {}});
    scenario::Task t;
    t.name = "t" + std::to_string(i);
    t.ops.push_back(pwrite_op(offset + i * 4096, name, 4096));
    spec.tasks.push_back(std::move(t));
  }
  return spec;
}

struct Seen {
  uint64_t disk_chunk_bytes = 0, disk_chunks = 0, mapped_blocks = 0;
  std::vector<int64_t> rets;
};

model::ExecSummary run_once(model::Session& session, Seen& seen, uint64_t seed = 1) {
  engine::RandomChooser chooser(seed);
  return session.execute(chooser, {},
                         [&](const engine::Scheduler&, const kern::Kernel&, const world::World& w,
                             const model::ExecSummary&) {
                           seen.disk_chunk_bytes = w.disk().image().chunk_bytes();
                           seen.disk_chunks = w.disk().image().chunks();
                           seen.mapped_blocks = w.fs().block_map().size();
                           for (const world::OpOutcome& o : w.outcomes())
                             seen.rets.push_back(o.ret);
                         });
}

} // namespace

TEST_CASE("disk image: a 4 KiB write at 1 TiB holds one chunk; a fill holds none") {
  world::DiskImage img('s');
  std::vector<uint8_t> data(4096);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7);
  img.write(kTiB, data.data(), data.size());
  CHECK(img.chunks() == 1);
  CHECK(img.chunk_bytes() == 4096);
  std::vector<uint8_t> back(4096);
  img.read(kTiB, back.data(), back.size());
  CHECK(back == data);
  CHECK(img.sector_written(kTiB / 512));
  CHECK(img.sector_written(kTiB / 512 + 7));
  CHECK_FALSE(img.sector_written(kTiB / 512 - 1));
  CHECK_FALSE(img.sector_written(0));
  img.read(2 * kTiB, back.data(), 100); // never written: the stale byte
  CHECK(back[0] == 's');
  CHECK(back[99] == 's');

  const std::vector<uint8_t> fill(64 * 4096, 'W'); // 256 KiB of one value
  img.write(3 * kTiB, fill.data(), fill.size());
  CHECK(img.chunks() == 1 + 64);
  CHECK(img.chunk_bytes() == 4096); // uniform chunks are kept as their value
  CHECK(img.uniform(3 * kTiB, fill.size()) == std::optional<uint8_t>('W'));
  CHECK(img.uniform(5 * kTiB, 100) == std::optional<uint8_t>('s')); // never written: stale
  CHECK_FALSE(img.uniform(kTiB, 4096).has_value());                 // real bytes
  CHECK_FALSE(img.uniform(3 * kTiB - 1, 2).has_value());            // stale then 'W'
  img.read(3 * kTiB + 4095, back.data(), 2);
  CHECK(back[0] == 'W');
  CHECK(back[1] == 'W');

  // A copy shares the chunks; writing it leaves the original as it was.
  world::DiskImage copy = img;
  const uint8_t x = 'X';
  copy.write(kTiB + 10, &x, 1);
  img.read(kTiB + 10, back.data(), 1);
  CHECK(back[0] == data[10]);
  copy.read(kTiB + 10, back.data(), 1);
  CHECK(back[0] == 'X');
  copy.write(3 * kTiB + 5, &x, 1); // a byte into a uniform chunk gives it bytes of its own
  copy.read(3 * kTiB + 4, back.data(), 3);
  CHECK(back[0] == 'W');
  CHECK(back[1] == 'X');
  CHECK(back[2] == 'W');
  img.read(3 * kTiB + 5, back.data(), 1);
  CHECK(back[0] == 'W');
}

TEST_CASE("a 4 KiB pwrite at offset 1 TiB, judged by the reference model, costs one block") {
  const scenario::ScenarioSpec spec = writers(1, kTiB);
  const uint64_t expanded_before = model::reference_counters().expanded_bytes;
  const model::ExpectedRun expected = model::reference_outcome(spec);
  // The expected file covers [0, 1 TiB + 4 KiB) as one run of 'W' after a hole.
  CHECK(model::reference_counters().expanded_bytes - expanded_before == 0);
  CHECK(expected.file.size == kTiB + 4096);
  REQUIRE(expected.file.value.pieces.size() == 1);
  CHECK(expected.file.value.pieces[0].offset == kTiB);
  CHECK(expected.file.value.byte_memory() == 0);

  model::Session session(spec, /*check_model=*/true);
  Seen seen;
  uint64_t final_pieces = 0, final_bytes = 0;
  engine::RandomChooser chooser(1);
  const model::ExecSummary s =
      session.execute(chooser, {},
                      [&](const engine::Scheduler&, const kern::Kernel&, const world::World& w,
                          const model::ExecSummary&) {
                        seen.disk_chunk_bytes = w.disk().image().chunk_bytes();
                        seen.disk_chunks = w.disk().image().chunks();
                        seen.mapped_blocks = w.fs().block_map().size();
                        const model::FileImage f = model::final_file_image(
                            w, model::final_file_end(spec, w.inode().i_size));
                        final_pieces = f.pieces.size();
                        final_bytes = f.byte_memory();
                        CHECK(f == expected.file.value);
                      });
  CHECK_FALSE(s.internal_error.has_value());
  CHECK_FALSE(s.violation.has_value()); // the reference check ran and agreed
  CHECK(s.failed_expectations.empty());
  CHECK(seen.mapped_blocks == 1);
  CHECK(seen.disk_chunks == 1);
  CHECK(seen.disk_chunk_bytes == 0); // the user buffer's fill is one value
  CHECK(final_pieces == 1);
  CHECK(final_bytes == 0);

  // The sparse compare still sees one wrong byte a terabyte in.
  model::ExpectedRun wrong = expected;
  wrong.file.value.put(kTiB + 100, {'Z'});
  model::RunOptions opt;
  opt.check_model = false;
  const model::RunResult r = model::run_scenario(spec, opt);
  std::vector<model::ActualOp> act;
  for (const world::OpOutcome& o : r.outcomes)
    act.push_back({o.ret, o.submit_ret, o.data, o.i_size_after});
  CHECK(model::compare_with_reference(spec, expected, act, r.final_file, r.final_i_size).empty());
  const std::vector<std::string> m =
      model::compare_with_reference(spec, wrong, act, r.final_file, r.final_i_size);
  REQUIRE(m.size() == 1);
  CHECK(m[0].find("file differs first at offset " + std::to_string(kTiB + 100) +
                  ": expected 1:Z, actual 1:W (expected from there: 1:Z 63:W") !=
        std::string::npos);
}

TEST_CASE("a 4 KiB read of a file whose i_size is 1 GiB, with the reference check, costs a block") {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  scenario::ScenarioSpec spec;
  spec.name = "read-1gib";
  spec.i_size = static_cast<int64_t>(kGiB);
  scenario::Extent e;
  e.file_block = kGiB / 4096 - 1;
  e.disk_block = 10;
  e.blocks = 1;
  e.data = scenario::ByteRuns{{{2048, 'A'}, {2048, 'B'}}};
  spec.extents.push_back(e);
  spec.buffers.push_back({"buf", uint64_t{1} << 20, 4096, 'u', {}});
  scenario::Task t;
  t.name = "reader";
  scenario::Operation op = pwrite_op(kGiB - 4096, "buf", 4096);
  op.kind = scenario::OpKind::pread;
  t.ops.push_back(op);
  spec.tasks.push_back(t);
  const uint64_t expanded_before = model::reference_counters().expanded_bytes;
  model::Session session(spec, /*check_model=*/true);
  // The model expands the one block with two runs (its content, the read's bytes, the expected
  // images): a few blocks' worth, never the 1 GiB file.
  CHECK(model::reference_counters().expanded_bytes - expanded_before <= 8 * 4096);
  Seen seen;
  const model::ExecSummary s = run_once(session, seen);
  CHECK_FALSE(s.internal_error.has_value());
  CHECK_FALSE(s.violation.has_value());
  CHECK(s.failed_expectations.empty());
  REQUIRE(seen.rets.size() == 1);
  CHECK(seen.rets[0] == 4096);
}

// One filled 16 MiB O_DIRECT write from a buffer of 'W', then a read of it back into the buffer.
constexpr uint64_t kBigFillBytes = uint64_t{16} << 20;
scenario::ScenarioSpec big_fill_spec() {
  scenario::ScenarioSpec spec;
  spec.name = "big-fill";
  spec.geometry.disk_blocks = kBigFillBytes / 4096 + 64; // room for ext2's indirect blocks
  spec.buffers.push_back({"buf", uint64_t{1} << 32, kBigFillBytes, 'W', {}});
  scenario::Task t;
  t.name = "io";
  scenario::Operation w = pwrite_op(0, "buf", kBigFillBytes);
  scenario::Operation r = w;
  r.kind = scenario::OpKind::pread;
  t.ops = {w, r};
  spec.tasks.push_back(t);
  return spec;
}

TEST_CASE("a filled 16 MiB write and read back stay runs in the reference model") {
  constexpr uint64_t kBytes = kBigFillBytes;
  const scenario::ScenarioSpec spec = big_fill_spec();
  const uint64_t expanded_before = model::reference_counters().expanded_bytes;
  const model::ExpectedRun expected = model::reference_outcome(spec);
  CHECK(model::reference_counters().expanded_bytes - expanded_before == 0);
  REQUIRE(expected.ops.size() == 2);
  REQUIRE(expected.ops[1].data.has_value());
  CHECK(expected.ops[1].data->size == kBytes);
  CHECK(expected.ops[1].data->pieces.size() == 1); // 16 MiB of 'W': one run
  CHECK(expected.ops[1].data->byte_memory() == 0);
  CHECK(expected.file.value.pieces.size() == 1);
  CHECK(expected.file.value.byte_memory() == 0);
}

TEST_CASE("a filled 16 MiB write and read back: the ops' snapshots stay runs in the world") {
  constexpr uint64_t kBytes = kBigFillBytes;
  const scenario::ScenarioSpec spec = big_fill_spec();
  for (bool check : {false, true}) {
    CAPTURE(check);
    model::Session session(spec, check);
    engine::RandomChooser chooser(1);
    uint64_t snapshot_bytes = 0, snapshot_pieces = 0, user_bytes = 0, disk_bytes = 0;
    std::vector<int64_t> rets;
    const model::ExecSummary s =
        session.execute(chooser, {},
                        [&](const engine::Scheduler&, const kern::Kernel&, const world::World& wd,
                            const model::ExecSummary&) {
                          for (const world::OpOutcome& o : wd.outcomes()) {
                            rets.push_back(o.ret);
                            CHECK(o.data.size() == kBytes);
                            CHECK(o.data == std::vector<uint8_t>(kBytes, 'W'));
                            snapshot_bytes += o.data.stored_bytes();
                            snapshot_pieces += o.data.pieces().size();
                          }
                          user_bytes = wd.memory().page_bytes_allocated();
                          disk_bytes = wd.disk().image().chunk_bytes();
                        });
    CHECK_FALSE(s.internal_error.has_value());
    CHECK_FALSE(s.violation.has_value()); // with the check: the judge compared the pieces
    CHECK(s.failed_expectations.empty());
    CHECK(rets == std::vector<int64_t>{int64_t{kBytes}, int64_t{kBytes}});
    // Each op's bytes are one run of 'W': no dense copy of the iovecs.
    CHECK(snapshot_pieces == 2);
    CHECK(snapshot_bytes == 0);
    CHECK(disk_bytes == 0); // the disk keeps whole chunks of one value as that value
    // What the run materialised: at most the read's user pages (the write only reads its pages,
    // which stay shared with the session's image) — 1 byte per byte of the read, never 3.
    CHECK(user_bytes <= kBytes);
    CHECK(snapshot_bytes + user_bytes + disk_bytes <= kBytes);
  }
}

TEST_CASE("an extent at file block 2^28 below a 1 TiB i_size: a 4 KiB read touches one block") {
  scenario::ScenarioSpec spec;
  spec.name = "far-extent";
  spec.i_size = static_cast<int64_t>(kTiB + 4096);
  scenario::Extent e;
  e.file_block = kTiB / 4096;
  e.disk_block = 10;
  e.blocks = 1;
  e.data = scenario::ByteRuns{{{2048, 'A'}, {2048, 'B'}}};
  spec.extents.push_back(e);
  spec.buffers.push_back({"buf", uint64_t{1} << 20, 4096, 'u', {}});
  scenario::Task t;
  t.name = "reader";
  scenario::Operation op = pwrite_op(kTiB, "buf", 4096);
  op.kind = scenario::OpKind::pread;
  t.ops.push_back(op);
  spec.tasks.push_back(t);
  model::Session session(spec, /*check_model=*/false);
  Seen seen;
  const model::ExecSummary s = run_once(session, seen);
  CHECK_FALSE(s.internal_error.has_value());
  CHECK_FALSE(s.violation.has_value()); // the stale-data walk visits mapped blocks only
  REQUIRE(seen.rets.size() == 1);
  CHECK(seen.rets[0] == 4096);
  CHECK(seen.mapped_blocks == 1);
  CHECK(seen.disk_chunks == 1);
  CHECK(seen.disk_chunk_bytes == 4096); // two runs in one chunk: real bytes
}

TEST_CASE("a thousand tasks, one aligned 4 KiB write each, complete with the reference check") {
  // 32 contexts used to be the race detector's limit (an internal error); the reference model
  // (initial user memory, state copies) and the lock wake-up path were quadratic in the tasks.
  model::Session session(writers(1000, 0, /*mapped=*/true), /*check_model=*/true);
  Seen seen;
  const model::ExecSummary s = run_once(session, seen);
  CHECK_FALSE(s.internal_error.has_value());
  CHECK_FALSE(s.violation.has_value());
  CHECK(s.failed_expectations.empty());
  REQUIRE(seen.rets.size() == 1000);
  for (int64_t r : seen.rets)
    CHECK(r == 4096);
  CHECK(seen.mapped_blocks == 1000);
}

// Blocks the reference model visits to taint ranges (R-UNMODELLED) for `tasks` concurrent
// extending writers into a hole past i_size: the concurrency rules give up on each (i_size),
// and each taints from i_size to the end of the file.
static uint64_t taint_visits_for(size_t tasks) {
  const uint64_t before = model::reference_counters().block_visits;
  const model::ExpectedRun e = model::reference_outcome(writers(tasks, 0));
  CHECK_FALSE(e.exact); // the writers race on i_size: the model gave up on them
  return model::reference_counters().block_visits - before;
}

TEST_CASE("extending writers: the reference model's taint work grows linearly with the tasks") {
  const uint64_t v100 = taint_visits_for(100), v200 = taint_visits_for(200);
  INFO("block visits: 100 tasks " << v100 << ", 200 tasks " << v200);
  CHECK(v100 > 0);
  // Linear: twice the tasks, at most about twice the visits (quadratic would be four times).
  CHECK(v200 <= 2 * v100 + 16);
}

TEST_CASE("the race detector takes a thousand contexts; shadow state follows who touched it") {
  kern::RaceDetector d;
  static int field = 0;
  const kern::FieldDesc desc{"dio", 1, "refcount"};
  for (uint32_t ctx = 1; ctx <= 1000; ++ctx) {
    d.on_acquire(ctx, 1);
    CHECK_FALSE(d.on_access(ctx, &field, desc, kern::AccessKind::read_modify_write, 1, 1));
    d.on_release(ctx, 1);
  }
  // Context 1001, without the lock, races with the last holder.
  const auto r = d.on_access(1001, &field, desc, kern::AccessKind::read, 2, 0);
  REQUIRE(r.has_value());
  CHECK(r->earlier.context_id == 1);
  CHECK(d.shadowed_fields() == 1);
}
