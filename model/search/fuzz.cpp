// SPDX-License-Identifier: GPL-2.0-only
#include "model/search/fuzz.hpp"

#include "sim/scenario/scenario_writer.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace diosim::model {

std::optional<std::string> failure_kind(const RunResult& r) {
  if (r.internal_error) return std::string("internal-error");
  if (r.divergence) return std::string("divergence");
  if (r.violation) return r.violation->invariant;
  if (!r.failed_expectations.empty()) return std::string("expectation");
  return std::nullopt;
}

std::optional<std::string> known_quirk(const scenario::ScenarioSpec& spec, const RunResult& r) {
  if (r.violation && r.violation->invariant == "stale-data" &&
      spec.fs.model == scenario::FsModel::ocfs2)
    return std::string("ocfs2-hole-fill");
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

} // namespace

FuzzSummary run_fuzz(const FuzzOptions& o, std::FILE* progress) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  const unsigned jobs = std::max(1u, o.jobs);

  std::atomic<uint64_t> next{0}, done{0}, failing{0};
  std::mutex mutex;
  std::condition_variable wake;
  unsigned running = jobs;
  FuzzSummary summary;

  auto worker = [&]() {
    LineHits hits{};
    for (;;) {
      if (o.seconds > 0 && Clock::now() >= deadline) break;
      const uint64_t n = next.fetch_add(1);
      if (o.only_case ? n >= 1 : o.cases && n >= o.cases) break;
      const uint64_t i = o.only_case ? *o.only_case : n;
      std::optional<std::string> kind, quirk;
      rc::Shrinkable<scenario::ScenarioSpec> generated = generate_case(o.seed, i, o.gen);
      std::string crash;
      try {
        const scenario::ScenarioSpec spec = generated.value();
        RunOptions opt;
        opt.check_model = o.check_model;
        const RunResult r = run_scenario(spec, opt);
        for (size_t k = 0; k < hits.size(); ++k)
          hits[k] += r.line_hits[k];
        kind = failure_kind(r);
        if (kind && !o.include_known) quirk = known_quirk(spec, r);
      } catch (const std::exception& e) {
        crash = e.what();
      }
      if (quirk) {
        std::lock_guard<std::mutex> lock(mutex);
        ++summary.known[*quirk];
      } else if (!crash.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        ++summary.by_kind["internal-error"];
        summary.write_errors.push_back("[internal error] case " + std::to_string(i) + ": " + crash);
        failing.fetch_add(1);
      } else if (kind) {
        failing.fetch_add(1);
        std::vector<std::string> errors;
        Finding f = make_finding(o, i, *kind, generated, errors);
        std::lock_guard<std::mutex> lock(mutex);
        ++summary.by_kind[*kind];
        if (progress)
          std::fprintf(progress,
                       "fuzz: case %llu fails with %s; shrunk in %llu steps -> %s.json\n  %s\n",
                       static_cast<unsigned long long>(i), kind->c_str(),
                       static_cast<unsigned long long>(f.shrink.steps), f.base_path.c_str(),
                       f.message.c_str());
        summary.findings.push_back(std::move(f));
        summary.write_errors.insert(summary.write_errors.end(), errors.begin(), errors.end());
      }
      done.fetch_add(1);
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (size_t k = 0; k < hits.size(); ++k)
      summary.line_hits[k] += hits[k];
    --running;
    wake.notify_all();
  };

  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j)
    threads.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lock(mutex);
    Clock::time_point last = t0;
    while (running) {
      wake.wait_for(lock, std::chrono::milliseconds(200));
      const Clock::time_point now = Clock::now();
      if (progress && running && now - last >= std::chrono::seconds(1)) {
        last = now;
        const double s = std::chrono::duration<double>(now - t0).count();
        std::fprintf(progress, "fuzz: %llu cases, %llu failing, %.0f cases/s\n",
                     static_cast<unsigned long long>(done.load()),
                     static_cast<unsigned long long>(failing.load()),
                     s > 0 ? done.load() / s : 0.0);
        std::fflush(progress);
      }
    }
  }
  for (std::thread& t : threads)
    t.join();

  summary.cases = done.load();
  summary.failing_cases = failing.load();
  summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(summary.findings.begin(), summary.findings.end(),
            [](const Finding& a, const Finding& b) { return a.case_index < b.case_index; });
  return summary;
}

} // namespace diosim::model
