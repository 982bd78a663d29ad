// SPDX-License-Identifier: GPL-2.0-only
// The trace sink: collects events during a run and writes Chrome Trace Event Format JSON.
//
// Owns: event storage, lane naming and the JSON writer. Knows nothing kernel-specific: callers
// pass names, categories, ids and args.
// Invariants:
//   1. Output is a pure function of the events recorded (no pointers, no hash order, no clock).
//   2. Tracing off costs one well-predicted branch per call site (callers test enabled()).
//   3. Timestamps are virtual ns written as µs with three decimals; `step` orders ties.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace diosim::engine {

// Process ids of the trace (numeric, named by metadata events).
enum class TracePid : uint32_t { contexts = 1, block = 2, objects = 3 };

struct TraceArg {
  std::string key;
  std::variant<int64_t, std::string> value;
};

struct TraceEvent {
  char ph = 'X';
  std::string name;
  std::string cat;
  TracePid pid = TracePid::contexts;
  uint32_t tid = 0;
  uint64_t ts_ns = 0;
  uint64_t dur_ns = 0;
  uint64_t step = 0;
  int src_line = 0; // 0: no source line
  std::string id;   // async id2.local or flow id
  char scope = 0;   // instant scope
  std::vector<TraceArg> args;
};

class Tracer {
public:
  bool enabled() const { return enabled_; }
  void enable(bool on) { enabled_ = on; }

  void name_lane(TracePid pid, uint32_t tid, std::string name, int sort_index);
  TraceEvent& add(TraceEvent e) {
    events_.push_back(std::move(e));
    return events_.back();
  }
  void set_other(std::string key, std::string json_value) {
    other_.emplace_back(std::move(key), std::move(json_value));
  }
  const std::vector<TraceEvent>& events() const { return events_; }
  void clear();

  // What src lines refer to ("fs/direct-io.c"); set by the kernel layer, the engine names no file.
  void set_source_name(std::string name) { source_name_ = std::move(name); }
  // The whole trace as one JSON document.
  std::string to_json() const;

private:
  struct Lane {
    TracePid pid;
    uint32_t tid;
    std::string name;
    int sort_index;
  };
  void append_event(std::string& out, const TraceEvent& e) const;

  bool enabled_ = false;
  std::string source_name_ = "line";
  std::vector<Lane> lanes_;
  std::vector<TraceEvent> events_;
  std::vector<std::pair<std::string, std::string>> other_; // key, raw JSON value
};

} // namespace diosim::engine
