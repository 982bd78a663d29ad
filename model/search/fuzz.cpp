// SPDX-License-Identifier: GPL-2.0-only
#include "model/search/fuzz.hpp"

#include "model/check/crash_guard.hpp"
#include "sim/kernel/race_windows.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace diosim::model {

std::optional<std::string> failure_kind(const RunResult& r) {
  if (r.internal_error) return std::string("internal-error");
  if (r.divergence) return std::string("divergence");
  if (r.violation) return r.violation->invariant;
  if (!r.failed_expectations.empty()) return std::string("expectation");
  return std::nullopt;
}

namespace {

// Whether a page-cache-coherency message ("page P (file offset N) is clean ...", the default
// file's) names a byte in the initial tail past EOF of the default file's last block that an
// extent maps with nonzero bytes, in a scenario with an ftruncate (stale-tail-past-eof).
bool in_stale_tail(const scenario::ScenarioSpec& spec, const std::string& message) {
  const std::string key = "(file offset ";
  const size_t at = message.find(key);
  if (message.rfind("page ", 0) != 0 || at == std::string::npos) return false;
  const uint64_t off = std::strtoull(message.c_str() + at + key.size(), nullptr, 10);
  const uint64_t bs = spec.geometry.fs_block_size, size = static_cast<uint64_t>(spec.i_size);
  if (size % bs == 0 || off < size || off >= (size / bs + 1) * bs) return false;
  bool truncates = false;
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops)
      truncates = truncates || op.kind == scenario::OpKind::ftruncate;
  for (const scenario::Extent& e : spec.extents)
    if (e.file_block <= size / bs && size / bs < e.file_block + e.blocks)
      return truncates && (e.data ? e.data->expand().at(off - e.file_block * bs) != 0
                                  : spec.disk.stale_byte != 0);
  return false;
}

} // namespace

std::optional<std::string> known_quirk(const scenario::ScenarioSpec& spec, const RunResult& r) {
  if (r.violation && r.violation->invariant == "page-cache-coherency" &&
      (!spec.disk.errors.empty() || spec.explore_faults.bio_error))
    return std::string("failed-write-stale-cache");
  if (r.violation && r.violation->invariant == "page-cache-coherency" &&
      in_stale_tail(spec, r.violation->message))
    return std::string("stale-tail-past-eof");
  if (!r.violation || r.violation->invariant != "stale-data") return std::nullopt;
  if (spec.fs.model == scenario::FsModel::ocfs2 && !spec.fs.unwritten)
    return std::string("ocfs2-hole-fill");
  bool writeback_errors = spec.explore_faults.writeback_error;
  for (const scenario::CachedPage& p : spec.page_cache)
    writeback_errors = writeback_errors || p.writeback_error;
  if (writeback_errors) return std::string("writeback-error-stale");
  return std::nullopt;
}

uint64_t case_seed(uint64_t campaign_seed, uint64_t index) {
  // SplitMix64 of the campaign seed, then of that xor the index: neighbouring campaigns and
  // neighbouring cases get unrelated generator seeds.
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  return mix(mix(campaign_seed) ^ index);
}

rc::Shrinkable<scenario::ScenarioSpec> generate_case(uint64_t campaign_seed, uint64_t index,
                                                     const GenOptions& options) {
  // The generators ignore the size parameter except RapidCheck's own defaults; use the nominal one.
  return gen_scenario(options)(rc::Random(case_seed(campaign_seed, index)), rc::kNominalSize);
}

ShrinkResult shrink_failure(const rc::Shrinkable<scenario::ScenarioSpec>& start,
                            const std::function<bool(const scenario::ScenarioSpec&)>& still_fails,
                            uint64_t max_attempts) {
  ShrinkResult out;
  rc::Shrinkable<scenario::ScenarioSpec> current = start;
  for (;;) {
    bool progressed = false;
    rc::Seq<rc::Shrinkable<scenario::ScenarioSpec>> shrinks = current.shrinks();
    while (auto candidate = shrinks.next()) {
      if (out.attempts >= max_attempts) {
        out.budget_exhausted = true;
        break;
      }
      ++out.attempts;
      if (still_fails(candidate->value())) {
        current = std::move(*candidate);
        ++out.steps;
        progressed = true;
        break;
      }
    }
    if (!progressed) break;
  }
  out.spec = current.value();
  return out;
}

int FuzzSummary::exit_code() const {
  if (by_kind.count("internal-error") || by_kind.count("divergence")) return 3;
  return failing_cases ? 1 : 0;
}

namespace {

std::string file_safe(const std::string& kind) {
  std::string s;
  for (char c : kind)
    s.push_back(
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_');
  return s.empty() ? "failure" : s;
}

std::string one_line(const RunResult& r) {
  std::string s;
  if (r.internal_error)
    s = *r.internal_error;
  else if (r.divergence)
    s = "replay divergence: " + *r.divergence;
  else if (r.violation) {
    s = r.violation->invariant;
    if (r.violation->src_line) s += " at fs/direct-io.c:" + std::to_string(r.violation->src_line);
    s += ": " + r.violation->message;
  } else if (!r.failed_expectations.empty()) {
    s = "expectation failed: " + r.failed_expectations.front();
  }
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

// Shrinks case `index` (which failed with `kind`) and returns the finding with its texts.
Finding make_finding(const FuzzOptions& o, uint64_t index, const std::string& kind,
                     const rc::Shrinkable<scenario::ScenarioSpec>& generated,
                     std::vector<std::string>& errors) {
  Finding f;
  f.case_index = index;
  f.kind = kind;
  // A shrink must fail the same way, and must not turn into a known quirk.
  if (!o.shrink)
    f.shrink.spec = generated.value();
  else
    f.shrink = shrink_failure(
        generated,
        [&](const scenario::ScenarioSpec& s) {
          // The model is compared only when nothing else failed: other kinds need no model run.
          RunOptions opt;
          opt.check_model = o.check_model && kind == "reference-model";
          const RunResult r = run_scenario(s, opt);
          const auto k = failure_kind(r);
          return k && *k == kind && (o.include_known || !known_quirk(s, r));
        },
        o.max_shrink_attempts);
  const std::string stem = file_safe(kind) + "-" + std::to_string(index);
  f.base_path = (std::filesystem::path(o.out_dir) / stem).string();
  scenario::ScenarioSpec& m = f.minimal;
  m = f.shrink.spec;
  m.name = stem;
  m.path = f.base_path + ".json";
  RunOptions traced;
  traced.trace = true;
  traced.check_model = o.check_model;
  const RunResult r = run_scenario(m, traced);
  f.message = one_line(r);
  m.description =
      "Found by diosim fuzz --seed " + std::to_string(o.seed) + " (case " + std::to_string(index) +
      ")" +
      (o.shrink ? ", shrunk in " + std::to_string(f.shrink.steps) + " steps (" +
                      std::to_string(f.shrink.attempts) + " runs" +
                      (f.shrink.budget_exhausted ? ", shrink budget exhausted" : "") + ")"
                : std::string(", not shrunk")) +
      ". Fails with " + f.message;
  if (const auto k = failure_kind(r); !k || *k != kind)
    errors.push_back("[internal error] case " + std::to_string(index) +
                     ": the traced run of the shrunk scenario " + "does not fail with " + kind);
  try {
    f.scenario_json = scenario::to_json(m);
  } catch (const std::exception& e) {
    errors.push_back("[internal error] case " + std::to_string(index) + ": to_json: " + e.what());
    return f;
  }
  f.schedule = r.schedule;
  f.trace_json = r.trace_json;
  return f;
}

// --- the worker side: one case, encoded for the supervising process -------------------------

enum CaseStatus : uint64_t { case_passed, case_quirk, case_failed, case_exception };

void write_hits(ByteWriter& w, const LineHits& hits) {
  uint64_t nonzero = 0;
  for (uint64_t h : hits)
    nonzero += h != 0;
  w.u64(nonzero);
  for (size_t line = 0; line < hits.size(); ++line)
    if (hits[line]) {
      w.u64(line);
      w.u64(hits[line]);
    }
}

void write_finding(ByteWriter& w, const Finding& f, const std::vector<std::string>& errors) {
  w.str(f.kind);
  w.str(f.base_path);
  w.str(f.message);
  w.u64(f.shrink.steps);
  w.u64(f.shrink.attempts);
  w.u64(f.shrink.budget_exhausted);
  w.str(f.scenario_json);
  w.str(f.schedule);
  w.str(f.trace_json);
  w.u64(errors.size());
  for (const std::string& e : errors)
    w.str(e);
}

// Runs case `index` (in a worker process): status, line hits, then what the status needs.
std::string serve_case(const FuzzOptions& o, uint64_t index) {
  ByteWriter w;
  const rc::Shrinkable<scenario::ScenarioSpec> generated = generate_case(o.seed, index, o.gen);
  std::optional<std::string> kind, quirk;
  LineHits hits{};
  uint64_t windows = 0;
  try {
    const scenario::ScenarioSpec spec = generated.value();
    RunOptions opt;
    opt.check_model = o.check_model;
    const RunResult r = run_scenario(spec, opt);
    std::copy(r.line_hits.begin(), r.line_hits.end(), hits.begin());
    windows = r.race_windows;
    kind = failure_kind(r);
    if (kind && !o.include_known) quirk = known_quirk(spec, r);
  } catch (const std::exception& e) {
    w.u64(case_exception);
    write_hits(w, hits);
    w.u64(windows);
    w.str(e.what());
    return w.bytes;
  }
  w.u64(quirk ? case_quirk : kind ? case_failed : case_passed);
  write_hits(w, hits);
  w.u64(windows);
  if (quirk) w.str(*quirk);
  if (quirk || !kind) return w.bytes;
  std::vector<std::string> errors;
  write_finding(w, make_finding(o, index, *kind, generated, errors), errors);
  return w.bytes;
}

// --- the supervising side --------------------------------------------------------------------

Finding read_finding(ByteReader& r, uint64_t index, std::vector<std::string>& errors) {
  Finding f;
  f.case_index = index;
  f.kind = r.str();
  f.base_path = r.str();
  f.message = r.str();
  f.shrink.steps = r.u64();
  f.shrink.attempts = r.u64();
  f.shrink.budget_exhausted = r.u64() != 0;
  f.scenario_json = r.str();
  f.schedule = r.str();
  f.trace_json = r.str();
  for (uint64_t n = r.u64(); n > 0; --n)
    errors.push_back(r.str());
  if (!f.scenario_json.empty()) {
    f.minimal = scenario::parse_scenario(f.scenario_json, f.base_path + ".json");
    f.shrink.spec = f.minimal;
  }
  return f;
}

// A case whose worker died (crash_guard.hpp): the finding is the generated scenario, not shrunk,
// and the schedule token recorded up to the crash (no trace: the traced run would die too).
Finding crash_finding(const FuzzOptions& o, uint64_t index, const CrashReport& crash,
                      std::vector<std::string>& errors) {
  Finding f;
  f.case_index = index;
  f.kind = crash.kind;
  const std::string stem = file_safe(crash.kind) + "-" + std::to_string(index);
  f.base_path = (std::filesystem::path(o.out_dir) / stem).string();
  f.shrink.spec = generate_case(o.seed, index, o.gen).value();
  f.minimal = f.shrink.spec;
  f.minimal.name = stem;
  f.minimal.path = f.base_path + ".json";
  f.message = describe(crash);
  for (char& c : f.message)
    if (c == '\n') c = ' ';
  f.minimal.description =
      "Found by diosim fuzz --seed " + std::to_string(o.seed) + " (case " + std::to_string(index) +
      "), not shrunk (crashes and hangs are not shrunk). Fails with " + f.message;
  f.schedule = crash.schedule;
  try {
    f.scenario_json = scenario::to_json(f.minimal);
  } catch (const std::exception& e) {
    errors.push_back("[internal error] case " + std::to_string(index) + ": to_json: " + e.what());
  }
  return f;
}

void print_finding(std::FILE* progress, const Finding& f, bool crashed) {
  if (!progress) return;
  if (crashed)
    std::fprintf(progress, "fuzz: case %llu crashes with %s; not shrunk -> %s.json\n  %s\n",
                 static_cast<unsigned long long>(f.case_index), f.kind.c_str(), f.base_path.c_str(),
                 f.message.c_str());
  else
    std::fprintf(progress, "fuzz: case %llu fails with %s; shrunk in %llu steps -> %s.json\n  %s\n",
                 static_cast<unsigned long long>(f.case_index), f.kind.c_str(),
                 static_cast<unsigned long long>(f.shrink.steps), f.base_path.c_str(),
                 f.message.c_str());
}

// Folds one case's outcome (a worker's reply, or how its worker died) into the summary.
void record_case(const FuzzOptions& o, uint64_t index, WorkOutcome&& outcome, FuzzSummary& s,
                 std::FILE* progress) {
  ++s.cases;
  if (const auto* crash = std::get_if<CrashReport>(&outcome)) {
    ++s.failing_cases;
    ++s.by_kind[crash->kind];
    s.findings.push_back(crash_finding(o, index, *crash, s.write_errors));
    print_finding(progress, s.findings.back(), true);
    return;
  }
  ByteReader r(std::get<std::string>(outcome));
  const uint64_t status = r.u64();
  for (uint64_t n = r.u64(); n > 0; --n) {
    const uint64_t line = r.u64();
    const uint64_t hits = r.u64();
    if (line < s.line_hits.size()) s.line_hits[line] += hits;
  }
  const uint64_t windows = r.u64();
  for (unsigned w = 0; w < static_cast<unsigned>(kern::RaceWindow::count); ++w)
    if (windows & (1u << w))
      ++s.race_windows[kern::race_window_name(static_cast<kern::RaceWindow>(w))];
  if (status == case_quirk) {
    ++s.known[r.str()];
  } else if (status == case_exception) {
    ++s.failing_cases;
    ++s.by_kind["internal-error"];
    s.write_errors.push_back("[internal error] case " + std::to_string(index) + ": " + r.str());
  } else if (status == case_failed) {
    ++s.failing_cases;
    Finding f = read_finding(r, index, s.write_errors);
    ++s.by_kind[f.kind];
    print_finding(progress, f, false);
    s.findings.push_back(std::move(f));
  }
}

} // namespace

FuzzSummary run_fuzz(const FuzzOptions& o, std::FILE* progress) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  FuzzSummary summary;
  uint64_t next = 0;
  Clock::time_point last_progress = t0;

  auto next_item = [&]() -> std::optional<WorkItem> {
    if (o.seconds > 0 && Clock::now() >= deadline) return std::nullopt;
    const uint64_t n = next++;
    if (o.only_case ? n >= 1 : o.cases && n >= o.cases) return std::nullopt;
    const uint64_t index = o.only_case ? *o.only_case : n;
    ByteWriter w;
    w.u64(index);
    return WorkItem{index, w.bytes};
  };
  auto serve = [&](const std::string& request) {
    ByteReader r(request);
    return serve_case(o, r.u64());
  };
  auto on_done = [&](uint64_t index, WorkOutcome&& outcome) {
    record_case(o, index, std::move(outcome), summary, progress);
  };
  auto on_tick = [&](uint64_t) {
    const Clock::time_point now = Clock::now();
    if (!progress || now - last_progress < std::chrono::seconds(1)) return;
    last_progress = now;
    const double s = std::chrono::duration<double>(now - t0).count();
    std::fprintf(progress, "fuzz: %llu cases, %llu failing, %.0f cases/s\n",
                 static_cast<unsigned long long>(summary.cases),
                 static_cast<unsigned long long>(summary.failing_cases),
                 s > 0 ? summary.cases / s : 0.0);
    std::fflush(progress);
  };
  run_supervised(std::max(1u, o.jobs), serve, next_item, on_done, on_tick, o.guard);

  summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(summary.findings.begin(), summary.findings.end(),
            [](const Finding& a, const Finding& b) { return a.case_index < b.case_index; });
  return summary;
}

} // namespace diosim::model
