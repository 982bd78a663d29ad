// SPDX-License-Identifier: GPL-2.0-only
// An execution context: one Boost.Context fiber with a kind, a name and a run state.
//
// Invariants:
//   1. Exactly one context runs at a time; only the scheduler resumes a context.
//   2. A context leaves the CPU only inside Scheduler::yield/block/finish.
#pragma once

#include "sim/engine/chooser.hpp"

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace diosim::engine {

enum class ContextKind : uint8_t { task, irq, worker };

inline const char* context_kind_name(ContextKind k) {
  switch (k) {
  case ContextKind::task:
    return "task";
  case ContextKind::irq:
    return "irq";
  case ContextKind::worker:
    return "worker";
  }
  return "?";
}

enum class RunState : uint8_t { runnable, blocked, done };

class Context {
public:
  uint32_t id = 0; // creation order, 1-based; the only ordering the scheduler uses
  ContextKind kind = ContextKind::task;
  std::string name;
  RunState state = RunState::runnable;
  bool idle = false;              // blocked waiting for work that may never come (not a deadlock)
  bool started = false;           // its body has begun (unwinding it needs a resume)
  int src_line = 0;               // source line (the kernel layer names the file) being executed
  StepOp next_op = StepOp::start; // what it announced at its last yield point
  ObjectRef next_object;
  void* kernel = nullptr; // the kernel's per-context state (task_struct), owned by the kernel
  std::function<void()> body;

  boost::context::fiber fiber;        // this context's suspended continuation
  const void* stack_bottom = nullptr; // for AddressSanitizer's fiber-switch annotations
  size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
  boost::context::fiber caller; // the scheduler's continuation while this context runs
};

} // namespace diosim::engine
