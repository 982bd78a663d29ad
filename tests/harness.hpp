// SPDX-License-Identifier: GPL-2.0-only
// A bare simulated kernel for unit tests: a scheduler, a Kernel installed on this thread, and
// helpers to run bodies as task or irq contexts.
#pragma once

#include "sim/engine/scheduler.hpp"
#include "sim/kernel/kernel.hpp"

#include <functional>
#include <optional>
#include <string>

namespace diosim::test {

struct Harness {
  explicit Harness(uint64_t seed = 1, engine::SchedMode mode = engine::SchedMode::timed,
                   kern::Tunables tun = {})
      : chooser(seed), sched(config(mode), chooser, nullptr), kernel(tun, sched), scope(kernel) {}

  static engine::Scheduler::Config config(engine::SchedMode mode) {
    engine::Scheduler::Config c;
    c.mode = mode;
    c.record_steps = true;
    return c;
  }

  engine::Context* task(std::string name, std::function<void()> body) {
    return sched.spawn(engine::ContextKind::task, std::move(name), std::move(body));
  }
  engine::Context* irq(std::string name, std::function<void()> body) {
    return sched.spawn(engine::ContextKind::irq, std::move(name), std::move(body));
  }
  // Runs to the end; returns the finding's invariant name, or "" when there was none.
  std::string run() {
    sched.run();
    if (sched.internal_error()) return "internal: " + *sched.internal_error();
    return sched.violation() ? sched.violation()->invariant : std::string();
  }

  engine::RandomChooser chooser;
  engine::Scheduler sched;
  kern::Kernel kernel;
  kern::KernelScope scope;
};

} // namespace diosim::test
