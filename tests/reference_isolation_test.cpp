// SPDX-License-Identifier: GPL-2.0-only
// The reference model must not share code with what it judges: model/reference/reference.hpp and
// model/reference/*.cpp, and everything they include from the repository (transitively), may not
// reach sim/dio/ (the port), sim/kernel/ (the simulated kernel), sim/engine/ or sim/world/ (the
// simulated environment). Only sim/scenario/ and the standard library are allowed.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = fs::path(DIOSIM_TEST_DIR).parent_path();

bool forbidden(const std::string& rel) {
  return rel.rfind("sim/dio/", 0) == 0 || rel.rfind("sim/kernel/", 0) == 0 ||
         rel.rfind("sim/world/", 0) == 0 || rel.rfind("sim/engine/", 0) == 0;
}

// Follows `#include "..."` from `start` (paths relative to the repository root). Returns the
// chains (a -> b -> c) that reach a forbidden file; fills `seen` with every file reached.
std::vector<std::string> forbidden_chains(const std::vector<std::string>& start,
                                          std::set<std::string>& seen) {
  static const std::regex include_re(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> bad;
  std::vector<std::pair<std::string, std::string>> work; // file, chain to it
  for (const std::string& s : start)
    work.push_back({s, s});
  while (!work.empty()) {
    auto [rel, chain] = work.back();
    work.pop_back();
    if (!seen.insert(rel).second) continue;
    if (forbidden(rel)) {
      bad.push_back(chain);
      continue;
    }
    std::ifstream in(kRoot / rel);
    REQUIRE_MESSAGE(in.good(), "cannot read " << (kRoot / rel).string());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include_re)) continue;
      const std::string inc = m[1];
      // Quoted includes resolve against the including file's folder first, then the root.
      fs::path local = fs::path(rel).parent_path() / inc;
      std::string next;
      if (fs::exists(kRoot / local))
        next = local.lexically_normal().generic_string();
      else if (fs::exists(kRoot / inc))
        next = fs::path(inc).lexically_normal().generic_string();
      else
        continue; // not in the repository (a generated or third-party header)
      work.push_back({next, chain + " -> " + next});
    }
  }
  return bad;
}

std::vector<std::string> reference_sources() {
  std::vector<std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(kRoot / "model/reference")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".cpp" || e.path().extension() == ".hpp")
      out.push_back("model/reference/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("the reference model includes nothing of the port, the kernel shim or the world") {
  const std::vector<std::string> files = reference_sources();
  REQUIRE(std::find(files.begin(), files.end(), "model/reference/reference.hpp") != files.end());
  REQUIRE(std::find(files.begin(), files.end(), "model/reference/reference.cpp") != files.end());
  std::set<std::string> seen;
  const std::vector<std::string> bad = forbidden_chains(files, seen);
  for (const std::string& chain : bad)
    CAPTURE(chain);
  CHECK_MESSAGE(bad.empty(), "forbidden include: " << (bad.empty() ? "" : bad.front()));
  // It does use the scenario, and only that from sim/.
  CHECK(seen.count("sim/scenario/scenario.hpp") == 1);
  for (const std::string& f : seen) {
    CAPTURE(f);
    CHECK((f.rfind("model/reference/", 0) == 0 || f.rfind("sim/scenario/", 0) == 0));
  }
}

TEST_CASE("the include checker itself finds a forbidden include (negative control)") {
  std::set<std::string> seen;
  // The runner builds the world, so it reaches sim/world/world.hpp and sim/dio/.
  const std::vector<std::string> bad = forbidden_chains({"model/check/runner.hpp"}, seen);
  CHECK_FALSE(bad.empty());
}
