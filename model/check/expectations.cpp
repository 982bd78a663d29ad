// SPDX-License-Identifier: GPL-2.0-only
// Scenario expectations against a finished run. An expectation holds a set of allowed values (a
// plain value is a set of one); every failure message names the operation, the actual value and
// the whole allowed set.
#include "model/check/expectations.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

namespace diosim::model {

std::string fnv1a_hex(const std::vector<uint8_t>& data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : data) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string fnv1a_hex(const scenario::ByteImage& data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  data.visit([&](uint64_t n, const uint8_t* bytes, uint8_t fill) {
    for (uint64_t i = 0; i < n; ++i) {
      h ^= bytes ? bytes[i] : fill;
      h *= 0x100000001b3ULL;
    }
  });
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string describe_ret(int64_t ret) {
  std::string s = std::to_string(ret);
  if (const char* name = kern::errno_name(ret)) s += std::string(" (") + name + ")";
  return s;
}

static std::string first_difference(const std::vector<uint8_t>& want,
                                    const std::vector<uint8_t>& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i])
    ++i;
  std::string msg = "first difference at byte " + std::to_string(i);
  const size_t from = i, n = std::min<size_t>(64, std::max(want.size(), got.size()) - i);
  if (from < want.size())
    msg += "; expected \"" +
           scenario::ByteRuns::describe(want.data() + from, std::min(n, want.size() - from)) + "\"";
  if (from < got.size())
    msg += ", got \"" +
           scenario::ByteRuns::describe(got.data() + from, std::min(n, got.size() - from)) + "\"";
  if (want.size() != got.size())
    msg += " (lengths " + std::to_string(want.size()) + " vs " + std::to_string(got.size()) + ")";
  return msg;
}

// "4096" for a set of one, "one of {0, 4096}" otherwise: failure messages list the allowed set.
template <typename Describe>
static std::string allowed_text(const std::vector<int64_t>& allowed, Describe describe) {
  if (allowed.size() == 1) return describe(allowed[0]);
  std::string s = "one of {";
  for (size_t i = 0; i < allowed.size(); ++i)
    s += (i ? ", " : "") + describe(allowed[i]);
  return s + "}";
}

static std::string allowed_rets(const scenario::OneOf<int64_t>& set) {
  return allowed_text(set.values, describe_ret);
}

static std::string allowed_ints(const scenario::OneOf<int64_t>& set) {
  return allowed_text(set.values, [](int64_t v) { return std::to_string(v); });
}

static bool runs_match(const scenario::ByteRuns& runs, const scenario::ByteImage& got);

// The user buffer against each allowed pattern; with one pattern, the first difference. Matching
// walks the pieces (a run against runs costs no bytes); only a failure's message expands them.
static std::optional<std::string> data_mismatch(const scenario::OneOf<scenario::ByteRuns>& set,
                                                const scenario::ByteImage& data) {
  for (const scenario::ByteRuns& runs : set.values)
    if (runs_match(runs, data)) return std::nullopt;
  const std::vector<uint8_t> got = data.expand();
  if (set.values.size() == 1) return first_difference(set.values[0].expand(), got);
  std::string msg = "it holds \"" + scenario::ByteRuns::describe(got.data(), got.size()) +
                    "\", expected one of {";
  for (size_t i = 0; i < set.values.size(); ++i) {
    const std::vector<uint8_t> want = set.values[i].expand();
    msg += (i ? ", \"" : "\"") + scenario::ByteRuns::describe(want.data(), want.size()) + "\"";
  }
  return msg + "}";
}

static void check_op(const world::OpOutcome& o, std::vector<std::string>& out) {
  if (!o.op) return;
  const scenario::Expect& e = o.op->expect;
  // Named only when something failed: this runs for every op of every execution.
  auto who = [&] {
    return o.task + " op " + std::to_string(o.op_index) + " (" + o.op->where + ")";
  };
  if (e.ret && !e.ret->allows(o.ret))
    out.push_back(who() + ": returned " + describe_ret(o.ret) + ", expected " +
                  allowed_rets(*e.ret));
  if (e.submit_ret && (!o.submit_ret || !e.submit_ret->allows(*o.submit_ret)))
    out.push_back(who() + ": submission returned " +
                  (o.submit_ret ? describe_ret(*o.submit_ret) : std::string("nothing")) +
                  ", expected " + allowed_rets(*e.submit_ret));
  if (e.data) {
    if (auto why = data_mismatch(*e.data, o.data))
      out.push_back(who() + ": user buffer differs: " + *why);
  }
  if (e.data_fnv1a && *e.data_fnv1a != fnv1a_hex(o.data))
    out.push_back(who() + ": user buffer FNV-1a " + fnv1a_hex(o.data) + ", expected " +
                  *e.data_fnv1a);
  if (e.i_size && !e.i_size->allows(o.i_size_after))
    out.push_back(who() + ": i_size " + std::to_string(o.i_size_after) + ", expected " +
                  allowed_ints(*e.i_size));
}

std::vector<std::string> check_op_expectations(const world::OpOutcome& o) {
  std::vector<std::string> out;
  check_op(o, out);
  return out;
}

bool has_op_expectations(const scenario::Operation& op) {
  const scenario::Expect& e = op.expect;
  return e.ret || e.submit_ret || e.data || e.data_fnv1a || e.i_size;
}

namespace {

// Walks byte runs forward from their start; `matches` compares the next n bytes.
class RunCursor {
public:
  explicit RunCursor(const scenario::ByteRuns& runs) : runs_(runs.runs) {}
  // Whether the n bytes at the cursor equal `bytes` (or n copies of `fill` when bytes is null);
  // moves the cursor past them.
  bool matches(uint64_t n, const uint8_t* bytes, uint8_t fill) {
    while (n) {
      if (run_ == runs_.size()) return false;
      const scenario::ByteRuns::Run& r = runs_[run_];
      const uint64_t k = std::min(n, r.len - in_run_);
      if (bytes) {
        for (uint64_t i = 0; i < k; ++i)
          if (bytes[i] != r.byte) return false;
        bytes += k;
      } else if (fill != r.byte) {
        return false;
      }
      n -= k;
      in_run_ += k;
      if (in_run_ == r.len) ++run_, in_run_ = 0;
    }
    return true;
  }

private:
  const std::vector<scenario::ByteRuns::Run>& runs_;
  size_t run_ = 0;
  uint64_t in_run_ = 0;
};

} // namespace

static bool runs_match(const scenario::ByteRuns& runs, const scenario::ByteImage& got) {
  if (runs.size() != got.size()) return false;
  RunCursor want(runs);
  bool ok = true;
  got.visit([&](uint64_t n, const uint8_t* bytes, uint8_t fill) {
    ok = ok && want.matches(n, bytes, fill);
  });
  return ok;
}

namespace {

// f.data against the file, without materialising it: mapped bytes as the disk holds them and
// dirty cached blocks as the end-of-run writeback leaves them (World::visit_file, R-FINAL-FILE),
// holes as zero. Costs the mapped blocks and runs in the range.
bool file_matches(const world::World& w, const scenario::FileExpect& f, size_t file) {
  // One struct captured by pointer keeps the visitor inside std::function (no allocation).
  struct Walk {
    RunCursor want;
    uint64_t at;
    bool ok = true;
  } walk{RunCursor(f.data), f.offset};
  const uint64_t end = f.offset + f.data.size();
  w.visit_file(
      f.offset, f.data.size(),
      [s = &walk](uint64_t pos, uint64_t n, const uint8_t* bytes, uint8_t fill,
                  const std::shared_ptr<const void>&) {
        if (!s->ok) return;
        s->ok = s->want.matches(pos - s->at, nullptr, 0) && s->want.matches(n, bytes, fill);
        s->at = pos + n;
      },
      file);
  return walk.ok && walk.want.matches(end - walk.at, nullptr, 0);
}

// The same bytes materialised, for the message of a mismatch.
std::vector<uint8_t> final_file_bytes(const world::World& w, uint64_t offset, uint64_t len,
                                      size_t file) {
  std::vector<uint8_t> out(len, 0);
  w.visit_file(
      offset, len,
      [&](uint64_t pos, uint64_t n, const uint8_t* bytes, uint8_t fill,
          const std::shared_ptr<const void>&) {
        if (bytes)
          std::copy(bytes, bytes + n, out.begin() + static_cast<long>(pos - offset));
        else
          std::fill_n(out.begin() + static_cast<long>(pos - offset), n, fill);
      },
      file);
  return out;
}

// One file's end expectations (i_size, contents); messages start with `lead`.
void check_file_end(const std::optional<scenario::OneOf<int64_t>>& i_size,
                    const std::vector<scenario::FileExpect>& contents, const world::World& w,
                    size_t file, const std::string& lead, std::vector<std::string>& out) {
  const int64_t size = w.inode(file).i_size;
  if (i_size && !i_size->allows(size))
    out.push_back(lead + "i_size " + std::to_string(size) + ", expected " + allowed_ints(*i_size));
  for (const scenario::FileExpect& f : contents) {
    if (file_matches(w, f, file)) continue;
    const std::vector<uint8_t> got = final_file_bytes(w, f.offset, f.data.size(), file);
    out.push_back(lead + "file bytes at offset " + std::to_string(f.offset) +
                  " differ: " + first_difference(f.data.expand(), got));
  }
}

} // namespace

std::vector<std::string> check_expectations(const scenario::ScenarioSpec& spec,
                                            const world::World& w, uint64_t bios_allocated) {
  std::vector<std::string> out;
  for (const world::OpOutcome& o : w.outcomes())
    check_op(o, out);
  check_file_end(spec.expect_i_size, spec.expect_file, w, 0, "end: ", out);
  if (spec.expect_bios && *spec.expect_bios != bios_allocated)
    out.push_back("end: " + std::to_string(bios_allocated) + " bios allocated, expected " +
                  std::to_string(*spec.expect_bios));
  for (size_t k = 0; k < spec.files.size(); ++k)
    check_file_end(spec.files[k].expect_i_size, spec.files[k].expect_file, w, k + 1,
                   "end: " + spec.files[k].name + ": ", out);
  return out;
}

} // namespace diosim::model
