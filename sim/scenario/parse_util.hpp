// SPDX-License-Identifier: GPL-2.0-only
// The scenario parser's shared vocabulary (private to sim/scenario/): the JSON type, the limits
// on offsets and sizes, the error collector, and small readers of schema-valid values. The
// parser is split by section (scenario.cpp: the file, disk and buffers; scenario_tasks.cpp: the
// tasks and their operations); both build from a document the schema already accepted, so the
// readers here assume the JSON types are right.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace diosim::scenario::detail {

using J = nlohmann::ordered_json;

// Offsets and sizes stay below 2^62, so sums of two never overflow.
inline constexpr uint64_t kMaxFileBytes = uint64_t{1} << 62;
inline constexpr uint64_t kMaxRunsBytes = uint64_t{1} << 62;
// The disk image is sparse (sim/world/disk.hpp) and the reference model and the judge follow the
// blocks written, not the disk's size; what still follows the size is the filesystem model's
// allocation bitmap (one bit per disk block, built per execution: 32 MiB at 1 TiB in 4 KiB
// blocks), so the disk stops at 1 TiB.
inline constexpr uint64_t kMaxDiskBytes = uint64_t{1} << 40;
inline constexpr uint64_t kMaxExpectBytes = uint64_t{1} << 30; // expect.file is read into memory

// A JSON-quoted string for messages, cut short when long.
std::string qstr(const std::string& s);

// Collects "FILE: PATH: message" lines: the first kMaxReportedErrors, then one line that counts
// the rest, so a file with thousands of problems gives a short report in bounded memory. The
// message of a problem past the cap is not even built (add_lazy), which keeps the pairwise
// checks (overlaps, duplicates) cheap.
class Errors {
public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void add(const std::string& path, const std::string& message) {
    add_lazy(path, [&] { return message; });
  }
  template <class Message> void add_lazy(const std::string& path, Message message) {
    ++count_;
    if (lines_.size() < kMaxReportedErrors)
      lines_.push_back(file_ + ": " + (path.empty() ? "(top level)" : path) + ": " + message());
  }
  bool empty() const { return count_ == 0; }
  [[noreturn]] void raise() const {
    std::string all;
    for (const auto& l : lines_)
      all += (all.empty() ? "" : "\n") + l;
    if (count_ > lines_.size())
      all += "\n" + file_ + ": and " + std::to_string(count_ - lines_.size()) +
             " more problems (only the first " + std::to_string(kMaxReportedErrors) +
             " are listed)";
    throw ScenarioError(all);
  }

private:
  std::string file_;
  std::vector<std::string> lines_;
  uint64_t count_ = 0;
};

// Negative errno for a name without sign ("EIO"); 0 if unknown.
int errno_value(const std::string& name);
uint64_t as_u64(const J& v);
int64_t as_i64(const J& v);
const J* field(const J& obj, const char* key); // null when absent
uint8_t as_byte(const J& v);                   // a "byte" of the schema
bool power_of_two(uint64_t v);
std::string range_text(uint64_t first, uint64_t count); // "first..last"
// Byte runs already checked by the schema's pattern; parse cannot fail except on huge lengths.
std::optional<ByteRuns> runs_of(const J& v, const std::string& path, Errors& errors);

// The elements of an expectation: a plain value (at `path`) or {"one_of": [...]} (each at
// `path`/one_of/N). `one` converts one element and reports its own errors.
template <typename T, typename Convert>
std::optional<OneOf<T>> one_of_set(const J& v, const std::string& path, Convert one) {
  const J* list = field(v, "one_of");
  if (!list) {
    std::optional<T> x = one(v, path);
    return x ? std::optional<OneOf<T>>(OneOf<T>(std::move(*x))) : std::nullopt;
  }
  OneOf<T> set;
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    std::optional<T> x = one((*list)[i], path + "/one_of/" + std::to_string(i));
    if (x)
      set.values.push_back(std::move(*x));
    else
      ok = false;
  }
  return ok ? std::optional<OneOf<T>>(std::move(set)) : std::nullopt;
}

// An expected return value: an integer or a negative errno name ("-EIO"), or a one_of set.
std::optional<OneOf<int64_t>> ret_set(const J& v, const std::string& path, Errors& errors);
std::optional<OneOf<int64_t>> int_set(const J& v, const std::string& path);

// Buffer names -> index in /buffers (the first buffer of each name).
using BufferIndex = std::map<std::string, size_t>;

// /tasks: each task, its AIO context and its operations, repeat blocks expanded
// (scenario_tasks.cpp).
void build_tasks(const J& doc, ScenarioSpec& spec, const BufferIndex& buffer_index, Errors& errors);
// scenario_files.cpp: "files" checks. A name another file may take (not the default file's);
// no two files' extents share a disk block; every op and task names a file that exists.
bool valid_file_name(const std::string& name);
void check_disk_overlaps(const ScenarioSpec& spec, Errors& errors);
void check_file_names(const ScenarioSpec& spec, Errors& errors);

} // namespace diosim::scenario::detail
