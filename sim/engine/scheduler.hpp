// SPDX-License-Identifier: GPL-2.0-only
// The discrete-event scheduler: virtual clock, event queue, fiber contexts, yield points.
//
// Design (numbered invariants; the engine asserts them and tests exercise them):
//   1. One context runs at a time. It leaves the CPU only at a yield point (yield), when it
//      blocks (block) or when its body returns.
//   2. Every nondeterministic decision goes through the Chooser: which runnable context or
//      deliverable event goes next (only when there are two or more options), and every latency
//      draw. Options are listed in a fixed order: contexts by id, then events by id.
//   3. Timed mode: an event fires when virtual time reaches it; each step costs step_cost_ns.
//      Choice mode: a posted event has no time; delivering it is one more option at every
//      decision, so a Chooser can deliver it at any point.
//   4. No runnable context, no event, and some context blocked and not idle = deadlock, reported
//      as a Violation, never a hang.
//   5. After a violation the run stops: no context is resumed again; unfinished fibers are
//      unwound when the scheduler is destroyed.
//   6. A step performs no heap allocation when tracing and step recording are off.
#pragma once

#include "sim/engine/chooser.hpp"
#include "sim/engine/context.hpp"
#include "sim/engine/fiber_stack.hpp"
#include "sim/engine/trace.hpp"
#include "sim/engine/violation.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace diosim::engine {

enum class SchedMode : uint8_t { timed, choice };

// What a yield point does, for the explorer's dependency analysis and for replay checks.
enum class StepOp : uint8_t {
  acquire, // lock acquire
  release, // lock release
  wake,    // wake another context
  sleep,   // block until woken
  submit,  // hand an object to another context or device
  free,    // free an object
  hook,    // call into the world (get_block, end_io, ki_complete ...)
  deliver, // an event delivered (bio completion)
  observe, // a read of shared state another context can change
};

struct StepRecord {
  uint64_t step = 0;
  uint32_t context_id = 0;
  StepOp op = StepOp::observe;
  int src_line = 0;
  uint64_t object = 0;        // id of the lock, dio, bio, page, wait queue or workqueue touched
  uint64_t runnable_mask = 0; // bit (id-1) per runnable context with id <= 64
};

using EventFn = void (*)(void* arg, uint64_t event_id);

class Scheduler {
public:
  struct Config {
    SchedMode mode = SchedMode::timed;
    uint64_t step_cost_ns = 100;
    uint64_t max_steps = 50'000'000; // runaway guard: exceeding it is a violation
    bool record_steps = false;
  };

  Scheduler(Config config, Chooser& chooser, Tracer* tracer);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Creates a runnable context; it starts at its first scheduling.
  Context* spawn(ContextKind kind, std::string name, std::function<void()> body);

  // Runs until every context is done, a violation or an internal error.
  void run();
  // Destroys every context, unwinding unfinished ones; call while what they reference lives.
  void destroy_contexts();

  // --- called from inside a running context ---
  // A yield point is begin_step (records the step; trace events emitted after it carry its
  // number) followed by reschedule (asks the Chooser who goes next).
  void yield(StepOp op, uint64_t object) {
    begin_step(op, object);
    reschedule();
  }
  void begin_step(StepOp op, uint64_t object) { record_step(op, object); }
  void reschedule();
  // The current context stops being runnable until wake(); `idle` marks a worker waiting for
  // work, which does not count towards deadlock.
  // Call begin_step first.
  void block(bool idle = false);
  // Reports a finding and stops the run; does not return to the caller.
  [[noreturn]] void fail(Violation v);

  // --- usable from anywhere ---
  void wake(Context* ctx); // no-op unless blocked
  // Timed mode: fires after a latency drawn from [lo_ns, hi_ns]. Choice mode: deliverable at
  // any decision. Returns the event id (1-based, in posting order).
  uint64_t post_event(EventFn fn, void* arg, uint64_t lo_ns, uint64_t hi_ns);
  void report(Violation v); // records a finding without unwinding (used outside contexts)

  Context* current() const { return current_; }
  uint64_t now_ns() const { return now_ns_; }
  uint64_t step_cost_ns() const { return config_.step_cost_ns; }
  uint64_t step() const { return step_; }
  SchedMode mode() const { return config_.mode; }
  Tracer* tracer() const { return tracer_; }
  Chooser& chooser() { return chooser_; }
  const std::optional<Violation>& violation() const { return violation_; }
  const std::optional<std::string>& internal_error() const { return internal_error_; }
  const std::optional<std::string>& divergence() const { return divergence_; }
  const std::vector<StepRecord>& steps() const { return steps_; }
  const std::deque<Context>& contexts() const { return contexts_; }
  uint64_t decisions() const { return decisions_; }
  // Draws a value through the chooser (recorded like any decision).
  uint64_t draw(uint64_t lo, uint64_t hi);

private:
  struct TimedEvent {
    uint64_t time_ns, id;
    EventFn fn;
    void* arg;
  };
  struct PendingEvent {
    uint64_t id;
    EventFn fn;
    void* arg;
  };

  Context* choose_next(); // fires chosen or due events; nullptr when the run is over
  void switch_to(Context* ctx);
  void return_to_scheduler(); // from inside the current context
  void record_step(StepOp op, uint64_t object);
  void set_runnable(Context* ctx);
  void clear_runnable(Context* ctx);
  bool stopped() const { return violation_ || internal_error_ || divergence_; }

  Config config_;
  Chooser& chooser_;
  Tracer* tracer_;
  GuardedStackPool stacks_;        // guard-paged, reused across runs (fiber_stack.hpp)
  std::deque<Context> contexts_;   // stable addresses
  std::vector<Context*> runnable_; // sorted by id
  std::vector<TimedEvent> timed_;  // min-heap on (time_ns, id)
  std::vector<PendingEvent> pending_;
  std::vector<DecisionOption> options_;
  std::vector<StepRecord> steps_;
  const void* main_stack_bottom_ = nullptr; // the scheduler's own stack, for ASan
  size_t main_stack_size_ = 0;
  Context* current_ = nullptr;
  bool killing_ = false;       // destroy_contexts() is unwinding contexts
  Context* handoff_ = nullptr; // chosen inside a context, resumed by run()
  uint64_t now_ns_ = 0;
  uint64_t step_ = 0;
  uint64_t next_event_id_ = 1;
  uint64_t decisions_ = 0;
  std::optional<Violation> violation_;
  std::optional<std::string> internal_error_;
  std::optional<std::string> divergence_; // a replayed token did not fit this run
};

} // namespace diosim::engine
