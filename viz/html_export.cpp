// SPDX-License-Identifier: GPL-2.0-only
#include "viz/html_export.hpp"

#include <cstddef>
#include <stdexcept>
#include <string_view>

namespace diosim::viz {
namespace detail {
// Defined in the generated viz_assets.cpp (viz/embed_assets.cmake).
extern const std::string_view kViewerHtmlParts[];
extern const std::size_t kViewerHtmlPartCount;
extern const std::string_view kKernelSourceParts[];
extern const std::size_t kKernelSourcePartCount;
} // namespace detail

namespace {

constexpr std::string_view kTraceOpen = R"(<script type="application/json" id="trace">)";
constexpr std::string_view kSourceOpen = R"(<script type="text/plain" id="source">)";
constexpr std::string_view kScriptClose = "</script>";

std::string join(const std::string_view* parts, std::size_t count) {
  std::size_t size = 0;
  for (std::size_t i = 0; i < count; ++i)
    size += parts[i].size();
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < count; ++i)
    out += parts[i];
  return out;
}

// Text that may sit inside a <script> element: "</" cannot close it and "<!--" cannot start the
// script-data escape states. `comment_open` replaces "<!--": in JSON, where "<" only occurs in
// strings, "\u003c!--" keeps the value; the viewer turns the source's "<\!--" back.
void append_script_text(std::string& out, std::string_view text, std::string_view comment_open) {
  std::size_t from = 0;
  for (std::size_t i = text.find('<'); i != std::string_view::npos; i = text.find('<', i + 1)) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with("</")) {
      out.append(text, from, i - from);
      out += "<\\/";
      from = i + 2;
    } else if (rest.starts_with("<!--")) {
      out.append(text, from, i - from);
      out += comment_open;
      from = i + 4;
    }
  }
  out.append(text, from, std::string_view::npos);
}

// Replaces whatever lies between `open` and the next "</script>" with `content`.
void fill(std::string& html, std::string_view open, const std::string& content) {
  const std::size_t start = html.find(open);
  if (start == std::string::npos)
    throw std::logic_error("[internal error] viz/viewer.html lacks the placeholder " +
                           std::string(open));
  const std::size_t body = start + open.size();
  const std::size_t end = html.find(kScriptClose, body);
  if (end == std::string::npos)
    throw std::logic_error("[internal error] viz/viewer.html: unterminated " + std::string(open));
  html.replace(body, end - body, content);
}

} // namespace

std::string render_html(const std::string& trace_json) {
  std::string html = join(detail::kViewerHtmlParts, detail::kViewerHtmlPartCount);
  const std::string source = join(detail::kKernelSourceParts, detail::kKernelSourcePartCount);

  std::string trace_text;
  trace_text.reserve(trace_json.size() + 64);
  append_script_text(trace_text, trace_json, "\\u003c!--");
  std::string source_text;
  source_text.reserve(source.size() + 64);
  append_script_text(source_text, source, "<\\!--");

  // The source placeholder comes after the trace's: fill it first, so neither search runs through
  // inserted text.
  fill(html, kSourceOpen, source_text);
  fill(html, kTraceOpen, trace_text);
  return html;
}

} // namespace diosim::viz
