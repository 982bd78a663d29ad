// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace diosim::engine {
namespace {

std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

void append_ts(std::string& out, uint64_t ns) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ns / 1000),
                static_cast<unsigned long long>(ns % 1000));
  out += buf;
}

const char* pid_name(TracePid pid) {
  switch (pid) {
  case TracePid::contexts:
    return "contexts";
  case TracePid::block:
    return "block";
  case TracePid::objects:
    return "objects";
  }
  return "?";
}

} // namespace

void Tracer::name_lane(TracePid pid, uint32_t tid, std::string name, int sort_index) {
  for (Lane& lane : lanes_)
    if (lane.pid == pid && lane.tid == tid) {
      lane.name = std::move(name);
      lane.sort_index = sort_index;
      return;
    }
  lanes_.push_back({pid, tid, std::move(name), sort_index});
}

void Tracer::clear() {
  lanes_.clear();
  events_.clear();
  other_.clear();
}

void Tracer::append_event(std::string& out, const TraceEvent& e) const {
  out += "{\"ph\":\"";
  out += e.ph;
  out += "\",\"name\":" + quoted(e.name);
  if (!e.cat.empty()) out += ",\"cat\":" + quoted(e.cat);
  out += ",\"pid\":" + std::to_string(static_cast<int>(e.pid)) +
         ",\"tid\":" + std::to_string(e.tid) + ",\"ts\":";
  append_ts(out, e.ts_ns);
  if (e.ph == 'X') {
    out += ",\"dur\":";
    append_ts(out, e.dur_ns);
  }
  if (e.ph == 'i') {
    out += ",\"s\":\"";
    out += e.scope ? e.scope : 't';
    out += '"';
  }
  if (!e.id.empty()) {
    if (e.ph == 'b' || e.ph == 'n' || e.ph == 'e')
      out += ",\"id2\":{\"local\":" + quoted(e.id) + "}";
    else
      out += ",\"id\":" + quoted(e.id);
    if (e.ph == 'f') out += ",\"bp\":\"e\"";
  }
  out += ",\"args\":{\"step\":" + std::to_string(e.step);
  if (e.src_line > 0) out += ",\"src\":" + quoted(source_name_ + ":" + std::to_string(e.src_line));
  for (const TraceArg& a : e.args) {
    out += ',' + quoted(a.key) + ':';
    if (const auto* n = std::get_if<int64_t>(&a.value))
      out += std::to_string(*n);
    else
      out += quoted(std::get<std::string>(a.value));
  }
  out += "}}";
}

std::string Tracer::to_json() const {
  std::string out;
  out.reserve(256 + events_.size() * 200);
  out += "{\"displayTimeUnit\":\"ns\",\n\"otherData\":{";
  for (size_t i = 0; i < other_.size(); ++i) {
    if (i) out += ',';
    out += quoted(other_[i].first) + ':' + other_[i].second;
  }
  out += "},\n\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (TracePid pid : {TracePid::contexts, TracePid::block, TracePid::objects}) {
    sep();
    const int p = static_cast<int>(pid);
    out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" + std::to_string(p) +
           ",\"tid\":0,\"args\":{\"name\":" + quoted(pid_name(pid)) + "}}";
    sep();
    out += "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + std::to_string(p) +
           ",\"tid\":0,\"args\":{\"sort_index\":" + std::to_string(p) + "}}";
  }
  for (const Lane& lane : lanes_) {
    const std::string head = "{\"ph\":\"M\",\"pid\":" + std::to_string(static_cast<int>(lane.pid)) +
                             ",\"tid\":" + std::to_string(lane.tid);
    sep();
    out += head + ",\"name\":\"thread_name\",\"args\":{\"name\":" + quoted(lane.name) + "}}";
    sep();
    out += head + ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" +
           std::to_string(lane.sort_index) + "}}";
  }
  // A flow whose end never came (its target context was cut short) is left out: Perfetto
  // would draw it to nowhere.
  std::vector<std::string> ended;
  for (const TraceEvent& e : events_)
    if (e.ph == 'f') ended.push_back(e.id);
  std::sort(ended.begin(), ended.end());
  for (const TraceEvent& e : events_) {
    if (e.ph == 's' && !std::binary_search(ended.begin(), ended.end(), e.id)) continue;
    sep();
    append_event(out, e);
  }
  out += "\n]}\n";
  return out;
}

} // namespace diosim::engine
