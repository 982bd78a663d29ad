// SPDX-License-Identifier: GPL-2.0-only
// diosim fuzz: random scenarios (model/search/scenario_gen.hpp), each run once with its own seed
// and mode; a run that fails is shrunk to a small scenario that fails the same way and written out
// as a scenario file, its schedule token and its trace. Cases run in `jobs` supervised worker
// processes (model/check/crash_guard.hpp): a case that crashes or hangs the simulated code is a
// finding of kind "crash:SIGSEGV", "abort", "stack-overflow", "hang" ... (written as generated,
// not shrunk, with the schedule token up to the crash and no trace), and the campaign goes on.
//
// Owns: case derivation, failure classification, the greedy shrinker, the campaign loop.
// Invariants:
//   1. Case i of a campaign is a pure function of (campaign seed, i): the same --seed and
//      --cases give the same cases, the same failures and the same files whatever --jobs is.
//      The steady clock is read only for the progress line and --time, never inside a run.
//   2. A written counterexample reproduces: `diosim run <kind>-<case>.json` fails with the same
//      kind (its seed and mode are in the file; the schedule file replays the exact run). A
//      crash finding crashes the same way under `diosim run`'s own guard.
#pragma once

#include "model/check/coverage.hpp"
#include "model/check/crash_guard.hpp"
#include "model/check/runner.hpp"
#include "model/search/scenario_gen.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace diosim::model {

// What went wrong in a run, as a short stable name: the violated invariant ("stale-data",
// "reference-model", ...), "internal-error", "divergence" or "expectation"; nullopt when the
// run passed.
std::optional<std::string> failure_kind(const RunResult& r);

// A failure that is a documented consequence of a simplified filesystem model, or of Linux's own
// behaviour after an I/O error, rather than a finding about fs/direct-io.c, by name, or nullopt:
//   "writeback-error-stale": stale-data in a scenario where page writeback can fail
//   (explore_faults writeback_error, or a cached page with writeback_error). A failed writeback
//   leaves the page clean and its new block never written (R-WRITEBACK-ERROR, as ext2 and FAT in
//   Linux 6.1: end_buffer_async_write does not redirty), so once the page is gone the block
//   shows what the disk held. The end-of-run check reads through the disk, as after eviction.
// And:
//   "ocfs2-hole-fill": stale-data with the ocfs2 model and "unwritten": false (the opt-in quirk;
//   with unwritten extents, the default, stale data is a finding). That model passes flags 0 (no
//   DIO_SKIP_HOLES) and allocates holes inside i_size on a direct write without unwritten
//   extents, so until the write's bios land (and for good when one fails) the new block holds
//   stale disk data that a concurrent read, or the end-of-run check, sees. The holes may also
//   be made during the run (an extending write past EOF; a failed write truncating blocks
//   past i_size, as ext2_write_failed does). Every stale sector is in a block allocated during
//   the run (the initial extents count as written), and with ocfs2 only this path allocates
//   below i_size. direct-io.c leaves this to the filesystem (real ocfs2 allocates unwritten
//   extents and converts them in its end_io); tests/fixtures/stale-after-failed-fill.json is the
//   negative control.
//   "failed-write-stale-cache": page-cache-coherency in a scenario where a bio can fail (disk
//   error rules, explore_faults bio_error). A page cached while a direct write is in flight (an
//   mmap fault's read-around, a buffered read's readahead) is invalidated after the write only
//   when it wrote something (Linux 6.1 fs/direct-io.c:288 dio_complete `ret > 0`, and
//   mm/filemap.c generic_file_direct_write `written > 0`: "we don't support it 100%"), so when
//   a bio of the write fails after another (the sub-block zeroing) landed, the clean page keeps
//   the bytes the disk no longer holds. Found by diosim fuzz --seed 1 case 1175 (more_ops).
//   "stale-tail-past-eof": page-cache-coherency at a byte of the default file's initial last
//   block past i_size that an extent maps with nonzero (e.g. stale) bytes, in a scenario with an
//   ftruncate. Linux keeps that tail zero (writeback zeroes a page past i_size,
//   block_truncate_page zeroes the block's tail, direct I/O zero-fills partial blocks), so the
//   generator's initial state is one Linux does not produce; given it, Linux behaves as the
//   world does: a failed buffered write's truncate_pagecache zeroes the tail in a clean page, an
//   ftruncate up to a block boundary (no block_truncate_page) brings it inside i_size, and the
//   page and the disk differ. Found by diosim fuzz --seed 3 case 471.
std::optional<std::string> known_quirk(const scenario::ScenarioSpec& spec, const RunResult& r);

// Case i's generator seed: a SplitMix64 mix of the campaign seed and i.
uint64_t case_seed(uint64_t campaign_seed, uint64_t index);

// Case i: a generated scenario together with its shrinks.
rc::Shrinkable<scenario::ScenarioSpec> generate_case(uint64_t campaign_seed, uint64_t index,
                                                     const GenOptions& options = {});

struct ShrinkResult {
  scenario::ScenarioSpec spec; // the smallest failing scenario found
  uint64_t steps = 0;          // shrinks taken
  uint64_t attempts = 0;       // candidates tried (one run each)
  bool budget_exhausted = false;
};

// Greedy shrinking: from `start` (which must fail), repeatedly take the first shrink for which
// `still_fails` holds, until no shrink does or `max_attempts` candidates have been tried.
ShrinkResult shrink_failure(const rc::Shrinkable<scenario::ScenarioSpec>& start,
                            const std::function<bool(const scenario::ScenarioSpec&)>& still_fails,
                            uint64_t max_attempts = 5000);

struct FuzzOptions {
  uint64_t cases = 0; // 0: unlimited (then `seconds` must be set)
  double seconds = 0; // 0: no time limit
  uint64_t seed = 1;
  unsigned jobs = 1;
  std::string out_dir = "fuzz-out";
  uint64_t max_shrink_attempts = 5000;
  bool include_known = false;        // treat known quirks (known_quirk) as failures too
  std::optional<uint64_t> only_case; // run case i alone (its seed is still derived from (seed, i))
  bool shrink = true;                // false: write failing cases as generated
  bool check_model = true;           // compare every run with the reference model (RunOptions)
  GenOptions gen;
  GuardOptions guard; // cases run in supervised worker processes (crash_guard.hpp)
};

struct Finding {
  uint64_t case_index = 0;
  std::string kind;
  std::string base_path;          // out_dir/<kind>-<case>, without extension
  scenario::ScenarioSpec minimal; // named and described; reproduces with `diosim run`
  std::string message;            // the minimal run's failure, one line
  ShrinkResult shrink;
  // What cli/ writes next to base_path: the scenario, its schedule token and the traced run.
  std::string scenario_json, schedule, trace_json;
};

struct FuzzSummary {
  uint64_t cases = 0; // cases run
  uint64_t failing_cases = 0;
  std::map<std::string, uint64_t> by_kind; // failing cases per kind
  std::map<std::string, uint64_t> known;   // cases that only hit a known quirk, per quirk
  std::vector<Finding> findings;           // sorted by case index
  double seconds = 0;
  std::vector<std::string> write_errors;
  LineHits line_hits{}; // fs/direct-io.c lines run by the cases (not shrinks)
  // Race windows (sim/kernel/race_windows.hpp): cases whose run opened each, by window name.
  std::map<std::string, uint64_t> race_windows;
  // 0 no failure, 1 violations, 3 an internal error (of diosim) in some case.
  int exit_code() const;
};

// Runs a campaign; `progress` (may be null) gets a line about once a second and one line per
// finding. Writes nothing: each finding carries the texts cli/ writes into options.out_dir.
FuzzSummary run_fuzz(const FuzzOptions& options, std::FILE* progress);

} // namespace diosim::model
