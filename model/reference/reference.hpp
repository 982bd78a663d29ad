// SPDX-License-Identifier: GPL-2.0-only
// The reference model: a block-level statement of what each operation of a scenario must
// produce, computed from the scenario alone — no pages, no bios, no scheduler, and no code
// shared with the port (tests/reference_isolation_test.cpp enforces that nothing here includes
// sim/dio/ or sim/kernel/). Each rule cites the fs/direct-io.c lines it comes from and is
// stated in prose in docs/SEMANTICS.md.
#pragma once

#include "sim/scenario/byte_image.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace diosim::model {

// A file's bytes from offset 0 to `size`, sparse: sorted, disjoint pieces, each either `len`
// bytes of one value (`bytes` null) or `len` bytes at `bytes`; a byte no piece covers reads as
// zero (a hole). Pieces may share memory they do not own (`keep` holds it alive: a disk chunk,
// a vector), so a file read through the disk's chunks costs pieces, not bytes. Both the reference
// model's expected file and a run's final file take this form; memory and compare time follow
// the pieces and the bytes that are not runs, never the offsets.
struct FileImage {
  struct Piece {
    uint64_t offset = 0, len = 0;
    const uint8_t* bytes = nullptr; // null: every byte is `fill`
    uint8_t fill = 0;
    std::shared_ptr<const void> keep; // owns `bytes` (when it is not null)
  };
  uint64_t size = 0;
  std::vector<Piece> pieces;

  // Appends [offset, offset + len) (at or after the last piece's end); a run of one value joins
  // the previous piece when it is the same value and adjacent; zero runs are left as holes.
  void add_fill(uint64_t offset, uint64_t len, uint8_t value);
  void add_bytes(uint64_t offset, uint64_t len, const uint8_t* bytes,
                 std::shared_ptr<const void> keep);
  void add_copy(uint64_t offset, const std::vector<uint8_t>& bytes); // owns a copy
  // Replaces [offset, offset + bytes.size()) (inside [0, size)) with a copy of `bytes`.
  void put(uint64_t offset, const std::vector<uint8_t>& bytes);
  std::vector<uint8_t> read(uint64_t offset, uint64_t len) const; // holes and past size: zero
  std::vector<uint8_t> dense() const { return read(0, size); }    // for small files (tests)
  static FileImage of(const std::vector<uint8_t>& bytes);         // one piece, a copy
  // Bytes of piece memory this image owns or shares (one-value pieces hold none).
  uint64_t byte_memory() const;
  // Same size and the same bytes (pieces may be cut differently).
  bool operator==(const FileImage& o) const;
};

// The first offset in [from, n) where a and b differ, or npos; O(pieces + bytes of non-run
// pieces in the range).
uint64_t first_difference(const FileImage& a, const FileImage& b, uint64_t from, uint64_t n);

// What one operation must produce. Sets are used where the kernel legitimately allows more
// than one outcome (timing, several failing bios, concurrent tasks).
struct ExpectedOp {
  std::vector<int64_t> allowed_ret;        // the syscall result / AIO event result
  std::vector<int64_t> allowed_submit_ret; // AIO only (empty: not checked)
  // The op's iovec bytes afterwards (reads: what the user must see; bytes the op may or may
  // not have written are listed in data_free), sparse: a filled buffer is one run. Empty
  // optional: not checked.
  std::optional<FileImage> data;
  std::vector<std::pair<uint64_t, uint64_t>> data_free; // [begin, end) ranges not checked
  // Bytes of `data` that may hold one of several values: (index, allowed values, sorted).
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> data_alternatives;
  std::vector<int64_t> allowed_i_size_after; // empty: not checked
  std::vector<std::string> rules;            // SEMANTICS.md rule ids that decided this op
};

// The file at the end: for each byte, the values it may hold.
struct ExpectedFile {
  uint64_t size = 0; // bytes covered (from offset 0); value.size == size
  FileImage value;   // the one value, when `alternatives` has none
  // Bytes that may hold one of several values (overlapping writers, failed writes):
  // (offset, allowed values), sorted by offset.
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> alternatives;
  // [begin, end) ranges the model cannot state (not exact); not checked. Sorted, disjoint.
  std::vector<std::pair<uint64_t, uint64_t>> free;
};

struct ExpectedRun {
  std::vector<ExpectedOp> ops; // one per operation, tasks in order, ops in order
  ExpectedFile file;
  std::vector<int64_t> allowed_final_i_size;
  bool exact = true; // false: the scenario uses something the model does not cover; see why
  std::string why_not_exact;
};

// What a run actually produced, in the same order as ExpectedRun::ops.
struct ActualOp {
  int64_t ret = 0;
  std::optional<int64_t> submit_ret;
  // The op's bytes as pieces; a copy shares the outcome's stored bytes, and runs of one value
  // stay runs, so the judge neither copies nor expands a 1 GiB read's bytes to compare them.
  scenario::ByteImage data;
  int64_t i_size_after = 0;
};

ExpectedRun reference_outcome(const scenario::ScenarioSpec& spec);

// Several files (reference_files.cpp, rule R-FILES): one statement per file, from the file's
// view of the scenario (scenario_files.hpp); op_of[v] is the scenario's op index (tasks in
// order) of the view's op v. A single-file scenario gives one entry: its own reference_outcome.
struct FileReference {
  scenario::ScenarioSpec view;
  std::vector<size_t> op_of;
  ExpectedRun expected;
};
std::vector<FileReference> reference_outcomes(const scenario::ScenarioSpec& spec);

// Work counters of the reference model on this thread, since the thread started (deterministic;
// tests bound them to show that cost follows the bytes moved and the tasks, never the offsets):
struct ReferenceCounters {
  uint64_t expanded_bytes = 0; // bytes stored one per value (runs of one value cost none)
  uint64_t block_visits = 0;   // blocks and pages visited to taint ranges (R-UNMODELLED)
};
const ReferenceCounters& reference_counters();

// One message per disagreement: the operation, the rule, expected vs actual, and for data the
// first differing byte offset. `file` holds the file's bytes [0, expected.file.size) or more.
std::vector<std::string> compare_with_reference(const scenario::ScenarioSpec& spec,
                                                const ExpectedRun& expected,
                                                const std::vector<ActualOp>& actual,
                                                const FileImage& file, int64_t final_i_size);

} // namespace diosim::model
