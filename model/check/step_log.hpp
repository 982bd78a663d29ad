// SPDX-License-Identifier: GPL-2.0-only
// The text twin of a trace: one line per step (step, context, function, fs/direct-io.c line,
// what changed), with a legend, for terminals and CI logs.
#pragma once

#include <string>

namespace diosim::model {

// Formats a diosim trace (Chrome Trace Event JSON as written by --trace).
std::string format_step_log(const std::string& trace_json);

} // namespace diosim::model
