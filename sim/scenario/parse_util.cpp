// SPDX-License-Identifier: GPL-2.0-only
#include "sim/scenario/parse_util.hpp"

namespace diosim::scenario::detail {

std::string qstr(const std::string& s) {
  constexpr size_t kMax = 60;
  std::string q = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (q.size() > kMax) q = q.substr(0, kMax - 4) + "...\"";
  return q;
}

namespace {

struct ErrnoName {
  const char* name;
  int value;
};
constexpr ErrnoName kErrnos[] = {
    {"EPERM", 1},   {"EIO", 5},         {"EBADF", 9},        {"EAGAIN", 11}, {"ENOMEM", 12},
    {"EFAULT", 14}, {"ENOTBLK", 15},    {"EBUSY", 16},       {"EINVAL", 22}, {"EFBIG", 27},
    {"ENOSPC", 28}, {"EOPNOTSUPP", 95}, {"EIOCBQUEUED", 529}};

} // namespace

int errno_value(const std::string& name) {
  for (const auto& e : kErrnos)
    if (name == e.name) return -e.value;
  return 0;
}

uint64_t as_u64(const J& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return static_cast<uint64_t>(v.get<int64_t>());
  return static_cast<uint64_t>(v.get<double>());
}

int64_t as_i64(const J& v) {
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_integer()) return v.get<int64_t>();
  return static_cast<int64_t>(v.get<double>());
}

const J* field(const J& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

uint8_t as_byte(const J& v) {
  const std::string s = v.get<std::string>();
  return s == "zero" ? 0 : static_cast<uint8_t>(s[0]);
}

bool power_of_two(uint64_t v) {
  return v && !(v & (v - 1));
}

std::string range_text(uint64_t first, uint64_t count) {
  return std::to_string(first) + ".." + std::to_string(first + count - 1);
}

std::optional<ByteRuns> runs_of(const J& v, const std::string& path, Errors& errors) {
  std::string why;
  auto r = ByteRuns::parse(v.get<std::string>(), &why);
  if (!r) errors.add(path, "invalid byte runs " + qstr(v.get<std::string>()) + ": " + why);
  return r;
}

// An expected return value: an integer or a negative errno name ("-EIO").
std::optional<OneOf<int64_t>> ret_set(const J& v, const std::string& path, Errors& errors) {
  return one_of_set<int64_t>(v, path, [&](const J& x, const std::string& at) {
    std::optional<int64_t> out;
    if (!x.is_string()) return std::optional<int64_t>(as_i64(x));
    const std::string s = x.get<std::string>();
    if (const int n = errno_value(s.size() > 1 ? s.substr(1) : ""))
      out = n;
    else
      errors.add(at, "unknown errno name " + qstr(s));
    return out;
  });
}

std::optional<OneOf<int64_t>> int_set(const J& v, const std::string& path) {
  return one_of_set<int64_t>(
      v, path, [](const J& x, const std::string&) { return std::optional<int64_t>(as_i64(x)); });
}

} // namespace diosim::scenario::detail
