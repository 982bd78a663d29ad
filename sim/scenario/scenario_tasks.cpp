// SPDX-License-Identifier: GPL-2.0-only
// Parsing /tasks: each task's operations (with their iovecs and expectations), repeat blocks
// expanded in place, and the checks that span tasks: AIO contexts and barriers.
#include "sim/scenario/parse_util.hpp"
#include "sim/scenario/scenario_files.hpp"
#include "sim/scenario/scenario_ops_fd.hpp"
#include "sim/scenario/scenario_ops_inode.hpp"

#include <algorithm>
#include <set>

namespace diosim::scenario::detail {

namespace {

// Operations in a scenario after repeat blocks are expanded: each costs memory per execution.
constexpr uint64_t kMaxOperations = 100000;

struct OpContext {
  const ScenarioSpec& spec;
  const BufferIndex& buffer_index;
  Errors& errors;
  uint64_t& total_ops; // operations so far, all tasks, expanded
};

std::string buffer_names(const OpContext& c) {
  std::string s;
  for (size_t i = 0; i < c.spec.buffers.size(); ++i)
    if (c.buffer_index.at(c.spec.buffers[i].name) == i)
      s += (s.empty() ? "" : ", ") + c.spec.buffers[i].name;
  return s.empty() ? std::string("none are defined") : "buffers: " + s;
}

// The op's iovecs; returns their total length.
uint64_t build_iov(const J& list, Operation& op, const OpContext& c) {
  uint64_t total = 0;
  for (size_t k = 0; k < list.size(); ++k) {
    const J& s = list[k];
    const std::string sat = op.where + "/iov/" + std::to_string(k);
    IoVec v;
    v.buffer = s["buffer"].get<std::string>();
    if (const J* o = field(s, "offset")) v.offset = as_u64(*o);
    v.len = as_u64(s["len"]);
    total += v.len;
    auto it = c.buffer_index.find(v.buffer);
    if (it == c.buffer_index.end()) {
      c.errors.add(sat + "/buffer",
                   "unknown buffer " + qstr(v.buffer) + " (" + buffer_names(c) + ")");
    } else {
      const Buffer& b = c.spec.buffers[it->second];
      if (v.offset + v.len > b.size)
        c.errors.add(sat, "offset " + std::to_string(v.offset) + " + len " + std::to_string(v.len) +
                              " = " + std::to_string(v.offset + v.len) +
                              " is beyond the end of buffer " + qstr(b.name) + " (size " +
                              std::to_string(b.size) + ")");
    }
    op.iov.push_back(std::move(v));
  }
  return total;
}

// "iter": ubuf takes one segment; kernel memory (bvec, kvec) is always mapped, so its buffers
// may not have unmapped pages.
void build_iter(const J& v, Operation& op, const OpContext& c) {
  const std::string t = v.get<std::string>();
  op.iter = t == "ubuf"   ? IterKind::ubuf
            : t == "bvec" ? IterKind::bvec
            : t == "kvec" ? IterKind::kvec
                          : IterKind::iovec;
  if (op.iter == IterKind::ubuf && op.iov.size() != 1)
    c.errors.add(op.where + "/iter", "an ubuf iterator (ITER_UBUF) has exactly one segment; this "
                                     "op has " +
                                         std::to_string(op.iov.size()) + " (use iovec)");
  if (op.iter != IterKind::bvec && op.iter != IterKind::kvec) return;
  for (size_t k = 0; k < op.iov.size(); ++k) {
    auto it = c.buffer_index.find(op.iov[k].buffer);
    if (it != c.buffer_index.end() && !c.spec.buffers[it->second].unmapped_pages.empty())
      c.errors.add(op.where + "/iov/" + std::to_string(k),
                   "buffer " + qstr(op.iov[k].buffer) + " has unmapped_pages, but a " + t +
                       " iterator describes kernel memory, which is always mapped");
    if (it != c.buffer_index.end() && c.spec.buffers[it->second].mmap)
      c.errors.add(op.where + "/iov/" + std::to_string(k), "buffer " + qstr(op.iov[k].buffer) +
                                                               " maps a file, but a " + t +
                                                               " iterator describes kernel memory");
  }
}

// expect.data: pread only, each allowed byte pattern as long as the iovecs together.
void build_expect_data(const J& v, const std::string& eat, const std::string& kind, uint64_t total,
                       Operation& op, Errors& errors) {
  op.expect.data = one_of_set<ByteRuns>(v, eat + "/data", [&](const J& x, const std::string& at) {
    std::optional<ByteRuns> r = runs_of(x, at, errors);
    const bool reads = op.kind == OpKind::pread || op.kind == OpKind::mmap_read;
    if (r && reads && r->size() != total)
      errors.add(at, "byte runs hold " + std::to_string(r->size()) +
                         " bytes, expected the iovecs' total length " + std::to_string(total));
    return r;
  });
  if (op.kind != OpKind::pread && op.kind != OpKind::mmap_read)
    errors.add(eat + "/data", "expect.data applies to pread and mmap_read only; a " + kind +
                                  " does not change its buffers");
}

void build_op_expect(const J& e, const std::string& kind, uint64_t total, Operation& op,
                     Errors& errors) {
  const std::string eat = op.where + "/expect";
  if (const J* v = field(e, "ret")) op.expect.ret = ret_set(*v, eat + "/ret", errors);
  if (const J* v = field(e, "submit_ret"))
    op.expect.submit_ret = ret_set(*v, eat + "/submit_ret", errors);
  if (op.expect.submit_ret && !op.aio)
    errors.add(eat + "/submit_ret", "submit_ret applies to AIO operations only (\"aio\": true)");
  if (const J* v = field(e, "data")) build_expect_data(*v, eat, kind, total, op, errors);
  if (const J* v = field(e, "data_fnv1a")) op.expect.data_fnv1a = v->get<std::string>();
  if (const J* v = field(e, "i_size")) op.expect.i_size = int_set(*v, eat + "/i_size");
}

// The fields each kind of operation takes besides "op"; the schema lists their union.
bool takes_field(OpKind kind, const std::string& key) {
  if (key == "file") return op_has_file(kind); // (scenario_files)
  static const std::set<std::string> io = {"offset", "iov",  "aio",    "dsync",
                                           "nowait", "iter", "append", "expect"};
  if (is_inode_op(kind)) return inode_op_takes_field(kind, key);
  if (is_fd_op(kind)) return fd_op_takes_field(kind, key);
  if (is_mmap_op(kind)) return key == "offset" || key == "iov" || key == "expect";
  if (kind == OpKind::memset) return key == "iov" || key == "fill" || key == "expect";
  switch (kind) {
  case OpKind::reap:
    return key == "events";
  case OpKind::barrier:
    return key == "name";
  case OpKind::fcntl:
    return key == "o_direct";
  default:
    return io.count(key) != 0;
  }
}

void check_fields(const J& x, const Operation& op, const std::string& kind, Errors& errors) {
  for (auto m = x.begin(); m != x.end(); ++m)
    if (m.key() != "op" && !takes_field(op.kind, m.key()))
      errors.add(op.where, "a " + kind + " op does not take " + qstr(m.key()));
}

void build_io_fields(const J& x, const std::string& kind, Operation& op, const OpContext& c) {
  if (const J* v = field(x, "offset")) op.offset = as_u64(*v);
  if (const J* v = field(x, "aio")) op.aio = v->get<bool>();
  if (const J* v = field(x, "dsync")) op.dsync = v->get<bool>();
  if (const J* v = field(x, "nowait")) op.nowait = v->get<bool>();
  if (const J* v = field(x, "append")) op.append = v->get<bool>();
  if (op.append && op.kind != OpKind::pwrite)
    c.errors.add(op.where + "/append", "append (RWF_APPEND) applies to pwrite only");
  uint64_t total = 0;
  if (const J* list = field(x, "iov"))
    total = build_iov(*list, op, c);
  else
    c.errors.add(op.where, "missing required field \"iov\" (" + kind + " needs one)");
  if (const J* v = field(x, "iter")) build_iter(*v, op, c);
  if (is_mmap_op(op.kind) && op.iov.size() > 1)
    c.errors.add(op.where + "/iov", "an " + kind +
                                        " is one memcpy to or from the mapping: it takes exactly "
                                        "one iovec segment, not " +
                                        std::to_string(op.iov.size()));
  if (op.offset + total > kMaxFileBytes)
    c.errors.add(op.where + "/offset", "the operation ends beyond the largest file offset 2^62");
  if (const J* e = field(x, "expect")) build_op_expect(*e, kind, total, op, c.errors);
}

// memset: its iovecs and fill. A store to an unmapped page would kill the task (SIGSEGV), which
// the simulator does not model: the range must be mapped.
void build_memset(const J& x, Operation& op, const OpContext& c) {
  if (const J* v = field(x, "fill"))
    op.fill = as_byte(*v);
  else
    c.errors.add(op.where, "missing required field \"fill\" (the byte a memset stores)");
  if (const J* list = field(x, "iov"))
    build_iov(*list, op, c);
  else
    c.errors.add(op.where, "missing required field \"iov\" (the memory a memset stores to)");
  const uint64_t ps = c.spec.geometry.page_size;
  for (size_t k = 0; k < op.iov.size(); ++k) {
    auto it = c.buffer_index.find(op.iov[k].buffer);
    if (it == c.buffer_index.end() || !ps) continue;
    const Buffer& b = c.spec.buffers[it->second];
    const uint64_t first = b.address + op.iov[k].offset, last = first + op.iov[k].len;
    const uint64_t base = b.address / ps * ps; // unmapped_pages count from this page
    for (uint64_t page : b.unmapped_pages)
      if (first < base + (page + 1) * ps && base + page * ps < last)
        c.errors.add(op.where + "/iov/" + std::to_string(k),
                     "memset stores to page " + std::to_string(page) + " of buffer " +
                         qstr(b.name) +
                         ", which is unmapped (a store there is a SIGSEGV, not modelled)");
  }
  if (const J* e = field(x, "expect")) build_op_expect(*e, "memset", 0, op, c.errors);
}

// One operation that is not a repeat block.
Operation build_op(const J& x, const std::string& where, const OpContext& c) {
  Operation op;
  op.where = where;
  const std::string kind = x["op"].get<std::string>();
  op.kind = kind == "reap"         ? OpKind::reap
            : kind == "barrier"    ? OpKind::barrier
            : kind == "pwrite"     ? OpKind::pwrite
            : kind == "fcntl"      ? OpKind::fcntl
            : kind == "mmap_read"  ? OpKind::mmap_read
            : kind == "mmap_write" ? OpKind::mmap_write
            : kind == "memset"
                ? OpKind::memset
                : inode_op_kind(kind).value_or(fd_op_kind(kind).value_or(OpKind::pread));
  check_fields(x, op, kind, c.errors);
  if (const J* v = field(x, "file")) op.file = v->get<std::string>();
  if (op.kind == OpKind::reap) {
    if (const J* v = field(x, "events")) op.events = as_u64(*v);
  } else if (op.kind == OpKind::fcntl) {
    if (const J* v = field(x, "o_direct"))
      op.o_direct = v->get<bool>();
    else
      c.errors.add(op.where, "missing required field \"o_direct\" (an fcntl sets it, F_SETFL)");
  } else if (op.kind == OpKind::barrier) {
    if (const J* v = field(x, "name"))
      op.barrier = v->get<std::string>();
    else
      c.errors.add(op.where, "missing required field \"name\" (a barrier needs one)");
  } else if (is_inode_op(op.kind)) {
    build_inode_op(x, c.spec, op, c.errors);
  } else if (is_fd_op(op.kind)) {
    build_fd_op(x, c.spec, op, c.errors);
  } else if (op.kind == OpKind::memset) {
    build_memset(x, op, c);
  } else {
    build_io_fields(x, kind, op, c);
  }
  return op;
}

void append_ops(const J& list, const std::string& at, const OpContext& c,
                std::vector<Operation>& out);

// {"op": "repeat", "count": N, "ops": [...]}: the block is parsed once (its problems reported
// once) and copied N times; each copy's `where` says which repetition it is.
void append_repeat(const J& x, const std::string& where, const OpContext& c,
                   std::vector<Operation>& out) {
  for (auto m = x.begin(); m != x.end(); ++m)
    if (m.key() != "op" && m.key() != "count" && m.key() != "ops")
      c.errors.add(where, "a repeat op does not take " + qstr(m.key()));
  const J* count_field = field(x, "count");
  const J* ops = field(x, "ops");
  if (!count_field || !ops) {
    c.errors.add(where, "a repeat op needs \"count\" and \"ops\"");
    return;
  }
  std::vector<Operation> block;
  append_ops(*ops, where + "/ops/", c, block);
  const uint64_t count = as_u64(*count_field);
  const uint64_t before = c.total_ops - std::min<uint64_t>(c.total_ops, block.size());
  if (c.total_ops > kMaxOperations || block.size() * count > kMaxOperations - before) {
    if (c.total_ops <= kMaxOperations) // an inner block already said so
      c.errors.add(where + "/count", "the block of " + std::to_string(block.size()) +
                                         " operations repeated " + std::to_string(count) +
                                         " times takes the scenario beyond " +
                                         std::to_string(kMaxOperations) + " operations");
    c.total_ops = kMaxOperations + 1; // no further expansion
    return;
  }
  c.total_ops = before + block.size() * count;
  for (uint64_t k = 1; k <= count; ++k)
    for (const Operation& op : block) {
      out.push_back(op);
      out.back().where += " (repeat " + std::to_string(k) + " of " + std::to_string(count) + ")";
    }
}

void append_ops(const J& list, const std::string& at, const OpContext& c,
                std::vector<Operation>& out) {
  for (size_t j = 0; j < list.size(); ++j) {
    const std::string where = at + std::to_string(j);
    if (list[j]["op"].get<std::string>() == "repeat") {
      append_repeat(list[j], where, c, out);
      continue;
    }
    out.push_back(build_op(list[j], where, c));
    ++c.total_ops;
  }
}

// Every task that names a barrier must reach it equally often, and at least two tasks must name
// it: otherwise some task would wait there forever (or the barrier orders nothing: a typo).
void check_barriers(const ScenarioSpec& spec, Errors& errors) {
  std::map<std::string, std::map<size_t, uint64_t>> reached; // name -> task -> times
  std::map<std::string, std::string> first_where;
  for (size_t t = 0; t < spec.tasks.size(); ++t)
    for (const Operation& op : spec.tasks[t].ops)
      if (op.kind == OpKind::barrier) {
        ++reached[op.barrier][t];
        first_where.emplace(op.barrier, op.where);
      }
  for (const auto& [name, by_task] : reached) {
    if (by_task.size() < 2) {
      errors.add(first_where[name],
                 "barrier " + qstr(name) + " is named by one task only: it would order nothing");
      continue;
    }
    const auto& [t0, n0] = *by_task.begin();
    for (const auto& [t, n] : by_task)
      if (n != n0)
        errors.add(first_where[name], "barrier " + qstr(name) + " is reached " +
                                          std::to_string(n0) + " times by task " +
                                          qstr(spec.tasks[t0].name) + " but " + std::to_string(n) +
                                          " times by task " + qstr(spec.tasks[t].name) +
                                          ": a task would wait there forever");
  }
}

// A reap that waits for more events than its context ever receives would wait forever.
void check_reap_events(const ScenarioSpec& spec, Errors& errors) {
  std::map<std::string, uint64_t> submitted, demanded; // per context
  for (const Task& t : spec.tasks)
    for (const Operation& op : t.ops)
      if ((op.kind == OpKind::pread || op.kind == OpKind::pwrite) && op.aio)
        ++submitted[t.context_name()];
  for (const Task& t : spec.tasks)
    for (const Operation& op : t.ops) {
      if (op.kind != OpKind::reap || !op.events) continue;
      uint64_t& d = demanded[t.context_name()];
      d += op.events;
      if (d > submitted[t.context_name()])
        errors.add(op.where + "/events", "the reaps of AIO context " + qstr(t.context_name()) +
                                             " wait for " + std::to_string(d) +
                                             " events up to here, but its tasks submit only " +
                                             std::to_string(submitted[t.context_name()]) +
                                             " AIO operations: the reap would wait forever");
    }
}

// Tasks that share an fd open it once: they must agree on its initial O_DIRECT flag.
void check_shared_fds(const ScenarioSpec& spec, Errors& errors) {
  std::map<std::string, size_t> first; // fd -> first task naming it
  for (size_t t = 0; t < spec.tasks.size(); ++t) {
    const Task& task = spec.tasks[t];
    auto [it, fresh] = first.emplace(task.fd_name(), t);
    if (!fresh && spec.tasks[it->second].file != task.file)
      errors.add("/tasks/" + std::to_string(t) + "/file",
                 "task " + qstr(task.name) + " shares fd " + qstr(task.fd_name()) + " with task " +
                     qstr(spec.tasks[it->second].name) +
                     " but names another file: an fd is open on one file");
    if (!fresh && spec.tasks[it->second].o_append != task.o_append)
      errors.add("/tasks/" + std::to_string(t) + "/o_append",
                 "task " + qstr(task.name) + " opens fd " + qstr(task.fd_name()) +
                     (task.o_append ? " with" : " without") + " O_APPEND, but task " +
                     qstr(spec.tasks[it->second].name) + " shares it and says the opposite");
    if (fresh || spec.tasks[it->second].o_direct == task.o_direct) continue;
    errors.add("/tasks/" + std::to_string(t) + "/o_direct",
               "task " + qstr(task.name) + " opens fd " + qstr(task.fd_name()) +
                   (task.o_direct ? " with" : " without") + " O_DIRECT, but task " +
                   qstr(spec.tasks[it->second].name) + " shares it and says the opposite");
  }
}

// RWF_NOWAIT on buffered I/O (-EINVAL for writes, -EAGAIN on a miss for reads in Linux 6.1) is
// not modelled: an fd that may be without O_DIRECT when such an op is submitted is refused.
void check_buffered_nowait(const ScenarioSpec& spec, Errors& errors) {
  std::set<std::string> buffered; // fds that are, or may become, without O_DIRECT
  for (const Task& t : spec.tasks) {
    if (!t.o_direct) buffered.insert(t.fd_name());
    for (const Operation& op : t.ops)
      if (op.kind == OpKind::fcntl && !op.o_direct) buffered.insert(t.fd_name());
  }
  for (const Task& t : spec.tasks)
    for (const Operation& op : t.ops)
      if (op.nowait && buffered.count(t.fd_name()))
        errors.add(op.where + "/nowait", "nowait on fd " + qstr(t.fd_name()) +
                                             ", which is or may be without O_DIRECT: buffered "
                                             "RWF_NOWAIT is not modelled");
}

} // namespace

void build_tasks(const J& doc, ScenarioSpec& spec, const BufferIndex& buffer_index,
                 Errors& errors) {
  uint64_t total_ops = 0;
  const OpContext c{spec, buffer_index, errors, total_ops};
  std::map<std::string, size_t> task_index;
  const J& tasks = doc["tasks"];
  for (size_t i = 0; i < tasks.size(); ++i) {
    const J& t = tasks[i];
    const std::string at = "/tasks/" + std::to_string(i);
    Task task;
    if (const J* v = field(t, "name"))
      task.name = v->get<std::string>();
    else
      task.name = "task" + std::to_string(i);
    if (auto [it, fresh] = task_index.emplace(task.name, i); !fresh)
      errors.add(at + (field(t, "name") ? "/name" : ""), "task name " + qstr(task.name) +
                                                             " is already used by /tasks/" +
                                                             std::to_string(it->second));
    if (const J* v = field(t, "aio_context")) task.aio_context = v->get<std::string>();
    if (const J* v = field(t, "fd")) task.fd = v->get<std::string>();
    if (const J* v = field(t, "o_direct")) task.o_direct = v->get<bool>();
    if (const J* v = field(t, "file")) task.file = v->get<std::string>();
    if (const J* v = field(t, "o_append")) task.o_append = v->get<bool>();
    append_ops(t["ops"], at + "/ops/", c, task.ops);
    spec.tasks.push_back(std::move(task));
  }
  check_barriers(spec, errors);
  check_reap_events(spec, errors);
  check_shared_fds(spec, errors);
  check_buffered_nowait(spec, errors);
  check_file_names(spec, errors);
  check_io_cancels(spec, errors);
}

} // namespace diosim::scenario::detail
