// SPDX-License-Identifier: GPL-2.0-only
// The schedule token parser on the inputs its fuzzer (fuzz/schedule_token_fuzz.cpp) found or
// that mark its limits: context ids that print like event or fault prefixes, and expansion.
#include <doctest/doctest.h>

#include <string>

#include "sim/engine/schedule_token.hpp"

using diosim::engine::ChoiceKind;
using diosim::engine::ScheduleToken;

TEST_CASE("schedule token: context ids spelled with a leading e or f stay contexts") {
  // Found by the fuzzer: "0e1" is context 505, which printed as "e1", event 1.
  std::string err;
  const auto t = ScheduleToken::parse("v2:3*4.e1*4.0e1.5", &err);
  REQUIRE(t);
  CHECK((*t)[8].kind == ChoiceKind::context);
  CHECK((*t)[8].value == 505);
  CHECK(t->to_string() == "v2:3*4.e1*4.0e1.5");
  for (uint64_t id : {14u, 15u, 505u, 14u * 36 * 36, 16u, 10u}) {
    ScheduleToken one;
    one.push(ChoiceKind::context, id);
    one.push(ChoiceKind::event, id);
    const auto back = ScheduleToken::parse(one.to_string(), &err);
    INFO(one.to_string(), ": ", err);
    REQUIRE(back);
    CHECK(*back == one);
  }
  ScheduleToken fourteen;
  fourteen.push(ChoiceKind::context, 14);
  fourteen.push(ChoiceKind::fault, 15);
  CHECK(fourteen.to_string() == "v2:0e.ff"); // unchanged for every id not starting e or f
  ScheduleToken ten;
  ten.push(ChoiceKind::context, 10);
  CHECK(ten.to_string() == "v2:a");
}

TEST_CASE("schedule token: at most 2^24 decisions, however the repeats add up") {
  std::string err;
  // 16777215 + 1 entries is exactly the limit; one more is over.
  const auto at_limit = ScheduleToken::parse("v2:1*9zldr.2", &err);
  REQUIRE(at_limit);
  CHECK(at_limit->size() == (size_t{1} << 24));
  CHECK_FALSE(ScheduleToken::parse("v2:1*9zldr.2.3", &err));
  CHECK(err == "the token expands to more than 16777216 decisions");
  CHECK_FALSE(ScheduleToken::parse("v2:1*9zlds.1*9zlds.1*9zlds", &err));
}
