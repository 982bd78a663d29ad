// SPDX-License-Identifier: GPL-2.0-only
// The printable schedule token: the decisions one run took, each naming what was chosen.
//
// Text form: "v2:" then entries separated by '.': a context id in base 36 ("3"), an event id
// ("e5"), a fault option ("f1"), or a latency in ns ("@2s0"); "*k" after an entry repeats it
// k times. Example: "v2:1*3.e1.2.f1.@2s0". A context id that would start with 'e' or 'f' gets
// a leading zero ("0e" is context 14). A token expands to at most 2^24 decisions.
// Invariants:
//   1. parse(to_string(t)) == t for every token.
//   2. An entry names the context or event chosen, not its position among the options, so a
//      replay checks identity: a token that picks a context the run does not offer diverges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diosim::engine {

enum class ChoiceKind : uint8_t { context, event, fault, latency };

class ScheduleToken {
public:
  struct Entry {
    ChoiceKind kind = ChoiceKind::context;
    uint64_t value = 0; // context id, event id, fault option index or latency in ns
    bool operator==(const Entry&) const = default;
  };

  void push(ChoiceKind kind, uint64_t value) { entries_.push_back({kind, value}); }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }
  size_t size() const { return entries_.size(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool operator==(const ScheduleToken&) const = default;

  std::string to_string() const;
  // nullopt with `error` set when the text is not a token.
  static std::optional<ScheduleToken> parse(std::string_view text, std::string* error);

private:
  std::vector<Entry> entries_;
};

} // namespace diosim::engine
