// SPDX-License-Identifier: GPL-2.0-only
// Parsing and writing the fd and AIO-context operations: close {}, io_cancel {"iocb"},
// io_destroy {}, chattr {"sync"}; each takes an "expect" of "ret" only (no user buffer, no
// file bytes, never AIO).
#include "sim/scenario/scenario_ops_fd.hpp"

#include "sim/scenario/parse_util.hpp"

namespace diosim::scenario::detail {

std::optional<OpKind> fd_op_kind(const std::string& name) {
  if (name == "close") return OpKind::close;
  if (name == "io_cancel") return OpKind::io_cancel;
  if (name == "io_destroy") return OpKind::io_destroy;
  if (name == "chattr") return OpKind::chattr;
  return std::nullopt;
}

const char* fd_op_name(OpKind kind) {
  switch (kind) {
  case OpKind::close:
    return "close";
  case OpKind::io_cancel:
    return "io_cancel";
  case OpKind::io_destroy:
    return "io_destroy";
  default:
    return "chattr";
  }
}

bool fd_op_takes_field(OpKind kind, const std::string& key) {
  if (key == "expect") return true;
  if (kind == OpKind::io_cancel) return key == "iocb";
  if (kind == OpKind::chattr) return key == "sync";
  return false;
}

void build_fd_op(const J& x, const ScenarioSpec& spec, Operation& op, Errors& errors) {
  if (op.kind == OpKind::chattr && spec.fs.model == FsModel::vfat)
    errors.add(op.where, "chattr is not modelled for the vfat model (FAT has no FS_IOC_SETFLAGS: "
                         "-ENOTTY)");
  if (op.kind == OpKind::io_cancel) {
    if (const J* v = field(x, "iocb"))
      op.iocb = as_u64(*v);
    else
      errors.add(op.where, "missing required field \"iocb\" (io_cancel names the AIO op it "
                           "cancels: its index in the task's ops)");
  } else if (op.kind == OpKind::chattr) {
    if (const J* v = field(x, "sync"))
      op.sync = v->get<bool>();
    else
      errors.add(op.where, "missing required field \"sync\" (chattr sets (+S) or clears (-S) the "
                           "inode's S_SYNC flag)");
  }
  const J* e = field(x, "expect");
  if (!e) return;
  const std::string eat = op.where + "/expect";
  if (const J* v = field(*e, "ret")) op.expect.ret = ret_set(*v, eat + "/ret", errors);
  for (const char* k : {"data", "data_fnv1a", "submit_ret", "i_size"})
    if (field(*e, k))
      errors.add(eat + "/" + k, std::string("a ") + fd_op_name(op.kind) +
                                    " op has no user buffer and is never AIO: it takes only a "
                                    "\"ret\" expectation");
}

J fd_op_json(const Operation& op) {
  J x = J::object();
  x["op"] = fd_op_name(op.kind);
  if (op.kind == OpKind::io_cancel) x["iocb"] = op.iocb;
  if (op.kind == OpKind::chattr) x["sync"] = op.sync;
  return x;
}

namespace {

bool is_aio_io(const Operation& op) {
  return (op.kind == OpKind::pread || op.kind == OpKind::pwrite) && op.aio;
}

// Why op `k` of `ops` cannot be in flight at op `i` (k < i), or empty.
std::string why_not_in_flight(const std::vector<Operation>& ops, size_t k, size_t i) {
  for (size_t j = k + 1; j < i; ++j) {
    if (ops[j].kind == OpKind::reap && ops[j].events == 0)
      return "the reap at " + ops[j].where + " waits for it before";
    if (ops[j].kind == OpKind::io_destroy)
      return "the io_destroy at " + ops[j].where + " waits for it before";
  }
  return "";
}

} // namespace

void check_io_cancels(const ScenarioSpec& spec, Errors& errors) {
  for (const Task& t : spec.tasks)
    for (size_t i = 0; i < t.ops.size(); ++i) {
      const Operation& op = t.ops[i];
      if (op.kind != OpKind::io_cancel) continue;
      const std::string at = op.where + "/iocb";
      if (op.iocb >= i || !is_aio_io(t.ops[op.iocb])) {
        errors.add(at, "io_cancel names op " + std::to_string(op.iocb) + " of task " +
                           qstr(t.name) +
                           ", which is not an earlier AIO pread or pwrite of the task (ops are "
                           "counted from 0, repeat blocks expanded)");
        continue;
      }
      if (const std::string why = why_not_in_flight(t.ops, op.iocb, i); !why.empty())
        errors.add(at, "io_cancel names op " + std::to_string(op.iocb) + " of task " +
                           qstr(t.name) + ", which cannot be in flight any more: " + why);
    }
}

} // namespace diosim::scenario::detail
