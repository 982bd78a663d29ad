// SPDX-License-Identifier: GPL-2.0-only
#include "sim/scenario/scenario_files.hpp"

#include "sim/scenario/parse_util.hpp"

#include <regex>

namespace diosim::scenario {

size_t file_index(const ScenarioSpec& spec, const std::string& name) {
  if (name.empty() || name == kDefaultFileName) return 0;
  for (size_t k = 0; k < spec.files.size(); ++k)
    if (spec.files[k].name == name) return k + 1;
  return kNoFile;
}

const std::string& file_name(const ScenarioSpec& spec, size_t file) {
  static const std::string kDefault = kDefaultFileName;
  return file == 0 ? kDefault : spec.files.at(file - 1).name;
}

size_t file_of(const ScenarioSpec& spec, const Task& task, const Operation& op) {
  return file_index(spec, op_has_file(op) && !op.file.empty() ? op.file : task.file);
}

namespace {

// The extents of file `file` (0: the default file's).
const std::vector<Extent>& extents_of(const ScenarioSpec& spec, size_t file) {
  return file == 0 ? spec.extents : spec.files[file - 1].extents;
}

void keep_ops_of(const ScenarioSpec& spec, size_t file, FileView& v) {
  size_t index = 0;
  for (Task& t : v.spec.tasks) {
    std::vector<Operation> kept;
    for (Operation& op : t.ops) {
      if (!op_has_file(op) || file_of(spec, t, op) == file) {
        kept.push_back(std::move(op));
        v.op_of.push_back(index);
      }
      ++index;
    }
    t.ops = std::move(kept);
  }
}

// The spec without its tasks, never copying them (the world builds a view per execution).
ScenarioSpec without_tasks(const ScenarioSpec& spec) {
  ScenarioSpec s;
  s.name = spec.name;
  s.path = spec.path;
  s.geometry = spec.geometry;
  s.fs = spec.fs;
  s.disk = spec.disk;
  s.i_size = spec.i_size;
  s.extents = spec.extents;
  s.page_cache = spec.page_cache;
  s.alloc_failures = spec.alloc_failures;
  s.buffers = spec.buffers;
  s.mode = spec.mode;
  s.seed = spec.seed;
  s.step_cost_ns = spec.step_cost_ns;
  s.explore_faults = spec.explore_faults;
  s.expect_i_size = spec.expect_i_size;
  s.expect_bios = spec.expect_bios;
  s.expect_file = spec.expect_file;
  s.files = spec.files;
  return s;
}

} // namespace

FileView file_view(const ScenarioSpec& spec, size_t file, bool with_tasks) {
  FileView v;
  if (spec.files.empty()) { // its own view (invariant)
    v.spec = with_tasks ? spec : without_tasks(spec);
    if (with_tasks)
      for (const Task& t : spec.tasks)
        for (size_t n = 0; n < t.ops.size(); ++n)
          v.op_of.push_back(v.op_of.size());
    return v;
  }
  ScenarioSpec s = with_tasks ? spec : without_tasks(spec);
  s.files.clear();
  if (file != 0) {
    const FileSpec& f = spec.files.at(file - 1);
    s.i_size = f.i_size;
    s.extents = f.extents;
    s.page_cache = f.page_cache;
    s.expect_i_size = f.expect_i_size;
    s.expect_file = f.expect_file;
  }
  // A buffer that maps this file maps the view's default file; one that maps another file
  // names it as kOtherFilePrefix + name, a file the view does not hold.
  for (Buffer& b : s.buffers)
    if (b.mmap)
      b.mmap->file = file_index(spec, b.mmap->file) == file ? std::string(kDefaultFileName)
                                                            : kOtherFilePrefix + b.mmap->file;
  for (size_t k = 0; k < file_count(spec); ++k)
    if (k != file)
      for (const Extent& e : extents_of(spec, k))
        if (e.blocks) s.fs.used_blocks.push_back({e.disk_block, e.blocks});
  v.spec = std::move(s);
  if (with_tasks) keep_ops_of(spec, file, v);
  return v;
}

namespace detail {

bool valid_file_name(const std::string& name) {
  static const std::regex kName("^[A-Za-z_][A-Za-z0-9_.-]*$");
  return name != kDefaultFileName && std::regex_match(name, kName);
}

void check_disk_overlaps(const ScenarioSpec& spec, Errors& errors) {
  auto path = [&](size_t file, size_t i) {
    return (file == 0 ? std::string("/file") : "/files/" + spec.files[file - 1].name) +
           "/extents/" + std::to_string(i);
  };
  for (size_t a = 1; a < file_count(spec); ++a)
    for (size_t i = 0; i < extents_of(spec, a).size(); ++i) {
      const Extent& e = extents_of(spec, a)[i];
      for (size_t b = 0; b < a; ++b)
        for (size_t j = 0; j < extents_of(spec, b).size(); ++j) {
          const Extent& o = extents_of(spec, b)[j];
          if (e.disk_block < o.disk_block + o.blocks && o.disk_block < e.disk_block + e.blocks)
            errors.add(path(a, i), "disk blocks " + range_text(e.disk_block, e.blocks) +
                                       " overlap " + path(b, j) + " (disk blocks " +
                                       range_text(o.disk_block, o.blocks) +
                                       "): a disk block belongs to one file");
        }
    }
}

void check_file_names(const ScenarioSpec& spec, Errors& errors) {
  std::string known = "\"file\"";
  for (const FileSpec& f : spec.files)
    known += ", \"" + f.name + "\"";
  for (size_t t = 0; t < spec.tasks.size(); ++t) {
    const Task& task = spec.tasks[t];
    if (file_index(spec, task.file) == kNoFile)
      errors.add("/tasks/" + std::to_string(t) + "/file",
                 "unknown file \"" + task.file + "\" (files: " + known + ")");
    for (const Operation& op : task.ops)
      if (!op.file.empty() && file_index(spec, op.file) == kNoFile)
        errors.add(op.where + "/file", "unknown file \"" + op.file + "\" (files: " + known + ")");
  }
}

} // namespace detail

} // namespace diosim::scenario
