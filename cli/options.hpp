// SPDX-License-Identifier: GPL-2.0-only
// Option checks shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace diosim::cli {

// Seeds are unsigned 64-bit: CLI11 would read "-1" as 2^64-1; this check refuses a sign so a
// typo is an error (exit 2), not a different run.
CLI::Validator unsigned_integer();

// A schedule token as the terminal shows it under --quiet: in full up to kQuietTokenChars;
// longer, its first kQuietTokenHead characters, its length and its FNV-1a hash, then
// `where_in_full` (e.g. "--token FILE writes it"). README.md, "Schedule tokens".
constexpr size_t kQuietTokenChars = 120;
constexpr size_t kQuietTokenHead = 40;
std::string quiet_token(const std::string& token, const std::string& where_in_full);

} // namespace diosim::cli
