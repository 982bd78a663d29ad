// SPDX-License-Identifier: GPL-2.0-only
// ScenarioSpec -> scenario file text. Builds an ordered JSON document (fields in the order of
// docs/SCENARIOS.md, defaults left out), then prints it: containers that fit on one line within
// kLineWidth columns stay on one line, others break with a 2-space indent.
#include "sim/scenario/scenario_writer.hpp"

#include "sim/scenario/scenario_files.hpp"
#include "sim/scenario/scenario_ops_fd.hpp"
#include "sim/scenario/scenario_ops_inode.hpp"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace diosim::scenario {

namespace {

using J = nlohmann::ordered_json;

constexpr size_t kLineWidth = 100;

struct ErrnoName {
  const char* name;
  int value;
};
// The names the schema accepts (docs/SCENARIOS.md "Errno names"), plus EIOCBQUEUED for
// submit_ret.
constexpr ErrnoName kErrnos[] = {{"EPERM", 1},    {"EIO", 5},     {"EBADF", 9},
                                 {"EAGAIN", 11},  {"ENOMEM", 12}, {"EFAULT", 14},
                                 {"ENOTBLK", 15}, {"EBUSY", 16},  {"EINVAL", 22},
                                 {"EFBIG", 27},   {"ENOSPC", 28}, {"EOPNOTSUPP", 95}};
constexpr int kEIOCBQUEUED = 529;

// Name of the negative errno `value` (-5 -> "EIO"), or nullptr.
const char* errno_name(int64_t value) {
  for (const auto& e : kErrnos)
    if (value == -e.value) return e.name;
  return nullptr;
}

std::string errno_field(int64_t value, const char* what) {
  if (const char* n = errno_name(value)) return n;
  throw std::invalid_argument(std::string(what) + ": " + std::to_string(value) +
                              " is not the negative of an errno a scenario file can name");
}

// An expected return value: a negative errno by name, anything else as a number.
J ret_value(int64_t v) {
  if (const char* n = errno_name(v)) return std::string("-") + n;
  if (v == -kEIOCBQUEUED) return "-EIOCBQUEUED";
  return v;
}

// A plain value for a set of one, {"one_of": [...]} otherwise (parse reads both back equal).
template <typename T, typename Write> J one_of_json(const OneOf<T>& set, Write write) {
  if (set.values.empty())
    throw std::invalid_argument("expectation: an empty set of allowed values");
  if (set.values.size() == 1) return write(set.values[0]);
  J list = J::array();
  for (const T& v : set.values)
    list.push_back(write(v));
  J j = J::object();
  j["one_of"] = std::move(list);
  return j;
}

bool printable(unsigned c) {
  return c >= 0x21 && c <= 0x7e;
}

std::string byte_text(uint8_t b, const char* what) {
  if (b == 0) return "zero";
  if (printable(b)) return std::string(1, static_cast<char>(b));
  throw std::invalid_argument(
      std::string(what) + ": byte 0x" + std::to_string(b) +
      " is neither printable ASCII nor zero; a scenario file cannot hold it");
}

uint64_t extents_end(const ScenarioSpec& s) {
  uint64_t end = 0;
  for (const Extent& e : s.extents)
    end = std::max(end, e.disk_block + e.blocks);
  for (const FileSpec& f : s.files)
    for (const Extent& e : f.extents)
      end = std::max(end, e.disk_block + e.blocks);
  return end;
}

// ---- printing --------------------------------------------------------------------------------

std::string scalar(const J& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

// One line: {"a": 1, "b": [1, 2]}.
std::string inline_text(const J& v) {
  if (v.is_object()) {
    if (v.empty()) return "{}";
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ", ";
      first = false;
      out += scalar(J(it.key())) + ": " + inline_text(it.value());
    }
    return out + "}";
  }
  if (v.is_array()) {
    if (v.empty()) return "[]";
    std::string out = "[";
    bool first = true;
    for (const J& x : v) {
      if (!first) out += ", ";
      first = false;
      out += inline_text(x);
    }
    return out + "]";
  }
  return scalar(v);
}

// `v` printed at `indent`, its first line preceded by `lead` characters already on the line
// (the key); the top-level document always breaks.
void print(const J& v, size_t indent, size_t lead, bool top, std::string& out) {
  if (!v.is_object() && !v.is_array()) {
    out += scalar(v);
    return;
  }
  const std::string one = inline_text(v);
  if (!top && (v.empty() || indent + lead + one.size() <= kLineWidth)) {
    out += one;
    return;
  }
  const std::string pad(indent + 2, ' ');
  out += v.is_object() ? "{\n" : "[\n";
  size_t i = 0;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it, ++i) {
      const std::string key = scalar(J(it.key())) + ": ";
      out += pad + key;
      print(it.value(), indent + 2, key.size() + 1, false, out);
      out += i + 1 < v.size() ? ",\n" : "\n";
    }
  } else {
    for (const J& x : v) {
      out += pad;
      print(x, indent + 2, 1, false, out);
      out += ++i < v.size() ? ",\n" : "\n";
    }
  }
  out += std::string(indent, ' ') + (v.is_object() ? "}" : "]");
}

// ---- building --------------------------------------------------------------------------------

J explore_faults_json(const ExploreFaults& f) {
  J list = J::array();
  if (f.bio_error) list.push_back("bio_error");
  if (f.get_block_error) list.push_back("get_block_error");
  if (f.user_page_fault) list.push_back("user_page_fault");
  if (f.dio_alloc) list.push_back("dio_alloc");
  if (f.dio_done_wq_alloc) list.push_back("dio_done_wq_alloc");
  if (f.fs_block_alloc) list.push_back("fs_block_alloc");
  if (f.writeback_error) list.push_back("writeback_error");
  return list;
}

J geometry_json(const Geometry& g) {
  const Geometry d;
  J j = J::object();
  if (g.page_size != d.page_size) j["page_size"] = g.page_size;
  if (g.fs_block_size != d.fs_block_size) j["fs_block_size"] = g.fs_block_size;
  if (g.logical_block_size != d.logical_block_size) j["logical_block_size"] = g.logical_block_size;
  if (g.disk_blocks != d.disk_blocks) j["disk_blocks"] = g.disk_blocks;
  if (g.dio_pages != d.dio_pages) j["dio_pages"] = g.dio_pages;
  if (g.bio_max_vecs != d.bio_max_vecs) j["bio_max_vecs"] = g.bio_max_vecs;
  if (g.reap_threshold != d.reap_threshold) j["reap_threshold"] = g.reap_threshold;
  if (g.plug_limit != d.plug_limit) j["plug_limit"] = g.plug_limit;
  if (g.cpus != d.cpus) j["cpus"] = g.cpus;
  return j;
}

J filesystem_json(const ScenarioSpec& s) {
  const Filesystem& f = s.fs;
  const Filesystem d;
  J j = J::object();
  if (f.model != d.model)
    j["model"] = f.model == FsModel::extent  ? "extent"
                 : f.model == FsModel::ocfs2 ? "ocfs2"
                 : f.model == FsModel::vfat  ? "vfat"
                                             : "ext2";
  if (f.max_blocks_per_map != d.max_blocks_per_map) j["max_blocks_per_map"] = f.max_blocks_per_map;
  if (!f.boundary_blocks.empty()) j["boundary_blocks"] = f.boundary_blocks;
  if (f.defer_completion) j["defer_completion"] = true;
  if (f.set_private) j["set_private"] = true;
  if (f.error_at_block) {
    J e = J::object();
    e["block"] = *f.error_at_block;
    if (f.error_errno != d.error_errno)
      e["errno"] = errno_field(f.error_errno, "get_block_error.errno");
    j["get_block_error"] = std::move(e);
  }
  if (f.end_io_error) j["end_io_error"] = errno_field(f.end_io_error, "end_io_error");
  // 0 in a spec built by hand also means "after the last extent" (SimFilesystem reads it so).
  if (f.first_free_block && f.first_free_block != extents_end(s))
    j["first_free_block"] = f.first_free_block;
  if (!f.used_blocks.empty()) {
    J list = J::array();
    for (const DiskRun& u : f.used_blocks)
      list.push_back(J{{"disk_block", u.disk_block}, {"blocks", u.blocks}});
    j["used_blocks"] = std::move(list);
  }
  if (f.model == FsModel::ocfs2 && !f.unwritten) j["unwritten"] = false; // a file defaults to true
  if (f.serialise_unaligned_aio) j["serialise_unaligned_aio"] = true;
  if (f.model == FsModel::vfat && f.cluster_size != s.geometry.fs_block_size)
    j["cluster_size"] = f.cluster_size;
  return j;
}

J disk_json(const Disk& k) {
  const Disk d;
  J j = J::object();
  if (k.latency_ns_min != d.latency_ns_min || k.latency_ns_max != d.latency_ns_max) {
    J l = J::object();
    if (k.latency_ns_min != d.latency_ns_min) l["min"] = k.latency_ns_min;
    if (k.latency_ns_max != d.latency_ns_max) l["max"] = k.latency_ns_max;
    j["latency_ns"] = std::move(l);
  }
  if (k.queue_depth != d.queue_depth) j["queue_depth"] = k.queue_depth;
  if (k.stale_byte != d.stale_byte)
    j["stale_byte"] = byte_text(static_cast<uint8_t>(k.stale_byte), "disk.stale_byte");
  if (!k.errors.empty()) {
    J list = J::array();
    for (const DiskErrorRule& r : k.errors) {
      J e = J::object();
      switch (r.kind) {
      case DiskErrorRule::Kind::bio_ordinal:
        e["bio"] = r.bio;
        break;
      case DiskErrorRule::Kind::sectors:
        e["sectors"] = J::array({r.sector_first, r.sector_last});
        break;
      case DiskErrorRule::Kind::probability:
        e["probability"] = r.probability;
        break;
      }
      if (r.again) e["status"] = "AGAIN";
      list.push_back(std::move(e));
    }
    j["errors"] = std::move(list);
  }
  return j;
}

J file_json(const ScenarioSpec& s) {
  J j = J::object();
  if (s.i_size) j["i_size"] = s.i_size;
  if (!s.extents.empty()) {
    J list = J::array();
    for (const Extent& e : s.extents) {
      J x = J::object();
      x["file_block"] = e.file_block;
      x["disk_block"] = e.disk_block;
      x["blocks"] = e.blocks;
      if (e.data) x["data"] = byte_runs_text(*e.data);
      list.push_back(std::move(x));
    }
    j["extents"] = std::move(list);
  }
  if (!s.page_cache.empty()) {
    J list = J::array();
    for (const CachedPage& p : s.page_cache) {
      J x = J::object();
      x["index"] = p.index;
      if (p.dirty) x["dirty"] = true;
      if (p.busy) x["busy"] = true;
      if (p.writeback_error) x["writeback_error"] = true;
      if (p.data) x["data"] = byte_runs_text(*p.data);
      list.push_back(std::move(x));
    }
    j["page_cache"] = std::move(list);
  }
  return j;
}

// A file's end expectations ("expect" at the top level, or in a "files" entry).
J file_expect_json(const std::optional<OneOf<int64_t>>& i_size,
                   const std::vector<FileExpect>& contents) {
  J ex = J::object();
  if (i_size) ex["i_size"] = one_of_json(*i_size, [](int64_t v) { return J(v); });
  if (!contents.empty()) {
    J list = J::array();
    for (const FileExpect& f : contents) {
      J x = J::object();
      x["offset"] = f.offset;
      x["data"] = byte_runs_text(f.data);
      list.push_back(std::move(x));
    }
    ex["file"] = std::move(list);
  }
  return ex;
}

// "files": each file as the default file is written (file_json on its view), plus "expect".
J files_json(const ScenarioSpec& s) {
  J files = J::object();
  for (const FileSpec& f : s.files) {
    ScenarioSpec one;
    one.i_size = f.i_size;
    one.extents = f.extents;
    one.page_cache = f.page_cache;
    J x = file_json(one);
    if (J ex = file_expect_json(f.expect_i_size, f.expect_file); !ex.empty())
      x["expect"] = std::move(ex);
    files[f.name] = std::move(x);
  }
  return files;
}

J buffers_json(const std::vector<Buffer>& buffers) {
  J list = J::array();
  for (const Buffer& b : buffers) {
    J x = J::object();
    x["name"] = b.name;
    x["address"] = b.address;
    x["size"] = b.size;
    if (b.fill != Buffer{}.fill) x["fill"] = byte_text(b.fill, "buffer fill");
    if (!b.unmapped_pages.empty()) x["unmapped_pages"] = b.unmapped_pages;
    if (b.mmap) {
      J m = J::object();
      m["file"] = b.mmap->file;
      if (b.mmap->offset) m["offset"] = b.mmap->offset;
      if (b.mmap->private_mapping) m["private"] = true;
      x["mmap"] = std::move(m);
    }
    list.push_back(std::move(x));
  }
  return list;
}

J op_expect_json(const Operation& op, J x); // adds op.expect to x

J op_json(const Operation& op) {
  J x = J::object();
  if (is_inode_op(op.kind) || is_fd_op(op.kind)) {
    J y = is_inode_op(op.kind) ? detail::inode_op_json(op) : detail::fd_op_json(op);
    if (op_has_file(op) && !op.file.empty()) y["file"] = op.file;
    return op_expect_json(op, std::move(y));
  }
  x["op"] = op.kind == OpKind::reap         ? "reap"
            : op.kind == OpKind::barrier    ? "barrier"
            : op.kind == OpKind::pwrite     ? "pwrite"
            : op.kind == OpKind::fcntl      ? "fcntl"
            : op.kind == OpKind::mmap_read  ? "mmap_read"
            : op.kind == OpKind::mmap_write ? "mmap_write"
            : op.kind == OpKind::memset     ? "memset"
                                            : "pread";
  if (op_has_file(op) && !op.file.empty()) x["file"] = op.file;
  if (op.kind == OpKind::fcntl) {
    x["o_direct"] = op.o_direct;
    return x;
  }
  if (op.kind == OpKind::reap) {
    if (op.events) x["events"] = op.events;
    return x;
  }
  if (op.kind == OpKind::barrier) {
    x["name"] = op.barrier;
    return x;
  }
  if (op.offset) x["offset"] = op.offset;
  J iov = J::array();
  for (const IoVec& v : op.iov) {
    J seg = J::object();
    seg["buffer"] = v.buffer;
    if (v.offset) seg["offset"] = v.offset;
    seg["len"] = v.len;
    iov.push_back(std::move(seg));
  }
  x["iov"] = std::move(iov);
  if (op.kind == OpKind::memset) x["fill"] = byte_text(op.fill, "memset fill");
  if (op.aio) x["aio"] = true;
  if (op.dsync) x["dsync"] = true;
  if (op.nowait) x["nowait"] = true;
  if (op.iter != IterKind::iovec) x["iter"] = iter_kind_name(op.iter);
  if (op.append) x["append"] = true;
  return op_expect_json(op, std::move(x));
}

J op_expect_json(const Operation& op, J x) {
  const Expect& e = op.expect;
  J ex = J::object();
  auto plain = [](int64_t v) { return J(v); };
  if (e.ret) ex["ret"] = one_of_json(*e.ret, ret_value);
  if (e.data)
    ex["data"] = one_of_json(*e.data, [](const ByteRuns& r) { return J(byte_runs_text(r)); });
  if (e.data_fnv1a) ex["data_fnv1a"] = *e.data_fnv1a;
  if (e.i_size) ex["i_size"] = one_of_json(*e.i_size, plain);
  if (e.submit_ret) ex["submit_ret"] = one_of_json(*e.submit_ret, ret_value);
  if (!ex.empty()) x["expect"] = std::move(ex);
  return x;
}

J tasks_json(const std::vector<Task>& tasks) {
  J list = J::array();
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Task& t = tasks[i];
    J x = J::object();
    if (t.name != "task" + std::to_string(i)) x["name"] = t.name;
    if (!t.aio_context.empty()) x["aio_context"] = t.aio_context;
    if (!t.fd.empty()) x["fd"] = t.fd;
    if (!t.o_direct) x["o_direct"] = false;
    if (!t.file.empty()) x["file"] = t.file;
    if (t.o_append) x["o_append"] = true;
    J ops = J::array();
    for (const Operation& op : t.ops)
      ops.push_back(op_json(op));
    x["ops"] = std::move(ops);
    list.push_back(std::move(x));
  }
  return list;
}

} // namespace

std::string byte_runs_text(const ByteRuns& runs) {
  std::string out;
  uint64_t len = 0;
  uint8_t byte = 0;
  auto flush = [&]() {
    if (!len) return;
    if (!out.empty()) out.push_back(' ');
    out += std::to_string(len) + ":" + byte_text(byte, "byte runs");
  };
  for (const ByteRuns::Run& r : runs.runs) {
    if (!r.len) continue;
    if (len && r.byte == byte) {
      len += r.len;
      continue;
    }
    flush();
    len = r.len;
    byte = r.byte;
  }
  flush();
  if (out.empty())
    throw std::invalid_argument("byte runs: no bytes (a file needs at least one run)");
  return out;
}

std::string to_json(const ScenarioSpec& s) {
  J doc = J::object();
  if (!s.name.empty()) doc["name"] = s.name;
  if (!s.description.empty()) doc["description"] = s.description;
  if (s.mode != Mode::timed) doc["mode"] = "explore";
  if (s.seed != ScenarioSpec{}.seed) doc["seed"] = s.seed;
  if (s.step_cost_ns != ScenarioSpec{}.step_cost_ns) doc["step_cost_ns"] = s.step_cost_ns;
  if (s.schedule) doc["schedule"] = *s.schedule;
  if (J f = explore_faults_json(s.explore_faults); !f.empty()) doc["explore_faults"] = std::move(f);
  if (!s.alloc_failures.empty()) {
    J list = J::array();
    for (const AllocFailure& a : s.alloc_failures) {
      J x = J::object();
      x["site"] = alloc_site_name(a.site);
      x["nth"] = a.nth;
      list.push_back(std::move(x));
    }
    doc["alloc_failures"] = std::move(list);
  }
  if (J g = geometry_json(s.geometry); !g.empty()) doc["geometry"] = std::move(g);
  if (J f = filesystem_json(s); !f.empty()) doc["filesystem"] = std::move(f);
  if (J d = disk_json(s.disk); !d.empty()) doc["disk"] = std::move(d);
  if (J f = file_json(s); !f.empty()) doc["file"] = std::move(f);
  if (!s.files.empty()) doc["files"] = files_json(s);
  if (!s.buffers.empty()) doc["buffers"] = buffers_json(s.buffers);
  doc["tasks"] = tasks_json(s.tasks);
  J ex = file_expect_json(s.expect_i_size, s.expect_file);
  if (s.expect_bios) ex["bios"] = *s.expect_bios;
  if (!ex.empty()) doc["expect"] = std::move(ex);

  std::string out;
  print(doc, 0, 0, true, out);
  out.push_back('\n');
  return out;
}

} // namespace diosim::scenario
