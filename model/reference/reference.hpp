// SPDX-License-Identifier: GPL-2.0-only
// The reference model: a block-level statement of what each operation of a scenario must
// produce, computed from the scenario alone — no pages, no bios, no scheduler, and no code
// shared with the port (tests/reference_isolation_test.cpp enforces that nothing here includes
// sim/dio/ or sim/kernel/). Each rule cites the fs/direct-io.c lines it comes from and is
// stated in prose in docs/SEMANTICS.md.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diosim::model {

// What one operation must produce. Sets are used where the kernel legitimately allows more
// than one outcome (timing, several failing bios, concurrent tasks).
struct ExpectedOp {
  std::vector<int64_t> allowed_ret;        // the syscall result / AIO event result
  std::vector<int64_t> allowed_submit_ret; // AIO only (empty: not checked)
  // The op's iovec bytes afterwards (reads: what the user must see; bytes the op may or may
  // not have written are listed in data_free). Empty optional: not checked.
  std::optional<std::vector<uint8_t>> data;
  std::vector<std::pair<uint64_t, uint64_t>> data_free; // [begin, end) ranges not checked
  // Bytes of `data` that may hold one of several values: (index, allowed values, sorted).
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> data_alternatives;
  std::vector<int64_t> allowed_i_size_after; // empty: not checked
  std::vector<std::string> rules;            // SEMANTICS.md rule ids that decided this op
};

// The file at the end: for each byte, the values it may hold.
struct ExpectedFile {
  uint64_t size = 0;          // bytes covered (from offset 0)
  std::vector<uint8_t> value; // the one value, when `alternatives` has none
  // Bytes that may hold one of several values (overlapping writers, failed writes):
  // (offset, allowed values).
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> alternatives;
  // [begin, end) ranges the model cannot state (not exact); not checked.
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
  std::vector<uint8_t> data;
  int64_t i_size_after = 0;
};

ExpectedRun reference_outcome(const scenario::ScenarioSpec& spec);

// One message per disagreement: the operation, the rule, expected vs actual, and for data the
// first differing byte offset. `file` holds the file's bytes [0, expected.file.size).
std::vector<std::string> compare_with_reference(const scenario::ScenarioSpec& spec,
                                                const ExpectedRun& expected,
                                                const std::vector<ActualOp>& actual,
                                                const std::vector<uint8_t>& file,
                                                int64_t final_i_size);

} // namespace diosim::model
