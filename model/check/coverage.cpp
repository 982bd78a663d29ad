// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/coverage.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace diosim::model {

const std::vector<UnreachableLine>& unreachable_lines() {
  static const std::vector<UnreachableLine> lines = {
      {1119, "a zero-length read never reaches __blockdev_direct_IO: generic_file_read_iter "
             "returns 0 first (mm/filemap.c)"},
  };
  return lines;
}

std::vector<int> marked_lines(const std::string& port_source_path) {
  std::ifstream in(port_source_path);
  if (!in) throw std::runtime_error(port_source_path + ": cannot read the port's source");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<int> out;
  static const std::regex at_re("AT\\(([0-9]+)\\)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), at_re);
       it != std::sregex_iterator(); ++it)
    out.push_back(std::stoi((*it)[1].str()));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

static bool judged_unreachable(int line) {
  for (const UnreachableLine& u : unreachable_lines())
    if (u.line == line) return true;
  return false;
}

CoverageSummary summarize(const LineHits& hits, const std::vector<int>& marked) {
  CoverageSummary s;
  for (int line : marked) {
    if (judged_unreachable(line)) continue;
    s.reachable.push_back(line);
    (hits[static_cast<size_t>(line)] ? s.covered : s.uncovered).push_back(line);
  }
  return s;
}

std::string annotated_listing(const LineHits& hits, const std::vector<int>& marked,
                              const std::string& reference_source) {
  std::istringstream in(reference_source);
  std::string line, out;
  char buf[48];
  for (int n = 1; std::getline(in, line); ++n) {
    const bool is_marked = std::binary_search(marked.begin(), marked.end(), n);
    const uint64_t h = n <= kern::kReferenceLines ? hits[static_cast<size_t>(n)] : 0;
    if (!is_marked)
      std::snprintf(buf, sizeof buf, "%9s | %4d | ", "-", n);
    else if (judged_unreachable(n))
      std::snprintf(buf, sizeof buf, "%9s | %4d | ", "n/a", n);
    else if (!h)
      std::snprintf(buf, sizeof buf, "%9s | %4d | ", "#####", n);
    else
      std::snprintf(buf, sizeof buf, "%9llu | %4d | ", static_cast<unsigned long long>(h), n);
    out += buf + line + "\n";
  }
  return out;
}

} // namespace diosim::model
