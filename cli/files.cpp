// SPDX-License-Identifier: GPL-2.0-only
#include "cli/files.hpp"

#include "viz/html_export.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace diosim::cli {

bool write_text_file(const std::string& path, const std::string& text, std::string* error) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    *error = "cannot create directory " + parent.string() + ": " + ec.message();
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool write_viewer_html(const std::string& path, const std::string& trace_json, std::string* error) {
  return write_text_file(path, viz::render_html(trace_json), error);
}

} // namespace diosim::cli
