// SPDX-License-Identifier: GPL-2.0-only
// Parsing and writing the inode operations: ftruncate {"size"}, fallocate {"offset", "len",
// "keep_size", "punch_hole"}, fsync {"datasync"}; each takes an "expect" of "ret" and "i_size"
// only (they have no user buffer).
#include "sim/scenario/scenario_ops_inode.hpp"

#include "sim/scenario/parse_util.hpp"

namespace diosim::scenario::detail {

std::optional<OpKind> inode_op_kind(const std::string& name) {
  if (name == "ftruncate") return OpKind::ftruncate;
  if (name == "fallocate") return OpKind::fallocate;
  if (name == "fsync") return OpKind::fsync;
  return std::nullopt;
}

const char* inode_op_name(OpKind kind) {
  switch (kind) {
  case OpKind::ftruncate:
    return "ftruncate";
  case OpKind::fallocate:
    return "fallocate";
  default:
    return "fsync";
  }
}

bool inode_op_takes_field(OpKind kind, const std::string& key) {
  if (key == "expect") return true;
  switch (kind) {
  case OpKind::ftruncate:
    return key == "size";
  case OpKind::fallocate:
    return key == "offset" || key == "len" || key == "keep_size" || key == "punch_hole";
  default:
    return key == "datasync";
  }
}

namespace {

void build_inode_expect(const J& e, Operation& op, Errors& errors) {
  const std::string eat = op.where + "/expect";
  if (const J* v = field(e, "ret")) op.expect.ret = ret_set(*v, eat + "/ret", errors);
  if (const J* v = field(e, "i_size")) op.expect.i_size = int_set(*v, eat + "/i_size");
  for (const char* k : {"data", "data_fnv1a", "submit_ret"})
    if (field(e, k))
      errors.add(eat + "/" + k, std::string("a ") + inode_op_name(op.kind) +
                                    " op has no user buffer and is never AIO: it takes only "
                                    "\"ret\" and \"i_size\" expectations");
}

} // namespace

void build_inode_op(const J& x, const ScenarioSpec& spec, Operation& op, Errors& errors) {
  const std::string name = inode_op_name(op.kind);
  if (spec.fs.model == FsModel::vfat && op.kind != OpKind::fsync)
    errors.add(op.where, name + " is not modelled for the vfat model (fat_setattr / "
                                "fat_fallocate expand the file through the buffered path)");
  if (op.kind == OpKind::ftruncate) {
    if (const J* v = field(x, "size"))
      op.length = as_u64(*v);
    else
      errors.add(op.where, "missing required field \"size\" (ftruncate needs one)");
  } else if (op.kind == OpKind::fallocate) {
    if (const J* v = field(x, "offset")) op.offset = as_u64(*v);
    if (const J* v = field(x, "len"))
      op.length = as_u64(*v);
    else
      errors.add(op.where, "missing required field \"len\" (fallocate needs one)");
    if (const J* v = field(x, "keep_size")) op.keep_size = v->get<bool>();
    if (const J* v = field(x, "punch_hole")) op.punch_hole = v->get<bool>();
  } else if (const J* v = field(x, "datasync")) {
    op.datasync = v->get<bool>();
  }
  if (op.offset + op.length > kMaxFileBytes)
    errors.add(op.where, name + " reaches beyond the largest file offset 2^62");
  if (const J* e = field(x, "expect")) build_inode_expect(*e, op, errors);
}

J inode_op_json(const Operation& op) {
  J x = J::object();
  x["op"] = inode_op_name(op.kind);
  if (op.kind == OpKind::ftruncate) x["size"] = op.length;
  if (op.kind == OpKind::fallocate) {
    if (op.offset) x["offset"] = op.offset;
    x["len"] = op.length;
    if (op.keep_size) x["keep_size"] = true;
    if (op.punch_hole) x["punch_hole"] = true;
  }
  if (op.datasync) x["datasync"] = true;
  return x;
}

} // namespace diosim::scenario::detail
