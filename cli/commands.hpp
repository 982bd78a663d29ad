// SPDX-License-Identifier: GPL-2.0-only
// The diosim subcommands. Each file under cli/ owns one family of subcommands and
// registers it on the CLI11 app; main.cpp only wires them and maps exceptions to exit codes.
//
// Exit codes: 0 no violation, 1 violation or failed expectation, 2 bad usage, bad scenario or
// a schedule token that does not fit the run, 3 internal error.
#pragma once

#include <CLI/CLI.hpp>

#include "sim/scenario/scenario.hpp"

#include <functional>
#include <optional>
#include <string>

namespace diosim::cli {

// A registered subcommand: returns the exit code when it was the one parsed.
using Action = std::function<int()>;

// Loads a scenario; on a bad one prints "diosim: bad scenario: FILE: /path: problem" to stderr
// and returns nullopt (the caller exits 2).
std::optional<scenario::ScenarioSpec> load_scenario_or_report(const std::string& path);

Action register_run(CLI::App& app);      // run, replay, view (run_cmd.cpp)
Action register_coverage(CLI::App& app); // coverage (coverage_cmd.cpp)
Action register_fuzz(CLI::App& app);     // fuzz (fuzz_cmd.cpp)
Action register_explore(CLI::App& app);  // explore, merge (explore_cmd.cpp)

} // namespace diosim::cli
