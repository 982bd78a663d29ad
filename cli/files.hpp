// SPDX-License-Identifier: GPL-2.0-only
// Output files of the command line: cli/ is the only layer that writes files.
#pragma once

#include <string>

namespace diosim::cli {

// Writes `text` to `path`, creating missing parent directories. On failure returns false and
// sets `error` to a message naming the path and the reason.
bool write_text_file(const std::string& path, const std::string& text, std::string* error);

// The offline viewer for a trace: render_html of the trace, written next to it.
bool write_viewer_html(const std::string& path, const std::string& trace_json, std::string* error);

} // namespace diosim::cli
