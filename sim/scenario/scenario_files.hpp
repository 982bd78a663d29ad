// SPDX-License-Identifier: GPL-2.0-only
// Several files in one scenario ("files"): which file an operation acts on, and a file's view
// of the scenario (the same spec with that file as its only file).
//
// Owns: the file indexes (0: the default file, named "file", whose fields are ScenarioSpec's
// own; k + 1: spec.files[k]) and file_view. The world builds each file's filesystem and page
// cache from its view; the reference model states each file's outcome from its view, since
// files interact only through disk space (docs/SEMANTICS.md R-FILES).
// Invariant: a single-file spec (files empty) is its own view of file 0.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace diosim::scenario {

inline constexpr size_t kNoFile = static_cast<size_t>(-1);
// In a file's view, a buffer that maps another file names it with this prefix (file_view).
inline constexpr const char* kOtherFilePrefix = "other:";

inline size_t file_count(const ScenarioSpec& spec) {
  return 1 + spec.files.size();
}
// "file" or "" -> 0; a name in spec.files -> its index + 1; otherwise kNoFile.
size_t file_index(const ScenarioSpec& spec, const std::string& name);
const std::string& file_name(const ScenarioSpec& spec, size_t file);
// The file `op` of `task` acts on: op.file, else task.file, else the default file. Reap and
// barrier act on no file; they report the task's file.
size_t file_of(const ScenarioSpec& spec, const Task& task, const Operation& op);
// Whether the op touches a file at all: not a reap, barrier, io_cancel or io_destroy (ops on the
// AIO context or the tasks, which belong to every view).
inline bool op_has_file(OpKind k) {
  return k != OpKind::reap && k != OpKind::barrier && k != OpKind::io_cancel &&
         k != OpKind::io_destroy && k != OpKind::memset;
}
inline bool op_has_file(const Operation& op) {
  return op_has_file(op.kind);
}

// File `file`'s view: the spec with that file's i_size, extents, page cache and end
// expectations as the default file's, and no other files. With `with_tasks`, each task keeps
// its ops on that file and its reaps and barriers (op_of[v] is the full spec's op index, tasks
// in order, of the view's op v); without, tasks are dropped (the world's per-file objects need
// no ops). Other files' extents become used_blocks, so the view's allocator skips them.
struct FileView {
  ScenarioSpec spec;
  std::vector<size_t> op_of;
};
FileView file_view(const ScenarioSpec& spec, size_t file, bool with_tasks);

} // namespace diosim::scenario
