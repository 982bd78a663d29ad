// SPDX-License-Identifier: GPL-2.0-only
// Checks a scenario's explicit expectations (per operation and at the end) against a run.
#pragma once

#include "sim/world/world.hpp"

#include <string>
#include <vector>

namespace diosim::model {

// FNV-1a 64 of `data` as 16 lowercase hex digits.
std::string fnv1a_hex(const std::vector<uint8_t>& data);
std::string fnv1a_hex(const scenario::ByteImage& data); // the same over the expanded bytes

// One message per failed expectation, naming the operation and both values.
std::vector<std::string> check_expectations(const scenario::ScenarioSpec& spec,
                                            const world::World& w, uint64_t bios_allocated);

// One operation's expectations (ret, submit_ret, user buffer, i_size): one message per failure.
// What `diosim run` marks "(as expected)" or "(UNEXPECTED)" per operation.
std::vector<std::string> check_op_expectations(const world::OpOutcome& o);
bool has_op_expectations(const scenario::Operation& op);

// "4096", or "-22 (-EINVAL)".
std::string describe_ret(int64_t ret);

} // namespace diosim::model
