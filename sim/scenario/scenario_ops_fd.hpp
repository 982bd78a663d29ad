// SPDX-License-Identifier: GPL-2.0-only
// The fd and AIO-context operations of the scenario language (close, io_cancel, io_destroy,
// chattr): their names, their fields, their parsing, their JSON form and the checks that need
// the whole task (docs/SCENARIOS.md, "Fd and AIO-context operations").
// Invariant: fd_op_json(op) parses back (build_fd_op) to the same Operation.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace diosim::scenario::detail {

class Errors;

// The OpKind of an fd op's name ("close", "io_cancel", "io_destroy", "chattr"), if it is one.
std::optional<OpKind> fd_op_kind(const std::string& name);
const char* fd_op_name(OpKind kind);
// Whether an fd op of `kind` takes the field `key` (besides "op").
bool fd_op_takes_field(OpKind kind, const std::string& key);
// The op's fields; problems go to `errors` under op.where.
void build_fd_op(const nlohmann::ordered_json& x, const ScenarioSpec& spec, Operation& op,
                 Errors& errors);
// The op's fields as the writer puts them (op name included; the writer adds "expect").
nlohmann::ordered_json fd_op_json(const Operation& op);
// Each io_cancel names an earlier AIO pread/pwrite of its task that no full reap or io_destroy
// of the task has taken before it (otherwise nothing could be in flight to cancel).
void check_io_cancels(const ScenarioSpec& spec, Errors& errors);

} // namespace diosim::scenario::detail
