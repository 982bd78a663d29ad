// SPDX-License-Identifier: GPL-2.0-only
// diosim fuzz [--cases N | --time S] [--seed S] [--jobs N] [--out DIR]
//             [--case N] [--no-shrink] [--no-model] [--include-known] [--without F,...]
//             [--hang-seconds S]
//
// Generates random scenarios (timed and explore mode, random seeds), runs each once, and
// shrinks every failing one to a small scenario that fails the same way. For each it writes
// DIR/<kind>-<case>.json (run it with `diosim run`), .schedule (the exact run's token, for
// `diosim run FILE --schedule "$(cat FILE.schedule)"`), .trace.json and .html (the viewer). A
// progress line goes to stderr about once a second; the summary (failures per kind, known quirks,
// fs/direct-io.c line coverage of the cases) to stdout. Cases run in supervised worker processes:
// a case that crashes or hangs the simulated code is a finding (kind crash:SIGSEGV, abort,
// stack-overflow, hang ...) written as generated with the schedule token up to the crash and no
// trace, and the campaign goes on. Exit: 0 nothing failed, 1 violations found,
// 2 bad usage, 3 an internal error of diosim in some case.
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/options.hpp"
#include "cli/port_source.hpp"
#include "model/search/fuzz.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

namespace diosim::cli {
namespace {

constexpr const char* kFeatures =
    "set_private, small_disks, write_faults, disk_errors, nowait, dirty_pages, busy_pages, "
    "extents_past_eof, sub_page_blocks, explore_faults, alloc_failures, writeback_errors, "
    "task_control, two_files, more_ops";

struct FuzzArgs {
  uint64_t cases = 0;
  double seconds = 0;
  uint64_t seed = 1;
  unsigned jobs = 1;
  std::string out = "fuzz-out";
  uint64_t max_shrink = 5000;
  bool quiet = false;
  bool include_known = false;
  std::vector<std::string> without;
  std::optional<uint64_t> only_case;
  bool no_shrink = false;
  bool no_model = false;
  double hang_seconds = 10;
};

// Each finding as four files: scenario, schedule token, trace and viewer page (a crash has no
// trace: its scenario and schedule only).
void write_findings(model::FuzzSummary& s) {
  for (const model::Finding& f : s.findings) {
    if (f.scenario_json.empty()) continue; // its internal error is already in write_errors
    std::string error;
    const bool traced = !f.trace_json.empty();
    if (!write_text_file(f.base_path + ".json", f.scenario_json, &error) ||
        !write_text_file(f.base_path + ".schedule", f.schedule + "\n", &error) ||
        (traced && !write_text_file(f.base_path + ".trace.json", f.trace_json, &error)) ||
        (traced && !write_viewer_html(f.base_path + ".html", f.trace_json, &error)))
      s.write_errors.push_back(error);
  }
}

// --without: turns generator features off; false (after a message) on an unknown name.
bool apply_without(const std::vector<std::string>& without, model::GenOptions& gen) {
  const std::pair<const char*, bool model::GenOptions::*> features[] = {
      {"set_private", &model::GenOptions::set_private},
      {"small_disks", &model::GenOptions::small_disks},
      {"write_faults", &model::GenOptions::write_faults},
      {"disk_errors", &model::GenOptions::disk_errors},
      {"nowait", &model::GenOptions::nowait},
      {"dirty_pages", &model::GenOptions::dirty_pages},
      {"busy_pages", &model::GenOptions::busy_pages},
      {"extents_past_eof", &model::GenOptions::extents_past_eof},
      {"sub_page_blocks", &model::GenOptions::sub_page_blocks},
      {"explore_faults", &model::GenOptions::explore_faults},
      {"alloc_failures", &model::GenOptions::alloc_failures},
      {"writeback_errors", &model::GenOptions::writeback_errors},
      {"task_control", &model::GenOptions::task_control},
      {"two_files", &model::GenOptions::two_files},
      {"more_ops", &model::GenOptions::more_ops}};
  for (const std::string& w : without) {
    bool known = false;
    for (const auto& [name, member] : features)
      if (w == name) {
        gen.*member = false;
        known = true;
      }
    if (!known) {
      std::fprintf(stderr, "diosim: --without: unknown feature \"%s\" (%s)\n", w.c_str(),
                   kFeatures);
      return false;
    }
  }
  return true;
}

int cmd_fuzz(const FuzzArgs& a) {
  model::FuzzOptions o;
  o.cases = a.cases;
  o.seconds = a.seconds;
  if (!o.cases && o.seconds <= 0) o.cases = 1000;
  o.seed = a.seed;
  o.jobs = a.jobs;
  o.out_dir = a.out;
  o.max_shrink_attempts = a.max_shrink;
  o.include_known = a.include_known;
  o.only_case = a.only_case;
  o.shrink = !a.no_shrink;
  o.check_model = !a.no_model;
  o.guard.hang_seconds = a.hang_seconds;
  if (!apply_without(a.without, o.gen)) return 2;
  model::FuzzSummary s = model::run_fuzz(o, a.quiet ? nullptr : stderr);
  write_findings(s);
  for (const std::string& e : s.write_errors)
    std::fprintf(stderr, "diosim: %s\n", e.c_str());
  std::printf("fuzz: %llu case%s in %.1f s (%.0f cases/s, %u job%s), seed %llu: %llu failing\n",
              static_cast<unsigned long long>(s.cases), s.cases == 1 ? "" : "s", s.seconds,
              s.seconds > 0 ? s.cases / s.seconds : 0.0, o.jobs, o.jobs == 1 ? "" : "s",
              static_cast<unsigned long long>(o.seed),
              static_cast<unsigned long long>(s.failing_cases));
  try {
    const model::CoverageSummary c =
        model::summarize(s.line_hits, model::marked_lines(kPortSource));
    std::printf("  fs/direct-io.c line coverage: %zu / %zu reachable lines\n", c.covered.size(),
                c.reachable.size());
  } catch (const std::exception&) {
    // the port's source is not where the build left it: no coverage line
  }
  for (const auto& [kind, n] : s.by_kind)
    std::printf("  %-24s %llu case%s\n", kind.c_str(), static_cast<unsigned long long>(n),
                n == 1 ? "" : "s");
  for (const auto& [quirk, n] : s.known)
    std::printf("  known quirk %-12s %llu case%s (not a finding; see model/search/fuzz.hpp, "
                "--include-known)\n",
                quirk.c_str(), static_cast<unsigned long long>(n), n == 1 ? "" : "s");
  for (const auto& [window, n] : s.race_windows)
    std::printf("  race window %-30s %llu case%s\n", window.c_str(),
                static_cast<unsigned long long>(n), n == 1 ? "" : "s");
  for (const model::Finding& f : s.findings)
    std::printf("  case %llu: %s.json (%s)\n", static_cast<unsigned long long>(f.case_index),
                f.base_path.c_str(), f.message.c_str());
  if (!s.findings.empty())
    std::printf("reproduce: diosim run %s.json\n", s.findings.front().base_path.c_str());
  if (!s.write_errors.empty() && s.exit_code() == 0) return 3;
  return s.exit_code();
}

} // namespace

Action register_fuzz(CLI::App& app) {
  auto a = std::make_shared<FuzzArgs>();
  CLI::App* cmd = app.add_subcommand("fuzz", "run random scenarios and shrink the failing ones");
  auto* cases = cmd->add_option("--cases", a->cases,
                                "number of cases (default 1000 when --time is not given)")
                    ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  auto* time = cmd->add_option("--time", a->seconds, "run for this many seconds (wall clock)")
                   ->check(CLI::PositiveNumber);
  cases->excludes(time);
  cmd->add_option("--seed", a->seed, "campaign seed: case i is derived from (seed, i) (default 1)")
      ->check(unsigned_integer());
  cmd->add_option("--jobs", a->jobs, "worker processes (default 1); the cases do not depend on it")
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--out", a->out, "where failing cases are written (default fuzz-out)");
  cmd->add_option("--max-shrink-runs", a->max_shrink,
                  "most runs spent shrinking one failing case (default 5000)")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  cmd->add_flag("-q,--quiet", a->quiet, "no progress line on stderr");
  cmd->add_option("--case", a->only_case,
                  "run only case N of the campaign (as --seed and N derive it)");
  cmd->add_flag("--no-shrink", a->no_shrink, "write failing cases as generated, without shrinking");
  cmd->add_flag("--no-model", a->no_model,
                "check the invariants only, not agreement with the reference model (much faster)");
  cmd->add_flag("--include-known", a->include_known,
                "also shrink and write failures that are known quirks of a filesystem model");
  cmd->add_option("--hang-seconds", a->hang_seconds,
                  "CPU seconds without a scheduling step before a case counts as hung (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--without", a->without,
                  std::string("generate no scenarios with these features: ") + kFeatures)
      ->delimiter(',');
  return [a, cmd]() -> int { return cmd->parsed() ? cmd_fuzz(*a) : -1; };
}

} // namespace diosim::cli
