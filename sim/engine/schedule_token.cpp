// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/schedule_token.hpp"

namespace diosim::engine {
namespace {

// A token expands to at most this many decisions (a run stops at 50M steps, and a token is
// replayed entry by entry): without a cap, "v2:1*9zldr" repeated would ask for terabytes.
constexpr uint64_t kMaxEntries = uint64_t{1} << 24;

void append_base36(std::string& out, uint64_t v) {
  char buf[16];
  int n = 0;
  do {
    const int d = static_cast<int>(v % 36);
    buf[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    v /= 36;
  } while (v);
  while (n)
    out.push_back(buf[--n]);
}

bool parse_base36(std::string_view s, uint64_t& v) {
  if (s.empty() || s.size() > 12) return false;
  v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 10;
    else
      return false;
    v = v * 36 + static_cast<uint64_t>(d);
  }
  return true;
}

const char* prefix(ChoiceKind kind) {
  switch (kind) {
  case ChoiceKind::context:
    return "";
  case ChoiceKind::event:
    return "e";
  case ChoiceKind::fault:
    return "f";
  case ChoiceKind::latency:
    return "@";
  }
  return "";
}

} // namespace

std::string ScheduleToken::to_string() const {
  std::string out = "v2:";
  for (size_t i = 0; i < entries_.size();) {
    size_t run = 1;
    while (i + run < entries_.size() && entries_[i + run] == entries_[i])
      ++run;
    if (i) out.push_back('.');
    out += prefix(entries_[i].kind);
    const size_t digits = out.size();
    append_base36(out, entries_[i].value);
    // A context id whose first base-36 digit is 'e' or 'f' (14, 15, 505, ...) would read back as
    // an event or a fault: a leading zero keeps it a context ("0e", "0e1").
    if (entries_[i].kind == ChoiceKind::context && (out[digits] == 'e' || out[digits] == 'f'))
      out.insert(digits, 1, '0');
    if (run > 1) {
      out.push_back('*');
      append_base36(out, run);
    }
    i += run;
  }
  return out;
}

std::optional<ScheduleToken> ScheduleToken::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ScheduleToken> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.substr(0, 3) != "v2:")
    return fail("a schedule token starts with \"v2:\" (tokens of diosim before 0.2 named option "
                "indexes and cannot be replayed)");
  text.remove_prefix(3);
  ScheduleToken token;
  while (!text.empty()) {
    const size_t dot = text.find('.');
    std::string_view item = text.substr(0, dot);
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    Entry e;
    if (!item.empty() && (item[0] == '@' || item[0] == 'e' || item[0] == 'f')) {
      e.kind = item[0] == '@'   ? ChoiceKind::latency
               : item[0] == 'e' ? ChoiceKind::event
                                : ChoiceKind::fault;
      item.remove_prefix(1);
    }
    uint64_t repeat = 1;
    const size_t star = item.find('*');
    if (star != std::string_view::npos) {
      if (!parse_base36(item.substr(star + 1), repeat) || repeat == 0 || repeat > (1u << 24))
        return fail("bad repeat count in entry \"" + std::string(item) + "\"");
      item = item.substr(0, star);
    }
    if (!parse_base36(item, e.value))
      return fail("bad entry \"" + std::string(item) + "\" (expected base-36 digits)");
    if (repeat > kMaxEntries - token.entries_.size())
      return fail("the token expands to more than " + std::to_string(kMaxEntries) + " decisions");
    for (uint64_t k = 0; k < repeat; ++k)
      token.entries_.push_back(e);
  }
  return token;
}

} // namespace diosim::engine
