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

void name_lanes(engine::Tracer& tracer, const engine::Scheduler& sched) {
  for (const engine::Context& c : sched.contexts())
    tracer.name_lane(engine::TracePid::contexts, c.id,
                     c.kind == engine::ContextKind::task ? "task " + c.name : c.name,
                     static_cast<int>(c.id));
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
  RunResult result;
  result.seed = options.seed.value_or(spec.seed);

  engine::RandomChooser random(result.seed);
  engine::RecordingChooser recorder(random);
  std::optional<engine::ReplayChooser> replay;
  if (options.replay) replay.emplace(*options.replay);
  engine::Chooser& chooser = replay ? static_cast<engine::Chooser&>(*replay) : recorder;
  // What a crash report names if the simulated code dies during this run (crash_guard.hpp).
  const CrashContext crash_context{result.seed, replay ? nullptr : &recorder,
                                   options.replay ? &*options.replay : nullptr};
  const CrashContextScope crash_scope(crash_context);

  engine::Tracer tracer;
  tracer.enable(options.trace);
  engine::Scheduler::Config config;
  config.mode =
      spec.mode == scenario::Mode::explore ? engine::SchedMode::choice : engine::SchedMode::timed;
  config.step_cost_ns = spec.step_cost_ns;
  config.record_steps = options.record_steps;
  engine::Scheduler sched(config, chooser, &tracer);

  kern::Tunables tun;
  tun.page_size = spec.geometry.page_size;
  tun.dio_pages = spec.geometry.dio_pages;
  tun.bio_max_vecs = spec.geometry.bio_max_vecs;
  tun.reap_threshold = spec.geometry.reap_threshold;
  tun.plug_limit = spec.geometry.plug_limit;
  kern::Kernel kernel(tun, sched);
  kern::KernelScope scope(kernel);
  kern::dio_init();

  world::World world(spec, sched);
  world.start();
  try {
    sched.run();
  } catch (const engine::InternalError& e) {
    result.internal_error = e.what();
  }
  if (sched.internal_error()) result.internal_error = *sched.internal_error();
  if (sched.divergence()) result.divergence = *sched.divergence();
  if (replay && !result.divergence && !sched.violation() && !result.internal_error) {
    try {
      replay->finish();
    } catch (const engine::ReplayDivergence& e) {
      result.divergence = e.what();
    }
  }
  result.violation = sched.violation();
  if (result.violation)
    for (const engine::Context& c : sched.contexts())
      if (c.id == result.violation->context_id) result.violation_context = c.name;
  if (!result.violation && !result.internal_error && !result.divergence) {
    result.violation = check_end_of_run(kernel, world);
    result.failed_expectations = check_expectations(spec, world, kernel.bios_allocated);
  }

  // Every run is checked against the reference model, which states from the scenario alone
  // what each operation must produce.
  if (!result.violation && !result.internal_error && !result.divergence && options.check_model) {
    const ExpectedRun expected = reference_outcome(spec);
    std::vector<ActualOp> actual;
    for (const world::OpOutcome& o : world.outcomes())
      actual.push_back({o.ret, o.submit_ret, o.data, o.i_size_after});
    const std::vector<uint8_t> file = world.file_bytes(0, expected.file.size);
    const std::vector<std::string> mismatches =
        compare_with_reference(spec, expected, actual, file, world.inode().i_size);
    if (!mismatches.empty()) {
      std::string msg;
      for (const std::string& m : mismatches)
        msg += (msg.empty() ? "" : "\n  ") + m;
      result.violation = engine::Violation{"reference-model", 0, msg, sched.step(), 0};
    }
  }

  result.schedule = replay ? options.replay->to_string() : recorder.token().to_string();
  result.outcomes = world.outcomes();
  result.steps = sched.step();
  result.decisions = sched.decisions();
  result.bios = kernel.bios_allocated;
  result.contexts = sched.contexts().size();
  result.final_i_size = world.inode().i_size;
  {
    uint64_t end = static_cast<uint64_t>(std::max<int64_t>(world.inode().i_size, spec.i_size));
    for (const scenario::Task& t : spec.tasks)
      for (const scenario::Operation& op : t.ops) {
        uint64_t len = 0;
        for (const scenario::IoVec& v : op.iov)
          len += v.len;
        end = std::max(end, op.offset + len);
      }
    const uint64_t bs = spec.geometry.fs_block_size;
    for (const scenario::Extent& e : spec.extents)
      end = std::max(end, (e.file_block + e.blocks) * bs);
    end = (end + bs - 1) / bs * bs;
    result.final_file = world.file_bytes(0, end);
  }
  result.line_hits = kernel.line_hits;
  result.step_records = sched.steps();

  if (options.trace) {
    name_lanes(tracer, sched);
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
  // Unwind unfinished fibers while the world and kernel they reference still exist.
  sched.destroy_contexts();
  return result;
}

} // namespace diosim::model
