// SPDX-License-Identifier: GPL-2.0-only
// The offline trace viewer as a single HTML page.
//
// viz/viewer.html and the reference fs/direct-io.c are compiled into the library; render_html()
// returns the page with a trace embedded, ready to be written to a .html file and opened from
// file:// (no network). docs/TRACE.md describes the trace format the page reads.
#pragma once

#include <string>

namespace diosim::viz {

// Returns viewer.html with `trace_json` (a Chrome Trace Event Format JSON document, as written by
// engine::Tracer::to_json) and the kernel source embedded. Both are escaped for a <script>
// element ("</" becomes "<\/", "<!--" is escaped too). An empty `trace_json` gives the viewer
// with no trace, which shows a drop zone / file picker. The JSON is not validated here; the page
// reports a trace it cannot parse.
std::string render_html(const std::string& trace_json);

} // namespace diosim::viz
