// SPDX-License-Identifier: GPL-2.0-only
// The inode operations of the scenario language (ftruncate, fallocate, fsync): their names,
// their fields, their parsing and their JSON form. Kept apart from the I/O ops so the op
// tables stay small (docs/SCENARIOS.md, "Inode operations").
// Invariant: inode_op_json(op) parses back (build_inode_op) to the same Operation.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace diosim::scenario::detail {

class Errors;

// The OpKind of an inode op's name ("ftruncate", "fallocate", "fsync"), if it is one.
std::optional<OpKind> inode_op_kind(const std::string& name);
const char* inode_op_name(OpKind kind);
// Whether an inode op of `kind` takes the field `key` (besides "op").
bool inode_op_takes_field(OpKind kind, const std::string& key);
// The op's fields; problems go to `errors` under op.where.
void build_inode_op(const nlohmann::ordered_json& x, const ScenarioSpec& spec, Operation& op,
                    Errors& errors);
// The op's fields as the writer puts them (op name included; the writer adds "expect").
nlohmann::ordered_json inode_op_json(const Operation& op);

} // namespace diosim::scenario::detail
