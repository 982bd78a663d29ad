// SPDX-License-Identifier: GPL-2.0-only
// Findings and internal errors, kept apart on purpose.
//
// A Violation is something the simulated kernel did wrong (a finding for the user). An
// InternalError is a bug in diosim itself and is always worded as one ("[internal error]").
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace diosim::engine {

struct Violation {
  std::string invariant; // short stable name, e.g. "page-refcount-underflow"
  int src_line = 0;      // source line the violating step stands for, 0 if none
  std::string message;   // what happened, with operands
  uint64_t step = 0;
  uint32_t context_id = 0;
};

class InternalError : public std::logic_error {
public:
  explicit InternalError(const std::string& what) : std::logic_error("[internal error] " + what) {}
};

// Checks a tool invariant; on failure throws InternalError naming both operands.
#define DIOSIM_INTERNAL_ASSERT_EQ(a, b, msg)                                                       \
  do {                                                                                             \
    const auto diosim_a_ = (a);                                                                    \
    const auto diosim_b_ = (b);                                                                    \
    if (!(diosim_a_ == diosim_b_))                                                                 \
      throw ::diosim::engine::InternalError(std::string(msg) + ": " #a " = " +                     \
                                            std::to_string(diosim_a_) + ", " #b " = " +            \
                                            std::to_string(diosim_b_));                            \
  } while (0)

#define DIOSIM_INTERNAL_ASSERT(cond, msg)                                                          \
  do {                                                                                             \
    if (!(cond)) throw ::diosim::engine::InternalError(std::string(msg) + " (" #cond ")");         \
  } while (0)

} // namespace diosim::engine
