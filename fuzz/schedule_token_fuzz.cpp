// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: the schedule token parser (sim/engine/schedule_token.hpp) on any bytes.
// It must either refuse with a message or return a token; a returned token must survive the
// round trip parse(to_string(t)) == t (the header's invariant 1). A broken invariant aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/engine/schedule_token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using diosim::engine::ScheduleToken;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto token = ScheduleToken::parse(text, &error);
  if (!token) {
    if (error.empty()) {
      std::fprintf(stderr, "schedule_token_fuzz: refused without a message\n");
      std::abort();
    }
    return 0;
  }
  const std::string printed = token->to_string();
  std::string error2;
  const auto again = ScheduleToken::parse(printed, &error2);
  if (!again || !(*again == *token) || again->to_string() != printed) {
    std::fprintf(stderr, "schedule_token_fuzz: round trip broken for %s (%s)\n", printed.c_str(),
                 error2.c_str());
    std::abort();
  }
  return 0;
}
