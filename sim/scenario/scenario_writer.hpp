// SPDX-License-Identifier: GPL-2.0-only
// Writes a ScenarioSpec back as a scenario file (docs/SCENARIOS.md): the inverse of
// parse_scenario, used to turn generated and shrunk scenarios into files `diosim run` reads.
//
// Owns: the textual form only. The output is pretty-printed with a 2-space indent; fields come
// in the order of docs/SCENARIOS.md; fields equal to their default are left out; adjacent byte
// runs of the same byte are merged ("4096:A 4096:A" is written "8192:A"); small objects and
// arrays that fit on one line are written on one line, as the shipped scenarios are.
// Invariant: for every spec that parse_scenario produced (or that would pass its checks),
// parse_scenario(to_json(spec), path) equals spec in every field but `path` (and the derived
// Operation::where, which the parser recomputes from positions).
#pragma once

#include "sim/scenario/scenario.hpp"

#include <string>

namespace diosim::scenario {

// The scenario as the text of a file, ending with a newline. Throws std::invalid_argument when
// the spec holds something a file cannot say (a byte that is neither printable ASCII nor 0, an
// errno without a name).
std::string to_json(const ScenarioSpec& spec);

// Byte runs with adjacent equal runs merged, in file syntax ("512:zero 3584:D").
std::string byte_runs_text(const ByteRuns& runs);

} // namespace diosim::scenario
