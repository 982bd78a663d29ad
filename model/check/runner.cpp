// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/runner.hpp"

#include "model/check/crash_guard.hpp"
#include "model/check/expectations.hpp"
#include "model/check/invariants.hpp"
#include "model/reference/reference.hpp"
#include "sim/dio/direct_io.hpp"

#include <nlohmann/json.hpp>

namespace diosim::model {

int RunResult::exit_code() const {
  if (internal_error) return 3;
  if (divergence) return 2;
  if (violation || !failed_expectations.empty()) return 1;
  return 0;
}

namespace {

// Lanes in reading order: the tasks (where each story starts), then the irq contexts by CPU
// (created in CPU order), then the workqueue workers; within a kind, creation order.
void name_lanes(engine::Tracer& tracer, const engine::Scheduler& sched) {
  for (const engine::Context& c : sched.contexts()) {
    const int kind_rank = c.kind == engine::ContextKind::task  ? 0
                          : c.kind == engine::ContextKind::irq ? 1
                                                               : 2;
    tracer.name_lane(engine::TracePid::contexts, c.id,
                     c.kind == engine::ContextKind::task ? "task " + c.name : c.name,
                     kind_rank * 100000 + static_cast<int>(c.id));
  }
  tracer.name_lane(engine::TracePid::block, 1, "disk", 1);
  tracer.name_lane(engine::TracePid::objects, 0, "counters", 1);
}

std::string violation_json(const engine::Violation& v, const std::string& context) {
  nlohmann::ordered_json j;
  j["invariant"] = v.invariant;
  j["src"] = v.src_line ? "fs/direct-io.c:" + std::to_string(v.src_line) : "";
  j["step"] = v.step;
  j["context"] = context;
  j["message"] = v.message;
  return j.dump();
}

} // namespace

RunResult run_scenario(const scenario::ScenarioSpec& spec, const RunOptions& options) {
  Session session(spec, options.check_model);
  RunResult r = run_in_session(session, options);
  // The outcomes point into the session's copy of the spec: point them at the caller's.
  size_t k = 0;
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops)
      if (k < r.outcomes.size()) r.outcomes[k++].op = &op;
  return r;
}

namespace {

void fill_result(RunResult& result, const scenario::ScenarioSpec& spec,
                 const engine::Scheduler& sched, const kern::Kernel& kernel,
                 const world::World& world, const ExecSummary& summary) {
  result.violation = summary.violation;
  result.violation_context = summary.violation_context;
  result.internal_error = summary.internal_error;
  result.divergence = summary.divergence;
  result.failed_expectations = summary.failed_expectations;
  result.outcome_hash = summary.outcome_hash;
  result.race_windows = summary.race_windows;
  result.outcomes = world.outcomes();
  result.steps = sched.step();
  result.decisions = sched.decisions();
  result.bios = kernel.bios_allocated;
  result.contexts = sched.contexts().size();
  result.final_i_size = world.inode().i_size;
  result.final_file = final_file_image(world, final_file_end(spec, world.inode().i_size));
  result.line_hits = kernel.line_hits;
  result.step_records = sched.steps();
}

// The trace's metadata (otherData: tool, scenario, seed, schedule, outcome) and its JSON.
void finish_trace(engine::Tracer& tracer, const scenario::ScenarioSpec& spec, RunResult& result) {
  tracer.set_other("tool", "\"diosim\"");
  tracer.set_other("version", nlohmann::json(DIOSIM_VERSION).dump());
  tracer.set_other("format_version", "1");
  tracer.set_other("kernel_src", "\"fs/direct-io.c@e6b9d8eddb1772d99a676a906d42865293934edd\"");
  tracer.set_other("scenario", nlohmann::json(spec.name).dump());
  tracer.set_other("scenario_file", nlohmann::json(spec.path).dump());
  tracer.set_other("seed", std::to_string(result.seed));
  tracer.set_other("schedule", nlohmann::json(result.schedule).dump());
  tracer.set_other("mode", spec.mode == scenario::Mode::explore ? "\"explore\"" : "\"timed\"");
  const char* outcome = result.internal_error                ? "internal-error"
                        : result.divergence                  ? "divergence"
                        : result.violation                   ? "violation"
                        : result.failed_expectations.empty() ? "pass"
                                                             : "expectation-failed";
  tracer.set_other("outcome", nlohmann::json(outcome).dump());
  if (result.violation)
    tracer.set_other("failure", violation_json(*result.violation, result.violation_context));
  if (!result.failed_expectations.empty())
    tracer.set_other("failed_expectations", nlohmann::json(result.failed_expectations).dump());
  result.trace_json = tracer.to_json();
}

} // namespace

RunResult run_in_session(Session& session, const RunOptions& options) {
  const scenario::ScenarioSpec& spec = session.spec();
  RunResult result;
  result.seed = options.seed.value_or(spec.seed);

  engine::RandomChooser random(result.seed);
  engine::RecordingChooser recorder(random);
  // The token this run replays, if any: the caller's, or the scenario's pinned one.
  const engine::ScheduleToken* replayed = nullptr;
  if (options.replay) {
    replayed = &*options.replay;
    result.schedule_source = ScheduleSource::replayed;
  } else if (!options.seed && session.pinned_schedule()) {
    replayed = &*session.pinned_schedule();
    result.schedule_source = ScheduleSource::pinned;
  }
  std::optional<engine::ReplayChooser> replay;
  if (replayed) replay.emplace(*replayed);
  engine::Chooser& chooser = replay ? static_cast<engine::Chooser&>(*replay) : recorder;
  // What a crash report names if the simulated code dies during this run (crash_guard.hpp).
  const CrashContext crash_context{result.seed, replay ? nullptr : &recorder, replayed};
  const CrashContextScope crash_scope(crash_context);

  engine::Tracer tracer;
  tracer.enable(options.trace);
  ExecOptions exec;
  exec.trace = options.trace;
  exec.record_steps = options.record_steps;
  session.execute(
      chooser, exec,
      [&](const engine::Scheduler& sched, const kern::Kernel& kernel, const world::World& world,
          const ExecSummary& summary) {
        fill_result(result, spec, sched, kernel, world, summary);
        if (options.trace) name_lanes(tracer, sched);
      },
      &tracer);
  if (replay && !result.divergence && !result.violation && !result.internal_error) {
    try {
      replay->finish();
    } catch (const engine::ReplayDivergence& e) {
      result.divergence = e.what();
    }
  }
  result.schedule = replayed ? replayed->to_string() : recorder.token().to_string();
  if (options.trace) finish_trace(tracer, spec, result);
  return result;
}

} // namespace diosim::model
