// SPDX-License-Identifier: GPL-2.0-only
// A finished run against the reference model's ExpectedRun: each operation's return values,
// user bytes and i_size, then the file and the final i_size. Messages name the operation, the
// rules that stated the value, the first disallowed byte and a window of bytes around it; they
// are built only on a mismatch, since this runs for every checked execution.
#include "model/reference/reference.hpp"

#include "model/reference/reference_detail.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace diosim::model {

using namespace refm;

namespace {

std::string set_text(const std::vector<int64_t>& v) {
  const auto one = [](int64_t x) { return x < 0 ? errno_name(x) : std::to_string(x); };
  if (v.size() == 1) return one(v[0]);
  std::string s = "one of {";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + one(v[i]);
  return s + "}";
}

std::string value_text(int64_t x) {
  return x < 0 ? std::to_string(x) + " (" + errno_name(x) + ")" : std::to_string(x);
}

std::string byte_text(uint8_t b) {
  return scenario::ByteRuns::describe(&b, 1);
}

// The first byte of `actual` [0, n) that (value, free, alternatives) does not allow, and the
// text of what was expected there; walks the pieces of both (free ranges skipped, an
// alternative byte checked against its set), so it costs pieces, not offsets.
struct Disallowed {
  uint64_t at = 0;
  std::string expected;
};
std::optional<Disallowed>
first_disallowed(const FileImage& value, const std::vector<std::pair<uint64_t, uint64_t>>& free,
                 const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& alts,
                 const FileImage& actual, uint64_t n) {
  for (uint64_t pos = 0; pos < n;) {
    const uint64_t at = first_difference(value, actual, pos, n);
    if (at == UINT64_MAX) return std::nullopt;
    auto f = std::upper_bound(free.begin(), free.end(), at,
                              [](uint64_t v, const auto& r) { return v < r.first; });
    if (f != free.begin() && std::prev(f)->second > at) {
      pos = std::prev(f)->second; // not checked
      continue;
    }
    auto a = std::lower_bound(alts.begin(), alts.end(), at,
                              [](const auto& alt, uint64_t v) { return alt.first < v; });
    if (a == alts.end() || a->first != at) return Disallowed{at, byte_text(value.read(at, 1)[0])};
    const std::vector<uint8_t>& vals = a->second;
    if (std::find(vals.begin(), vals.end(), actual.read(at, 1)[0]) == vals.end()) {
      std::string t = "one of {";
      for (size_t k = 0; k < vals.size() && k < 8; ++k)
        t += (k ? ", " : "") + byte_text(vals[k]);
      return Disallowed{at, t + (vals.size() > 8 ? ", ...}" : "}")};
    }
    pos = at + 1;
  }
  return std::nullopt;
}

// Up to 64 bytes of `f` from `at`, described as runs.
std::string window(const FileImage& f, uint64_t at) {
  const std::vector<uint8_t> w = f.read(at, std::min<uint64_t>(64, f.size - at));
  return scenario::ByteRuns::describe(w.data(), w.size());
}

std::optional<std::string> compare_file(const ExpectedFile& e, const FileImage& file) {
  const std::optional<Disallowed> d =
      first_disallowed(e.value, e.free, e.alternatives, file, std::min(file.size, e.size));
  if (!d) return std::nullopt;
  return "reference model: file differs first at offset " + std::to_string(d->at) + ": expected " +
         d->expected + ", actual " + byte_text(file.read(d->at, 1)[0]) +
         " (expected from there: " + window(e.value, d->at) + "; actual: " + window(file, d->at) +
         ")";
}

} // namespace

// One operation against its expected outcome. `lead` names the operation; it and the rules are
// turned into text only for a message (this runs for every operation of every checked execution).
template <typename Lead>
static void compare_op(const ExpectedOp& e, const ActualOp& a, const Lead& lead,
                       std::vector<std::string>& msgs) {
  auto head = [&] {
    std::string rules;
    for (size_t k = 0; k < e.rules.size(); ++k)
      rules += (k ? "," : "") + e.rules[k];
    return lead() + rules + "]: ";
  };
  if (!e.allowed_ret.empty() &&
      std::find(e.allowed_ret.begin(), e.allowed_ret.end(), a.ret) == e.allowed_ret.end())
    msgs.push_back(head() + "ret expected " + set_text(e.allowed_ret) + ", actual " +
                   value_text(a.ret));
  if (!e.allowed_submit_ret.empty()) {
    if (!a.submit_ret)
      msgs.push_back(head() + "submit_ret expected " + set_text(e.allowed_submit_ret) +
                     ", actual none");
    else if (std::find(e.allowed_submit_ret.begin(), e.allowed_submit_ret.end(), *a.submit_ret) ==
             e.allowed_submit_ret.end())
      msgs.push_back(head() + "submit_ret expected " + set_text(e.allowed_submit_ret) +
                     ", actual " + value_text(*a.submit_ret));
  }
  if (e.data) {
    if (a.data.size() != e.data->size) {
      msgs.push_back(head() + "data has " + std::to_string(a.data.size()) + " bytes, expected " +
                     std::to_string(e.data->size));
    } else {
      FileImage got; // the op's pieces: runs stay runs, stored bytes are borrowed
      got.size = a.data.size();
      uint64_t at = 0;
      for (const scenario::ByteImage::Piece& p : a.data.pieces()) {
        if (p.stored)
          got.add_bytes(at, p.len, a.data.bytes_of(p), a.data.keep());
        else
          got.add_fill(at, p.len, p.fill);
        at += p.len;
      }
      if (const std::optional<Disallowed> d =
              first_disallowed(*e.data, e.data_free, e.data_alternatives, got, got.size))
        msgs.push_back(head() + "data differs first at byte " + std::to_string(d->at) +
                       ": expected " + d->expected + ", actual " + byte_text(a.data.at(d->at)) +
                       " (expected from there: " + window(*e.data, d->at) +
                       "; actual: " + window(got, d->at) + ")");
    }
  }
  if (!e.allowed_i_size_after.empty() &&
      std::find(e.allowed_i_size_after.begin(), e.allowed_i_size_after.end(), a.i_size_after) ==
          e.allowed_i_size_after.end())
    msgs.push_back(head() + "i_size after expected " + set_text(e.allowed_i_size_after) +
                   ", actual " + std::to_string(a.i_size_after));
}

std::vector<std::string> compare_with_reference(const scenario::ScenarioSpec& spec,
                                                const ExpectedRun& expected,
                                                const std::vector<ActualOp>& actual,
                                                const FileImage& file, int64_t final_i_size) {
  std::vector<std::string> msgs;
  size_t op_count = 0;
  for (const scenario::Task& t : spec.tasks)
    op_count += t.ops.size();
  if (actual.size() != expected.ops.size() || op_count != expected.ops.size()) {
    msgs.push_back("reference model: expected " + std::to_string(expected.ops.size()) +
                   " operations, the run reports " + std::to_string(actual.size()));
    return msgs;
  }
  size_t i = 0;
  for (const scenario::Task& t : spec.tasks)
    for (size_t k = 0; k < t.ops.size(); ++k, ++i)
      compare_op(
          expected.ops[i], actual[i],
          [&] {
            return "reference model: " + t.ops[k].where + " (" + t.name + " op " +
                   std::to_string(k) + ") [";
          },
          msgs);
  if (file.size < expected.file.size)
    msgs.push_back("reference model: the run reports " + std::to_string(file.size) +
                   " file bytes, expected " + std::to_string(expected.file.size));
  if (const std::optional<std::string> m = compare_file(expected.file, file)) msgs.push_back(*m);
  if (!expected.allowed_final_i_size.empty() &&
      std::find(expected.allowed_final_i_size.begin(), expected.allowed_final_i_size.end(),
                final_i_size) == expected.allowed_final_i_size.end())
    msgs.push_back("reference model: final i_size expected " +
                   set_text(expected.allowed_final_i_size) + ", actual " +
                   std::to_string(final_i_size));
  return msgs;
}

} // namespace diosim::model
