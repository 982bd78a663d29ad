// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/step_log.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace diosim::model {

namespace {

using json = nlohmann::ordered_json; // keeps each event's keys in written order

std::string scalar(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// "get_page page#2 ref 1->2", "dio#1.refcount 0->1", or "name k=v ...". A value that did not
// change (X->X, e.g. the dio's first full snapshot) is left out; an event that is nothing but
// unchanged values gives "".
std::string describe_change(const json& e) {
  const std::string name = e.value("name", "");
  const json& a = e.contains("args") ? e["args"] : json::object();
  if (name == "dio_state") {
    if (a.value("before", json()) == a.value("after", json())) return "";
    return scalar(a["dio"]) + "." + scalar(a["field"]) + " " + scalar(a["before"]) + "->" +
           scalar(a["after"]);
  }
  std::string out = name;
  std::map<std::string, std::string> before;
  for (auto it = a.begin(); it != a.end(); ++it) {
    const std::string& k = it.key();
    if (k == "step" || k == "src") continue;
    const size_t dot = k.rfind(".before");
    if (dot != std::string::npos && dot + 7 == k.size()) {
      before[k.substr(0, dot)] = scalar(it.value());
      continue;
    }
    const size_t adot = k.rfind(".after");
    if (adot != std::string::npos && adot + 6 == k.size()) {
      const std::string base = k.substr(0, adot);
      if (before[base] != scalar(it.value()))
        out += " " + base + " " + before[base] + "->" + scalar(it.value());
      continue;
    }
    out += " " + k + "=" + scalar(it.value());
  }
  return out;
}

std::string legend() {
  std::string out;
  out +=
      "# step: global step number | lane: the context (or the disk) it happened on | fn: the yield "
      "point\n";
  out += "# src: the fs/direct-io.c line being executed | then what changed in that step:\n";
  out += "#   X->Y old and new value; Q/D/C: bio queued, dispatched to the device, completed;\n";
  out +=
      "#   -> flow: an arrow to the context that continues the story (completion, wake-up, work)\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%6s  %-22s %-30s %-20s %s\n", "step", "lane", "fn", "src",
                "changes");
  out += buf;
  return out;
}

} // namespace

std::string format_step_log(const std::string& trace_json) {
  const json t = json::parse(trace_json);
  std::map<std::pair<int, int>, std::string> lanes;
  for (const json& e : t["traceEvents"])
    if (e.value("ph", "") == "M" && e.value("name", "") == "thread_name")
      lanes[{e.value("pid", 0), e.value("tid", 0)}] = e["args"].value("name", "");

  std::string out = legend();
  char buf[160];
  // A line is one (step, lane): the events after a yield point carry its step until the next
  // yield point, and may come from another lane (the context switched to, the disk): each
  // lane's events go on a line of that lane, never on the line of the context that yielded.
  int64_t current_step = -1;
  std::pair<int, int> current_lane{-1, -1};
  std::string line, changes;
  auto flush = [&] {
    if (!line.empty()) out += line + changes + "\n";
    line.clear();
    changes.clear();
  };
  auto start = [&](int64_t step, const std::pair<int, int>& lane, const std::string& fn,
                   const std::string& src) {
    flush();
    current_step = step;
    current_lane = lane;
    std::snprintf(buf, sizeof buf, "%6lld  %-22s %-30s %-20s", static_cast<long long>(step),
                  lanes[lane].c_str(), fn.c_str(), src.c_str());
    line = buf;
  };
  for (const json& e : t["traceEvents"]) {
    const std::string ph = e.value("ph", "");
    if (ph == "M" || ph == "C" || ph == "b" || ph == "e") continue; // Q/D/C tell the bio's story
    const json& a = e.contains("args") ? e["args"] : json::object();
    const int64_t step = a.value("step", int64_t{0});
    const std::pair<int, int> lane{e.value("pid", 0), e.value("tid", 0)};
    if (ph == "X") {
      start(step, lane, e.value("name", ""), a.value("src", ""));
      for (auto it = a.begin(); it != a.end(); ++it)
        if (it.key() != "step" && it.key() != "src")
          changes += " " + it.key() + "=" + scalar(it.value());
      continue;
    }
    std::string change;
    if (ph == "s")
      change = " -> flow " + e.value("id", "");
    else if (ph == "f")
      change = " <- flow " + e.value("id", "");
    else if (ph == "n")
      change = " [" + e.value("name", "") + " " + scalar(a["bio"]) + " " + scalar(a["rwbs"]) + " " +
               scalar(a["sector"]) + "+" + scalar(a["nr_sectors"]) + "]";
    else if (const std::string d = describe_change(e); !d.empty())
      change = " | " + d;
    if (change.empty()) continue;
    if (line.empty() || step != current_step || lane != current_lane)
      start(step, lane, "", a.value("src", ""));
    changes += change;
  }
  flush();
  if (t.contains("otherData") && t["otherData"].contains("failure")) {
    const json& f = t["otherData"]["failure"];
    out += "# VIOLATION " + f.value("invariant", "") + " at " + f.value("src", "") + " step " +
           scalar(f["step"]) + ": " + f.value("message", "") + "\n";
  }
  return out;
}

} // namespace diosim::model
