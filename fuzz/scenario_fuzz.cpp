// SPDX-License-Identifier: GPL-2.0-only
// libFuzzer target: what `diosim run FILE` does, minus the file I/O: parse and validate the
// bytes as a scenario; when valid, build the world and run one seeded execution (or the
// scenario's pinned schedule), checked against the invariants and the reference model.
//
// A bad scenario (ScenarioError, a pinned schedule that does not parse) is a normal outcome;
// an internal error (what the CLI maps to exit 3) aborts so libFuzzer records it as a crash, as
// does any other exception. A run stops after kStepBudget scheduling steps (AbandonExecution),
// so the schedule of one input cannot loop for long; what the scenario's own sizes cost is not
// bounded here, on purpose: libFuzzer's -timeout and -rss_limit_mb report it.
//
// Byte-level mutations of a scenario almost always break its JSON or its schema (of the corpus
// of a first 10^6-input campaign, 3 inputs in 1300 were runnable), so half of the mutations are
// structural: LLVMFuzzerCustomMutator changes one number (to a power of two, a neighbour, 0, a
// huge value), one string, one bool, or drops or doubles one array item or object member, and
// writes the JSON back.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/check/session.hpp"
#include "sim/engine/chooser.hpp"
#include "sim/scenario/json_reader.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

using namespace diosim;

constexpr uint64_t kStepBudget = 200'000; // shipped scenarios take at most a few thousand

// Asks `inner`, but gives up on the execution once it has run kStepBudget steps.
class BudgetChooser final : public engine::Chooser {
public:
  explicit BudgetChooser(engine::Chooser& inner) : inner_(inner) {}
  uint64_t decide(const engine::Decision& d) override {
    if (d.step > kStepBudget) throw engine::AbandonExecution{};
    return inner_.decide(d);
  }

private:
  engine::Chooser& inner_;
};

using J = nlohmann::ordered_json;
using Rng = std::mt19937_64;

// Every value of the document, parents before children (depth <= kMaxJsonDepth).
void collect(J& v, std::vector<J*>& out) {
  out.push_back(&v);
  if (v.is_structured())
    for (J& child : v)
      collect(child, out);
}

J mutated_number(const J& v, Rng& rng) {
  const int64_t n = v.is_number_integer() ? v.get<int64_t>() : 0;
  switch (rng() % 8) {
  case 0:
    return 0;
  case 1:
    return n + 1;
  case 2:
    return n - 1;
  case 3:
    return uint64_t{1} << (rng() % 64);
  case 4:
    return (uint64_t{1} << (rng() % 64)) - 1;
  case 5:
    return n * 2;
  case 6:
    return n / 2;
  default:
    return rng();
  }
}

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// Mutates one value of the document in place.
void mutate_value(J& v, Rng& rng) {
  if (v.is_number()) {
    v = mutated_number(v, rng);
  } else if (v.is_boolean()) {
    v = !v.get<bool>();
  } else if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.empty()) s = "A";
    s.resize(s.size() + 8);
    s.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(s.data()), s.size() - 8, s.size()));
    v = s;
  } else if (v.is_array() && !v.empty()) {
    const size_t i = rng() % v.size();
    if (rng() % 2)
      v.insert(v.begin() + static_cast<std::ptrdiff_t>(i), J(v[i]));
    else
      v.erase(i);
  } else if (v.is_object() && !v.empty()) {
    auto it = v.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng() % v.size()));
    v.erase(it.key());
  }
}

// What a run costs follows the I/O it does (issue 8): file offsets, i_size and the disk's size
// cost nothing, but bytes moved through user pages and the disk cost about one byte each (a
// 1 GiB read takes ~2 s). So that the short CI run stays a check of the parsers and not of big
// I/O, a scenario whose I/O bytes (buffers, iovecs, extents) exceed kDenseLimitBytes is parsed
// and validated but not run, unless DIOSIM_FUZZ_DENSE_LIMIT=0 (make fuzz-parsers can set it).
constexpr uint64_t kDenseLimitBytes = uint64_t{16} << 20;

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t dense_bytes(const scenario::ScenarioSpec& s) {
  uint64_t total = 0;
  const uint64_t block = s.geometry.fs_block_size;
  for (const scenario::Extent& e : s.extents)
    total = saturating_add(total, e.blocks > UINT64_MAX / block ? UINT64_MAX : e.blocks * block);
  for (const scenario::Task& t : s.tasks)
    for (const scenario::Operation& op : t.ops)
      for (const scenario::IoVec& v : op.iov)
        total = saturating_add(total, v.len);
  for (const scenario::Buffer& b : s.buffers)
    total = saturating_add(total, b.size);
  return total;
}

bool dense_limit_on() {
  const char* v = std::getenv("DIOSIM_FUZZ_DENSE_LIMIT");
  return !(v && std::strcmp(v, "0") == 0);
}

[[noreturn]] void internal_error(const std::string& what) {
  std::fprintf(stderr, "scenario_fuzz: internal error (diosim would exit 3): %s\n", what.c_str());
  std::abort();
}

} // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  Rng rng(seed);
  if (rng() % 2) return LLVMFuzzerMutate(data, size, max_size);
  J doc;
  try {
    doc = scenario::read_json_document(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const scenario::JsonReadError&) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  std::vector<J*> values;
  collect(doc, values);
  for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
    mutate_value(*values[rng() % values.size()], rng);
    values.clear();
    collect(doc, values);
  }
  const std::string text = doc.dump(-1, ' ', false, J::error_handler_t::replace);
  if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::optional<scenario::ScenarioSpec> spec;
  try {
    spec = scenario::parse_scenario(text, "fuzz.json");
  } catch (const scenario::ScenarioError&) {
    return 0; // exit 2: a bad scenario, told to the user
  }
  std::optional<engine::ScheduleToken> pinned;
  if (spec->schedule) {
    pinned = engine::ScheduleToken::parse(*spec->schedule, nullptr);
    if (!pinned) return 0; // exit 2: "bad scenario: FILE: /schedule: ..."
  }
  static const bool limit = dense_limit_on();
  if (limit && dense_bytes(*spec) > kDenseLimitBytes) return 0; // see kDenseLimitBytes
  model::Session session(*spec);
  engine::RandomChooser random(spec->seed);
  std::optional<engine::ReplayChooser> replay;
  if (pinned) replay.emplace(*pinned);
  BudgetChooser chooser(replay ? static_cast<engine::Chooser&>(*replay) : random);
  const model::ExecSummary summary = session.execute(chooser);
  if (summary.internal_error) internal_error(*summary.internal_error);
  return 0;
}
