// SPDX-License-Identifier: GPL-2.0-only
// Option checks shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>

namespace diosim::cli {

// Seeds are unsigned 64-bit: CLI11 would read "-1" as 2^64-1; this check refuses a sign so a
// typo is an error (exit 2), not a different run.
CLI::Validator unsigned_integer();

} // namespace diosim::cli
