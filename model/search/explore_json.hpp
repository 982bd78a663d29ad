// SPDX-License-Identifier: GPL-2.0-only
// ExploreResult as JSON (diosim explore --json, diosim merge). Everything but `seconds` is a
// function of (scenario, options), so shard results merge into exactly one process's result.
#pragma once

#include "model/search/explore.hpp"

#include <string>

namespace diosim::model {

std::string explore_result_json(const ExploreResult& r, const std::string& scenario_path);
// Throws std::runtime_error naming the field when `text` is not an explore result.
ExploreResult explore_result_from_json(const std::string& text, std::string* scenario_path);

} // namespace diosim::model
