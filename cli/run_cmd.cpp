// SPDX-License-Identifier: GPL-2.0-only
// diosim run / replay / view.
//
//   diosim run SCENARIO.json [--seed N] [--schedule TOKEN] [--trace OUT.json] [--html OUT.html]
//                            [--token OUT] [--log] [--quiet] [--no-model] [--no-isolate]
//                            [--hang-seconds S]
//   diosim replay SCENARIO.json --schedule TOKEN [--seed N] [--trace ..] [--html ..] [--token ..]
//                               [--log] [--quiet] [--no-model] [--no-isolate] [--hang-seconds S]
//   diosim view TRACE.json -o OUT.html
//
// Schedule tokens on the terminal: in full, except under --quiet when longer than
// kQuietTokenChars; then the first characters, the length and an FNV-1a hash, and --token FILE
// writes the whole token (README.md, "Schedule tokens").
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/options.hpp"
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

struct Outputs {
  std::string trace_path, html_path, token_path;
  bool log = false;
  bool quiet = false;
  bool wants_trace() const { return !trace_path.empty() || !html_path.empty() || log; }
};

// What to run: the scenario file, an explicit seed, an explicit token, the model check.
struct RunRequest {
  std::string file;
  std::optional<uint64_t> seed;
  std::optional<std::string> schedule;
  bool check_model = true;
};

const char* op_name(scenario::OpKind k) {
  switch (k) {
  case scenario::OpKind::pread:
    return "pread";
  case scenario::OpKind::pwrite:
    return "pwrite";
  case scenario::OpKind::reap:
    return "reap";
  case scenario::OpKind::barrier:
    return "barrier";
  case scenario::OpKind::ftruncate:
    return "ftruncate";
  case scenario::OpKind::fallocate:
    return "fallocate";
  case scenario::OpKind::fsync:
    return "fsync";
  case scenario::OpKind::fcntl:
    return "fcntl";
  case scenario::OpKind::mmap_read:
    return "mmap_read";
  case scenario::OpKind::mmap_write:
    return "mmap_write";
  case scenario::OpKind::close:
    return "close";
  case scenario::OpKind::io_cancel:
    return "io_cancel";
  case scenario::OpKind::io_destroy:
    return "io_destroy";
  case scenario::OpKind::chattr:
    return "chattr";
  case scenario::OpKind::memset:
    return "memset";
  }
  return "?";
}

// "(as expected)" when every expectation of the op holds (return value, submission result, user
// buffer, i_size), "(UNEXPECTED)" when one fails; nothing for an op without expectations.
const char* verdict(const world::OpOutcome& o) {
  if (!model::has_op_expectations(*o.op)) return "";
  return model::check_op_expectations(o).empty() ? "  (as expected)" : "  (UNEXPECTED)";
}

void print_outcomes(const model::RunResult& r) {
  for (const world::OpOutcome& o : r.outcomes) {
    const scenario::Operation& op = *o.op;
    if (op.kind == scenario::OpKind::reap || op.kind == scenario::OpKind::barrier ||
        op.kind == scenario::OpKind::fcntl) {
      const std::string what =
          op.kind == scenario::OpKind::reap
              ? (op.events ? "reap " + std::to_string(op.events) : "reap")
          : op.kind == scenario::OpKind::fcntl
              ? std::string(op.o_direct ? "fcntl +O_DIRECT" : "fcntl -O_DIRECT")
              : "barrier " + op.barrier;
      std::printf("  %-10s #%zu %s%s\n", o.task.c_str(), o.op_index, what.c_str(),
                  o.finished ? "" : "  (not finished: the run stopped first)");
      continue;
    }
    uint64_t count = scenario::is_inode_op(op.kind) ? op.length : 0; // size / len
    for (const auto& v : op.iov)
      count += v.len;
    std::printf("  %-10s #%zu %s%s offset=%llu count=%llu%s%s -> ", o.task.c_str(), o.op_index,
                op.aio ? "aio " : "", op_name(op.kind), static_cast<unsigned long long>(op.offset),
                static_cast<unsigned long long>(count), op.dsync ? " dsync" : "",
                op.nowait ? " nowait" : "");
    // An op the run never finished has no result: no value, no verdict.
    if (!o.finished) {
      std::printf("not finished (the run stopped first)\n");
      continue;
    }
    std::printf("%s", model::describe_ret(o.ret).c_str());
    if (o.submit_ret) std::printf("  [submit %s]", model::describe_ret(*o.submit_ret).c_str());
    std::printf("%s\n", verdict(o));
  }
}

// The token as the terminal shows it (see the file comment).
std::string shown_token(const std::string& token, const Outputs& outputs) {
  return outputs.quiet ? quiet_token(token, "--token FILE writes it") : token;
}

bool token_abbreviated(const std::string& token, const Outputs& outputs) {
  return shown_token(token, outputs) != token;
}

// "seed 7, schedule TOKEN" for a drawn run; a replayed run used no seed.
std::string run_identity(const model::RunResult& r, const Outputs& outputs) {
  const std::string token = shown_token(r.schedule, outputs);
  switch (r.schedule_source) {
  case model::ScheduleSource::drawn:
    return "seed " + std::to_string(r.seed) + ", schedule " + token;
  case model::ScheduleSource::replayed:
    return "replayed schedule " + token;
  case model::ScheduleSource::pinned:
    return "the scenario's pinned schedule " + token;
  }
  return token;
}

// The command that reproduces this run exactly.
std::string replay_command(const model::RunResult& r, const std::string& file,
                           const Outputs& outputs) {
  if (!token_abbreviated(r.schedule, outputs))
    return "diosim replay " + file + " --schedule " + r.schedule;
  if (!outputs.token_path.empty())
    return "diosim replay " + file + " --schedule \"$(cat " + outputs.token_path + ")\"";
  if (r.schedule_source == model::ScheduleSource::drawn)
    return "diosim run " + file + " --seed " + std::to_string(r.seed);
  if (r.schedule_source == model::ScheduleSource::pinned) return "diosim run " + file;
  return "this command again (with --token FILE to keep the token)";
}

void print_findings(const model::RunResult& r, const std::string& file, const Outputs& outputs) {
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
    std::printf("  %s\n  replay: %s\n", run_identity(r, outputs).c_str(),
                replay_command(r, file, outputs).c_str());
  }
  if (r.divergence) std::fprintf(stderr, "diosim: replay divergence: %s\n", r.divergence->c_str());
  if (r.internal_error) std::fprintf(stderr, "diosim: %s\n", r.internal_error->c_str());
}

// Writes an output file, creating its directory; says why when it cannot.
bool write_file(const std::string& path, const std::string& text) {
  std::string error;
  if (write_text_file(path, text, &error)) return true;
  std::fprintf(stderr, "diosim: %s\n", error.c_str());
  return false;
}

bool write_outputs(const model::RunResult& r, const Outputs& outputs) {
  if (!outputs.trace_path.empty() && !write_file(outputs.trace_path, r.trace_json)) return false;
  if (!outputs.html_path.empty() && !write_file(outputs.html_path, viz::render_html(r.trace_json)))
    return false;
  return outputs.token_path.empty() || write_file(outputs.token_path, r.schedule + "\n");
}

// The run options of a request; false (after a message) when --schedule does not parse.
bool options_of(const RunRequest& req, const Outputs& outputs, model::RunOptions& options) {
  options.seed = req.seed;
  options.trace = outputs.wants_trace();
  options.check_model = req.check_model;
  if (!req.schedule) return true;
  std::string error;
  auto token = engine::ScheduleToken::parse(*req.schedule, &error);
  if (req.schedule->empty())
    error = "an empty string is not a schedule token (a run without decisions is \"v2:\")";
  if (!token || req.schedule->empty()) {
    std::fprintf(stderr, "diosim: --schedule: %s\n", error.c_str());
    return false;
  }
  options.replay = std::move(*token);
  return true;
}

int cmd_run(const RunRequest& req, const Outputs& outputs) {
  const std::optional<scenario::ScenarioSpec> loaded = load_scenario_or_report(req.file);
  if (!loaded) return 2;
  const scenario::ScenarioSpec& spec = *loaded;
  model::RunOptions options;
  if (!options_of(req, outputs, options)) return 2;
  model::RunResult r;
  try {
    r = model::run_scenario(spec, options);
  } catch (const scenario::ScenarioError& e) { // a pinned schedule that does not parse
    std::fprintf(stderr, "diosim: bad scenario: %s\n", e.what());
    return 2;
  }
  if (outputs.log) std::fputs(model::format_step_log(r.trace_json).c_str(), stdout);
  if (!outputs.quiet) {
    std::printf("scenario %s (%s)\n", spec.name.c_str(), req.file.c_str());
    print_outcomes(r);
  }
  print_findings(r, req.file, outputs);
  if (!write_outputs(r, outputs)) return 2;
  if (!req.check_model)
    std::printf("reference model: not compared (--no-model); invariants and the scenario's "
                "expectations were checked\n");
  const int code = r.exit_code();
  std::printf("%s: %llu steps, %llu bios, %llu contexts, %s\n",
              code == 0   ? "PASS"
              : code == 1 ? "FAIL"
                          : "ERROR",
              static_cast<unsigned long long>(r.steps), static_cast<unsigned long long>(r.bios),
              static_cast<unsigned long long>(r.contexts), run_identity(r, outputs).c_str());
  return code;
}

// Why `doc` is not a Chrome trace the viewer can show ("/traceEvents: ..."), or empty when it is.
std::string trace_problem(const nlohmann::json& doc) {
  if (doc.is_discarded()) return "invalid JSON";
  if (!doc.is_object() || !doc.contains("traceEvents"))
    return "not a trace (expected a JSON object with traceEvents)";
  const nlohmann::json& events = doc["traceEvents"];
  if (!events.is_array())
    return std::string("/traceEvents: expected an array of trace events, got ") +
           events.type_name();
  for (size_t i = 0; i < events.size(); ++i) {
    const nlohmann::json& e = events[i];
    if (!e.is_object() || !e.contains("ph") || !e["ph"].is_string())
      return "/traceEvents/" + std::to_string(i) +
             ": expected a trace event (an object with a string \"ph\")";
  }
  if (doc.contains("otherData") && !doc["otherData"].is_object())
    return std::string("/otherData: expected an object, got ") + doc["otherData"].type_name();
  return "";
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
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (const std::string problem = trace_problem(doc); !problem.empty()) {
    std::fprintf(stderr, "diosim: %s: %s\n", trace_path.c_str(), problem.c_str());
    return 2;
  }
  return write_file(out_path, viz::render_html(text)) ? 0 : 2;
}

void add_outputs(CLI::App* cmd, Outputs& o) {
  cmd->add_option("--trace", o.trace_path, "write a Chrome Trace Event JSON trace here");
  cmd->add_option("--html", o.html_path,
                  "write the self-contained HTML viewer with the trace here");
  cmd->add_option("--token", o.token_path, "write the run's schedule token to this file");
  cmd->add_flag("--log", o.log, "print one line per step (the trace as text)");
  cmd->add_flag("-q,--quiet", o.quiet,
                "print only the summary and findings (a schedule token longer than 120 "
                "characters is shortened to its start, length and hash; see --token)");
}

struct RunArgs {
  std::string file, schedule, trace_in, html_out;
  uint64_t seed = 0;
  bool no_isolate = false;
  bool no_model = false;
  model::GuardOptions guard;
  Outputs outputs;

  // The request of the subcommand whose --seed and --schedule options these are.
  RunRequest request(const CLI::Option* seed_opt, const CLI::Option* schedule_opt) const {
    RunRequest r;
    r.file = file;
    if (seed_opt->count()) r.seed = seed;
    if (schedule_opt->count()) r.schedule = schedule;
    r.check_model = !no_model;
    return r;
  }
};

// A crash or hang report, in the shape of a run's violation (exit 1, or 2 when --token cannot
// be written). `replayed`: the run replayed --schedule, so it has no seed of its own.
int print_crash(const RunArgs& a, bool replayed, const model::CrashReport& c) {
  std::printf("VIOLATION %s", c.kind.c_str());
  if (c.src_line) std::printf(" at fs/direct-io.c:%d", c.src_line);
  if (c.run_known)
    std::printf(" (step %llu%s%s)", static_cast<unsigned long long>(c.step),
                c.context.empty() ? "" : ", ", c.context.c_str());
  std::printf("\n  %s\n", c.detail.c_str());
  if (!c.run_known) {
    std::printf("FAIL: %s outside a run\n", c.kind.c_str());
    return 1;
  }
  const std::string token = shown_token(c.schedule, a.outputs);
  const std::string identity =
      (replayed ? "replayed schedule " : "seed " + std::to_string(c.seed) + ", schedule ") + token +
      (c.schedule_truncated ? " (truncated)" : "");
  std::printf("  %s\n", identity.c_str());
  if (token == c.schedule)
    std::printf("  replay: diosim replay %s --schedule %s --no-isolate\n", a.file.c_str(),
                c.schedule.c_str());
  else if (!replayed)
    std::printf("  replay: diosim run %s --seed %llu --no-isolate\n", a.file.c_str(),
                static_cast<unsigned long long>(c.seed));
  std::printf("FAIL: %s at step %llu, %s\n", c.kind.c_str(),
              static_cast<unsigned long long>(c.step), identity.c_str());
  if (!a.outputs.token_path.empty() && !write_file(a.outputs.token_path, c.schedule + "\n"))
    return 2;
  return 1;
}

// Runs `run` (a whole cmd_run) in a crash-guarded worker process (model/check/crash_guard.hpp)
// unless --no-isolate: the worker prints what cmd_run prints and its exit code is returned, so
// a normal run's output is the same either way. A crash or hang of the simulated code is
// printed as a violation (exit 1) with the line, seed and schedule token so far.
int run_under_guard(const RunArgs& a, bool replayed, const std::function<int()>& run) {
  if (a.no_isolate) return run();
  const std::variant<int, model::CrashReport> outcome = model::run_isolated(run, a.guard);
  if (const int* code = std::get_if<int>(&outcome)) return *code;
  return print_crash(a, replayed, std::get<model::CrashReport>(outcome));
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

void add_run_options(CLI::App* cmd, RunArgs& a) {
  add_outputs(cmd, a.outputs);
  cmd->add_flag("--no-model", a.no_model,
                "do not compare with the reference model (invariants and the scenario's "
                "expectations are still checked; the output says so)");
  add_isolation(cmd, a);
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
  CLI::Option* run_seed = run->add_option("--seed", a->seed, "seed (default: the scenario's)")
                              ->check(unsigned_integer());
  CLI::Option* run_schedule =
      run->add_option("--schedule", a->schedule, "replay this schedule token instead of drawing");
  add_run_options(run, *a);

  CLI::App* replay = app.add_subcommand("replay", "replay one exact run from its schedule token");
  replay->add_option("scenario", a->file, "scenario JSON file")->required();
  CLI::Option* replay_schedule =
      replay->add_option("--schedule", a->schedule, "the token a run printed")->required();
  CLI::Option* replay_seed =
      replay
          ->add_option("--seed", a->seed,
                       "ignored: a replay takes every decision from the token (accepted so "
                       "replay lines of older diosim versions still run)")
          ->check(unsigned_integer());
  add_run_options(replay, *a);

  CLI::App* view = app.add_subcommand("view", "wrap an existing trace into the HTML viewer");
  view->add_option("trace", a->trace_in, "trace JSON written by --trace")->required();
  view->add_option("-o,--output", a->html_out, "the HTML file to write")->required();

  return [=]() -> int {
    if (run->parsed())
      return run_under_guard(*a, run_schedule->count() > 0, [&] {
        return cmd_run(a->request(run_seed, run_schedule), a->outputs);
      });
    if (replay->parsed())
      return run_under_guard(
          *a, true, [&] { return cmd_run(a->request(replay_seed, replay_schedule), a->outputs); });
    if (view->parsed()) return cmd_view(a->trace_in, a->html_out);
    return -1;
  };
}

} // namespace diosim::cli
