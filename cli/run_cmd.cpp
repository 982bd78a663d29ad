// SPDX-License-Identifier: GPL-2.0-only
// diosim run / replay / view.
//
//   diosim run SCENARIO.json [--seed N] [--schedule TOKEN] [--trace OUT.json] [--html OUT.html]
//                            [--log] [--quiet] [--no-isolate] [--hang-seconds S]
//   diosim replay SCENARIO.json --schedule TOKEN [--seed N] [--trace ..] [--html ..] [--log]
//                               [--no-isolate] [--hang-seconds S]
//   diosim view TRACE.json -o OUT.html
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "model/check/crash_guard.hpp"
#include "model/check/expectations.hpp"
#include "model/check/runner.hpp"
#include "model/check/step_log.hpp"
#include "sim/scenario/scenario.hpp"
#include "viz/html_export.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace diosim::cli {
namespace {

using namespace diosim;

using namespace diosim;

struct Outputs {
  std::string trace_path, html_path;
  bool log = false;
  bool quiet = false;
  bool wants_trace() const { return !trace_path.empty() || !html_path.empty() || log; }
};

const char* op_name(scenario::OpKind k) {
  switch (k) {
  case scenario::OpKind::pread:
    return "pread";
  case scenario::OpKind::pwrite:
    return "pwrite";
  case scenario::OpKind::reap:
    return "reap";
  }
  return "?";
}

void print_outcomes(const model::RunResult& r) {
  for (const world::OpOutcome& o : r.outcomes) {
    const scenario::Operation& op = *o.op;
    if (op.kind == scenario::OpKind::reap) {
      std::printf("  %-10s #%zu reap\n", o.task.c_str(), o.op_index);
      continue;
    }
    uint64_t count = 0;
    for (const auto& v : op.iov)
      count += v.len;
    std::printf("  %-10s #%zu %s%s offset=%llu count=%llu%s%s -> %s", o.task.c_str(), o.op_index,
                op.aio ? "aio " : "", op_name(op.kind), static_cast<unsigned long long>(op.offset),
                static_cast<unsigned long long>(count), op.dsync ? " dsync" : "",
                op.nowait ? " nowait" : "", model::describe_ret(o.ret).c_str());
    if (o.submit_ret) std::printf("  [submit %s]", model::describe_ret(*o.submit_ret).c_str());
    if (op.expect.ret)
      std::printf("  %s", *op.expect.ret == o.ret ? "(as expected)" : "(UNEXPECTED)");
    std::printf("\n");
  }
}

// Writes an output file, creating its directory; says why when it cannot.
bool write_file(const std::string& path, const std::string& text) {
  std::string error;
  if (write_text_file(path, text, &error)) return true;
  std::fprintf(stderr, "diosim: %s\n", error.c_str());
  return false;
}

int cmd_run(const std::string& file, std::optional<uint64_t> seed, const std::string& schedule,
            const Outputs& outputs) {
  const std::optional<scenario::ScenarioSpec> loaded = load_scenario_or_report(file);
  if (!loaded) return 2;
  const scenario::ScenarioSpec& spec = *loaded;
  model::RunOptions options;
  options.seed = seed;
  options.trace = outputs.wants_trace();
  // A scenario may pin its interleaving ("schedule"); --schedule overrides it.
  const bool pinned = schedule.empty() && spec.schedule && !seed;
  const std::string token_text = pinned ? *spec.schedule : schedule;
  if (!token_text.empty()) {
    std::string error;
    auto token = engine::ScheduleToken::parse(token_text, &error);
    if (!token) {
      if (pinned)
        std::fprintf(stderr, "diosim: bad scenario: %s: /schedule: %s\n", file.c_str(),
                     error.c_str());
      else
        std::fprintf(stderr, "diosim: --schedule: %s\n", error.c_str());
      return 2;
    }
    options.replay = std::move(*token);
  }
  const model::RunResult r = model::run_scenario(spec, options);

  if (outputs.log) std::fputs(model::format_step_log(r.trace_json).c_str(), stdout);
  if (!outputs.quiet) {
    std::printf("scenario %s (%s)\n", spec.name.c_str(), file.c_str());
    print_outcomes(r);
  }
  for (const std::string& f : r.failed_expectations)
    std::printf("EXPECTATION FAILED %s\n", f.c_str());
  if (r.violation) {
    const engine::Violation& v = *r.violation;
    std::printf("VIOLATION %s", v.invariant.c_str());
    if (v.src_line) std::printf(" at fs/direct-io.c:%d", v.src_line);
    if (v.step)
      std::printf(" (step %llu, %s)", static_cast<unsigned long long>(v.step),
                  r.violation_context.c_str());
    std::printf("\n  %s\n", v.message.c_str());
    std::printf("  seed %llu, schedule %s\n  replay: diosim replay %s --schedule %s\n",
                static_cast<unsigned long long>(r.seed), r.schedule.c_str(), file.c_str(),
                r.schedule.c_str());
  }
  if (r.divergence) std::fprintf(stderr, "diosim: replay divergence: %s\n", r.divergence->c_str());
  if (r.internal_error) std::fprintf(stderr, "diosim: %s\n", r.internal_error->c_str());
  if (!outputs.trace_path.empty() && !write_file(outputs.trace_path, r.trace_json)) return 2;
  if (!outputs.html_path.empty() && !write_file(outputs.html_path, viz::render_html(r.trace_json)))
    return 2;
  const int code = r.exit_code();
  std::printf("%s: %llu steps, %llu bios, %llu contexts, seed %llu, schedule %s\n",
              code == 0   ? "PASS"
              : code == 1 ? "FAIL"
                          : "ERROR",
              static_cast<unsigned long long>(r.steps), static_cast<unsigned long long>(r.bios),
              static_cast<unsigned long long>(r.contexts), static_cast<unsigned long long>(r.seed),
              r.schedule.c_str());
  return code;
}

int cmd_view(const std::string& trace_path, const std::string& out_path) {
  std::ifstream in(trace_path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "diosim: %s: cannot read\n", trace_path.c_str());
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("traceEvents")) {
    std::fprintf(stderr, "diosim: %s: not a trace (expected a JSON object with traceEvents)\n",
                 trace_path.c_str());
    return 2;
  }
  return write_file(out_path, viz::render_html(text)) ? 0 : 2;
}

void add_outputs(CLI::App* cmd, Outputs& o) {
  cmd->add_option("--trace", o.trace_path, "write a Chrome Trace Event JSON trace here");
  cmd->add_option("--html", o.html_path,
                  "write the self-contained HTML viewer with the trace here");
  cmd->add_flag("--log", o.log, "print one line per step (the trace as text)");
  cmd->add_flag("-q,--quiet", o.quiet, "print only the summary and findings");
}

struct RunArgs {
  std::string file, schedule, trace_in, html_out;
  uint64_t seed = 0;
  bool no_isolate = false;
  model::GuardOptions guard;
  CLI::Option* seed_opt = nullptr;
  CLI::Option* replay_seed_opt = nullptr;
  Outputs outputs;
};

// Runs `run` (a whole cmd_run) in a crash-guarded worker process (model/check/crash_guard.hpp)
// unless --no-isolate: the worker prints what cmd_run prints and its exit code is returned, so
// a normal run's output is the same either way. A crash or hang of the simulated code is
// printed as a violation (exit 1) with the line, seed and schedule token so far.
int run_under_guard(const RunArgs& a, const std::function<int()>& run) {
  if (a.no_isolate) return run();
  const std::variant<int, model::CrashReport> outcome = model::run_isolated(run, a.guard);
  if (const int* code = std::get_if<int>(&outcome)) return *code;
  const model::CrashReport& c = std::get<model::CrashReport>(outcome);
  std::printf("VIOLATION %s", c.kind.c_str());
  if (c.src_line) std::printf(" at fs/direct-io.c:%d", c.src_line);
  if (c.run_known)
    std::printf(" (step %llu%s%s)", static_cast<unsigned long long>(c.step),
                c.context.empty() ? "" : ", ", c.context.c_str());
  std::printf("\n  %s\n", c.detail.c_str());
  if (c.run_known) {
    const char* cut = c.schedule_truncated ? " (truncated)" : "";
    std::printf("  seed %llu, schedule %s%s\n  replay: diosim replay %s --seed %llu --schedule %s "
                "--no-isolate\n",
                static_cast<unsigned long long>(c.seed), c.schedule.c_str(), cut, a.file.c_str(),
                static_cast<unsigned long long>(c.seed), c.schedule.c_str());
    std::printf("FAIL: %s at step %llu, seed %llu, schedule %s\n", c.kind.c_str(),
                static_cast<unsigned long long>(c.step), static_cast<unsigned long long>(c.seed),
                c.schedule.c_str());
  } else {
    std::printf("FAIL: %s outside a run\n", c.kind.c_str());
  }
  return 1;
}

void add_isolation(CLI::App* cmd, RunArgs& a) {
  cmd->add_flag("--no-isolate", a.no_isolate,
                "run in this process (for a debugger): a crash of the simulated code then "
                "crashes diosim");
  cmd->add_option("--hang-seconds", a.guard.hang_seconds,
                  "CPU seconds without a scheduling step before the run counts as hung "
                  "(default 10)")
      ->check(CLI::PositiveNumber);
}

} // namespace

std::optional<scenario::ScenarioSpec> load_scenario_or_report(const std::string& path) {
  try {
    return scenario::load_scenario(path);
  } catch (const scenario::ScenarioError& e) {
    std::fprintf(stderr, "diosim: bad scenario: %s\n", e.what());
    return std::nullopt;
  }
}

Action register_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "run a scenario file and check it");
  run->add_option("scenario", a->file, "scenario JSON file")->required();
  a->seed_opt = run->add_option("--seed", a->seed, "seed (default: the scenario's)");
  run->add_option("--schedule", a->schedule, "replay this schedule token");
  add_outputs(run, a->outputs);
  add_isolation(run, *a);

  CLI::App* replay = app.add_subcommand("replay", "replay one exact run from its schedule token");
  replay->add_option("scenario", a->file, "scenario JSON file")->required();
  replay->add_option("--schedule", a->schedule, "the token a run printed")->required();
  a->replay_seed_opt = replay->add_option("--seed", a->seed, "seed of the recorded run");
  add_outputs(replay, a->outputs);
  add_isolation(replay, *a);

  CLI::App* view = app.add_subcommand("view", "wrap an existing trace into the HTML viewer");
  view->add_option("trace", a->trace_in, "trace JSON written by --trace")->required();
  view->add_option("-o,--output", a->html_out, "the HTML file to write")->required();

  return [a, run, replay, view]() -> int {
    auto seed_of = [&](CLI::Option* o) {
      return o->count() ? std::optional<uint64_t>(a->seed) : std::nullopt;
    };
    if (run->parsed())
      return run_under_guard(
          *a, [&] { return cmd_run(a->file, seed_of(a->seed_opt), a->schedule, a->outputs); });
    if (replay->parsed())
      return run_under_guard(*a, [&] {
        return cmd_run(a->file, seed_of(a->replay_seed_opt), a->schedule, a->outputs);
      });
    if (view->parsed()) return cmd_view(a->trace_in, a->html_out);
    return -1;
  };
}

} // namespace diosim::cli
