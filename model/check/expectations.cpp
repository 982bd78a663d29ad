// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/expectations.hpp"

#include <cstdio>

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

std::vector<std::string> check_expectations(const scenario::ScenarioSpec& spec, const world::World& w,
                                            uint64_t bios_allocated) {
  std::vector<std::string> out;
  for (const world::OpOutcome& o : w.outcomes()) {
    const scenario::Expect& e = o.op->expect;
    const std::string who = o.task + " op " + std::to_string(o.op_index) + " (" + o.op->where + ")";
    if (e.ret && *e.ret != o.ret)
      out.push_back(who + ": returned " + describe_ret(o.ret) + ", expected " +
                    describe_ret(*e.ret));
    if (e.submit_ret && (!o.submit_ret || *e.submit_ret != *o.submit_ret))
      out.push_back(who + ": submission returned " +
                    (o.submit_ret ? describe_ret(*o.submit_ret) : std::string("nothing")) +
                    ", expected " + describe_ret(*e.submit_ret));
    if (e.data) {
      const std::vector<uint8_t> want = e.data->expand();
      if (want != o.data)
        out.push_back(who + ": user buffer differs: " + first_difference(want, o.data));
    }
    if (e.data_fnv1a && *e.data_fnv1a != fnv1a_hex(o.data))
      out.push_back(who + ": user buffer FNV-1a " + fnv1a_hex(o.data) + ", expected " +
                    *e.data_fnv1a);
    if (e.i_size && *e.i_size != o.i_size_after)
      out.push_back(who + ": i_size " + std::to_string(o.i_size_after) + ", expected " +
                    std::to_string(*e.i_size));
  }
  if (spec.expect_i_size && *spec.expect_i_size != w.inode().i_size)
    out.push_back("end: i_size " + std::to_string(w.inode().i_size) + ", expected " +
                  std::to_string(*spec.expect_i_size));
  if (spec.expect_bios && *spec.expect_bios != bios_allocated)
    out.push_back("end: " + std::to_string(bios_allocated) + " bios allocated, expected " +
                  std::to_string(*spec.expect_bios));
  for (const scenario::FileExpect& f : spec.expect_file) {
    const std::vector<uint8_t> want = f.data.expand();
    const std::vector<uint8_t> got = w.file_bytes(f.offset, want.size());
    if (want != got)
      out.push_back("end: file bytes at offset " + std::to_string(f.offset) +
                    " differ: " + first_difference(want, got));
  }
  return out;
}

} // namespace diosim::model
