// SPDX-License-Identifier: GPL-2.0-only
// diosim explore / merge.
//
//   diosim explore SCENARIO --strategy dfs|dpor|pct|random [--budget N | --time S]
//                  [--preemptions K] [--depth d] [--jobs N] [--shard i/N] [--seed S]
//                  [--out DIR] [--json FILE] [--quiet] [--no-isolate] [--hang-seconds S]
//   A crash or hang of the simulated code is a violation and the search goes on past it
//   (worker processes, model/search/explore_isolated.cpp) unless --no-isolate.
//   diosim merge SHARD.json... [--json FILE]
//
// Exit codes: 0 no violation, 1 violations found, 2 bad usage or scenario, 3 internal error.
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "cli/options.hpp"
#include "model/check/runner.hpp"
#include "model/search/explore.hpp"
#include "model/search/explore_json.hpp"
#include "sim/scenario/scenario_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace diosim::cli {
namespace {

struct ExploreArgs {
  std::string file, strategy = "dpor", shard, out, json;
  uint64_t budget = 0, seed = 1;
  double seconds = 0;
  int preemptions = -1, depth = 3;
  unsigned jobs = 1;
  bool quiet = false, stop = false, no_isolate = false;
  model::GuardOptions guard;
  std::vector<std::string> merge_inputs;
  std::string merge_json;
};

bool parse_shard(const std::string& text, unsigned& index, unsigned& count) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  try {
    index = static_cast<unsigned>(std::stoul(text.substr(0, slash)));
    count = static_cast<unsigned>(std::stoul(text.substr(slash + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return count >= 1 && index < count;
}

// Under --quiet a long token is abbreviated (cli/options.hpp); --out writes every one in full.
void print_summary(const model::ExploreResult& r, const std::string& scenario, bool quiet) {
  std::printf("explore %s: strategy %s", scenario.c_str(), model::strategy_name(r.strategy));
  if (r.preemptions >= 0)
    std::printf(", at most %d preemption%s", r.preemptions, r.preemptions == 1 ? "" : "s");
  std::printf("\n  executions: %llu", static_cast<unsigned long long>(r.executions));
  if (r.abandoned)
    std::printf(" (%llu cut short by sleep sets)", static_cast<unsigned long long>(r.abandoned));
  std::printf(" in %.2f s (%.0f/s)\n", r.seconds, r.seconds > 0 ? r.executions / r.seconds : 0.0);
  if (r.exhausted)
    std::printf("  space: EXHAUSTED: %s\n",
                r.preemptions >= 0 ? "every interleaving within the preemption bound was run"
                                   : "every interleaving (up to equivalence) was run");
  else
    std::printf("  space: not exhausted (%llu of %llu units done)\n",
                static_cast<unsigned long long>(r.units_done),
                static_cast<unsigned long long>(r.units));
  std::printf("  distinct terminal states: %zu\n", r.outcomes.size());
  std::printf("  violations: %zu kind%s\n", r.violations.size(),
              r.violations.size() == 1 ? "" : "s");
  for (const auto& [kind, v] : r.violations) {
    std::printf("    %s: %llu execution%s, first after %llu; minimal schedule (%u preemption%s, "
                "%u decisions): %s\n",
                kind.c_str(), static_cast<unsigned long long>(v.count), v.count == 1 ? "" : "s",
                static_cast<unsigned long long>(model::executions_before_first(r, v)),
                v.preemptions, v.preemptions == 1 ? "" : "s", v.decisions,
                (quiet ? quiet_token(v.token, "--out DIR writes it") : v.token).c_str());
    std::printf("      ");
    if (v.src_line) std::printf("at fs/direct-io.c:%d ", v.src_line);
    if (!v.context.empty()) std::printf("in %s ", v.context.c_str());
    std::string msg = v.message.substr(0, v.message.find('\n'));
    std::printf("%s\n", msg.c_str());
  }
  for (const auto& [w, n] : r.race_windows)
    std::printf("  race window %-40s %llu execution%s\n", w.c_str(),
                static_cast<unsigned long long>(n), n == 1 ? "" : "s");
  for (const std::string& e : r.internal_errors)
    std::printf("  %s\n", e.c_str());
  for (const std::string& n : r.notes)
    std::printf("  note: %s\n", n.c_str());
  if (r.exhausted && r.violations.empty())
    std::printf("  => no violation in any interleaving%s\n",
                r.preemptions >= 0 ? (" with at most " + std::to_string(r.preemptions) +
                                      " preemption" + (r.preemptions == 1 ? "" : "s"))
                                         .c_str()
                                   : "");
}

// A crash or hang of the simulated code (model/check/crash_guard.hpp): its witness is not
// replayed here, where it would crash the tool.
bool is_crash_kind(const std::string& kind) {
  return kind.rfind("crash:", 0) == 0 || kind == "abort" || kind == "stack-overflow" ||
         kind == "hang";
}

// Writes scenario (with its schedule pinned), token, trace and viewer per violation kind; for a
// crash, the scenario and token only (`diosim run` of the scenario reports the crash).
bool write_witnesses(model::Session& session, const model::ExploreResult& r,
                     const std::string& dir) {
  for (const auto& [kind, v] : r.violations) {
    std::string error;
    auto token = engine::ScheduleToken::parse(v.token, &error);
    if (!token) continue;
    const bool crash = is_crash_kind(kind);
    model::RunResult run;
    if (!crash) {
      model::RunOptions replay;
      replay.replay = *token;
      replay.trace = true;
      run = model::run_in_session(session, replay);
    }
    scenario::ScenarioSpec pinned = session.spec();
    pinned.name += "-" + kind;
    pinned.schedule = v.token;
    pinned.description = "Found by diosim explore (" +
                         std::string(model::strategy_name(r.strategy)) + "): " + kind + ". " +
                         pinned.description;
    std::string base = dir + "/" + kind;
    std::replace(base.begin() + static_cast<long>(dir.size()), base.end(), ':', '_');
    if (!write_text_file(base + ".json", scenario::to_json(pinned), &error) ||
        !write_text_file(base + ".schedule", v.token + "\n", &error) ||
        (!crash && (!write_text_file(base + ".trace.json", run.trace_json, &error) ||
                    !write_viewer_html(base + ".html", run.trace_json, &error)))) {
      std::fprintf(stderr, "diosim: %s\n", error.c_str());
      return false;
    }
    std::printf("    files: %s.{json,schedule%s}\n", base.c_str(), crash ? "" : ",trace.json,html");
  }
  return true;
}

int exit_code_of(const model::ExploreResult& r) {
  if (!r.internal_errors.empty()) return 3;
  return r.violations.empty() ? 0 : 1;
}

int cmd_explore(const ExploreArgs& a) {
  const auto strategy = model::parse_strategy(a.strategy);
  if (!strategy) {
    std::fprintf(stderr, "diosim: --strategy: unknown strategy \"%s\" (dfs, dpor, pct, random)\n",
                 a.strategy.c_str());
    return 2;
  }
  model::ExploreOptions o;
  o.strategy = *strategy;
  if (!a.shard.empty() && !parse_shard(a.shard, o.shard_index, o.shard_count)) {
    std::fprintf(stderr, "diosim: --shard: expected i/N with 0 <= i < N, got \"%s\"\n",
                 a.shard.c_str());
    return 2;
  }
  if ((o.strategy == model::Strategy::pct || o.strategy == model::Strategy::random) &&
      a.budget == 0 && a.seconds == 0) {
    std::fprintf(stderr, "diosim: --strategy %s needs --budget or --time\n", a.strategy.c_str());
    return 2;
  }
  const std::optional<scenario::ScenarioSpec> spec = load_scenario_or_report(a.file);
  if (!spec) return 2;
  o.budget = a.budget;
  o.seconds = a.seconds;
  o.preemptions = a.preemptions;
  o.depth = a.depth;
  o.seed = a.seed;
  o.jobs = a.jobs;
  o.stop_on_violation = a.stop;
  if (a.stop) o.shrink_budget = 0; // time to the first finding: no minimising after it
  if (!a.quiet)
    o.progress = [](const model::ExploreProgress& p) {
      std::fprintf(stderr, "explore: %llu executions (%.0f/s), %llu failing\n",
                   static_cast<unsigned long long>(p.executions),
                   p.seconds > 0 ? p.executions / p.seconds : 0.0,
                   static_cast<unsigned long long>(p.violations));
    };
  scenario::ScenarioSpec explore_spec = *spec;
  explore_spec.mode = scenario::Mode::explore; // every decision is the explorer's
  model::Session session(explore_spec);
  const model::ExploreResult r =
      a.no_isolate ? model::explore(session, o) : model::explore_isolated(session, o, a.guard);
  print_summary(r, a.file, a.quiet);
  std::string error;
  if (!a.out.empty() && !write_witnesses(session, r, a.out)) return 2;
  if (!a.json.empty() && !write_text_file(a.json, model::explore_result_json(r, a.file), &error)) {
    std::fprintf(stderr, "diosim: %s\n", error.c_str());
    return 2;
  }
  return exit_code_of(r);
}

int cmd_merge(const ExploreArgs& a) {
  std::vector<model::ExploreResult> shards;
  std::string scenario;
  for (const std::string& path : a.merge_inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "diosim: %s: cannot read\n", path.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      shards.push_back(model::explore_result_from_json(ss.str(), &scenario));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "diosim: %s: %s\n", path.c_str(), e.what());
      return 2;
    }
  }
  const model::ExploreResult r = model::merge_results(shards);
  print_summary(r, scenario, false);
  std::string error;
  if (!a.merge_json.empty() &&
      !write_text_file(a.merge_json, model::explore_result_json(r, scenario), &error)) {
    std::fprintf(stderr, "diosim: %s\n", error.c_str());
    return 2;
  }
  return exit_code_of(r);
}

} // namespace

Action register_explore(CLI::App& app) {
  auto a = std::make_shared<ExploreArgs>();
  CLI::App* cmd = app.add_subcommand("explore", "explore a scenario's interleavings and faults");
  cmd->add_option("scenario", a->file, "scenario JSON file")->required();
  cmd->add_option("--strategy", a->strategy, "dfs, dpor (default), pct or random");
  cmd->add_option("--budget", a->budget, "most executions (default: until exhausted)");
  cmd->add_option("--time", a->seconds, "stop after this many seconds (wall clock)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--preemptions", a->preemptions, "preemption bound K (dfs, dpor)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--depth", a->depth, "PCT bug depth d (default 3)")->check(CLI::Range(1, 100));
  cmd->add_option("--jobs", a->jobs, "worker processes (default 1); results do not depend on it")
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--shard", a->shard, "explore only shard i of N (i/N); combine with merge");
  cmd->add_option("--seed", a->seed, "seed of pct and random (default 1)")
      ->check(unsigned_integer());
  cmd->add_option("--out", a->out, "write each violation's scenario, schedule, trace and HTML");
  cmd->add_option("--json", a->json, "write the result as JSON (for diosim merge)");
  cmd->add_flag("-q,--quiet", a->quiet, "no progress lines on stderr");
  cmd->add_flag("--stop-on-violation", a->stop, "stop at the first failing execution");
  cmd->add_flag("--no-isolate", a->no_isolate,
                "run in this process (threads): faster to start, but a crash of the simulated "
                "code ends diosim");
  cmd->add_option("--hang-seconds", a->guard.hang_seconds,
                  "CPU seconds without progress before a run counts as hung (default 10)")
      ->check(CLI::PositiveNumber);

  CLI::App* merge = app.add_subcommand("merge", "combine explore --json results of shards");
  merge->add_option("results", a->merge_inputs, "explore --json files")->required();
  merge->add_option("--json", a->merge_json, "write the merged result as JSON");
  return [a, cmd, merge]() -> int {
    if (cmd->parsed()) return cmd_explore(*a);
    if (merge->parsed()) return cmd_merge(*a);
    return -1;
  };
}

} // namespace diosim::cli
