// SPDX-License-Identifier: GPL-2.0-only
// Kernel-line coverage: which lines of fs/direct-io.c runs executed, counted by the port's
// AT(N) markers, against the lines that can execute at all.
//
// Reachable = every line the port marks with AT(N), minus the lines judged unreachable in
// this world (kUnreachable, each with its reason; docs/COVERAGE.md explains them).
#pragma once

#include "sim/kernel/runtime.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace diosim::model {

using LineHits = std::array<uint64_t, kern::kReferenceLines + 2>;

// The fuzz budget `diosim coverage` adds to the scenarios by default: with it, the shipped
// scenarios reach every reachable line (tests/coverage_test.cpp).
constexpr uint64_t kDefaultCoverageFuzzCases = 2000;

struct UnreachableLine {
  int line;
  const char* reason;
};
const std::vector<UnreachableLine>& unreachable_lines();

// The lines the port marks with AT(N), read from its source (sorted, unique). Throws
// std::runtime_error naming the file when it cannot be read.
std::vector<int> marked_lines(const std::string& port_source_path);

struct CoverageSummary {
  std::vector<int> reachable, covered, uncovered; // uncovered = reachable - covered
};
CoverageSummary summarize(const LineHits& hits, const std::vector<int>& marked);

// The reference listing with a hit-count column: "   12 |  462 | \tspin_lock_irqsave(...)";
// "    - " marks lines with no statement, "#####" reachable lines never run, "  n/a" lines
// judged unreachable.
std::string annotated_listing(const LineHits& hits, const std::vector<int>& marked,
                              const std::string& reference_source);

} // namespace diosim::model
