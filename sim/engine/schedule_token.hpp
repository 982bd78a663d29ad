// SPDX-License-Identifier: GPL-2.0-only
// The printable schedule token: the list of values a Chooser returned during one run.
//
// Text form: "v1:" then entries separated by '.', each a base-36 option index, or '@' and a
// base-36 latency in ns; "*k" after an entry repeats it k times. Example: "v1:0*3.1.@2s0.0".
// Invariant: parse(to_string(t)) == t for every token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diosim::engine {

class ScheduleToken {
public:
  struct Entry {
    bool is_latency = false;
    uint64_t value = 0;
    bool operator==(const Entry&) const = default;
  };

  void push(bool is_latency, uint64_t value) { entries_.push_back({is_latency, value}); }
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }
  bool operator==(const ScheduleToken&) const = default;

  std::string to_string() const;
  // nullopt with `error` set when the text is not a token.
  static std::optional<ScheduleToken> parse(std::string_view text, std::string* error);

private:
  std::vector<Entry> entries_;
};

} // namespace diosim::engine
