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
//   6. A step performs no heap allocation when tracing and step recording are off. The
//      scheduler's tables keep their capacity across the schedulers of a thread (Spare), so an
//      execution in a model checker's loop allocates none of them either.
//   7. A decision costs O(runnable contexts) when the Chooser reads the options, and
//      O(contexts / 64) when it needs only their count and the option it picks
//      (Chooser::reads_options): the count is kept, the picked option is found by index.
#pragma once

#include "sim/engine/chooser.hpp"
#include "sim/engine/context.hpp"
#include "sim/engine/fiber_stack.hpp"
#include "sim/engine/footprint.hpp"
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

struct StepRecord {
  uint64_t step = 0;
  uint32_t context_id = 0;
  StepOp op = StepOp::observe;
  int src_line = 0;
  ObjectRef object;           // the lock, dio, bio, page, task or workqueue touched
  uint64_t runnable_mask = 0; // bit (id-1) per runnable context with id <= 64
};

// One transition of an execution: what ran between two scheduling points, for the explorer.
// A context's transition starts when it is chosen (it performs the op it announced) and ends at
// its next yield point; an event's transition is its delivery.
struct Transition {
  static constexpr uint32_t kEventBit = 0x8000'0000u;
  uint32_t actor = 0;    // context id, or kEventBit | event id
  int32_t decision = -1; // index of the next_step decision that chose it; -1 when forced
  StepOp op = StepOp::start;
  ObjectRef object;
  Footprint footprint;
};

using EventFn = void (*)(void* arg, uint64_t event_id);

class Scheduler {
public:
  struct Config {
    SchedMode mode = SchedMode::timed;
    uint64_t step_cost_ns = 100;
    uint64_t max_steps = 50'000'000; // runaway guard: exceeding it is a violation
    bool record_steps = false;
    bool record_transitions = false; // footprints per transition, for the explorer
  };

  Scheduler(Config config, Chooser& chooser, Tracer* tracer);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Creates a runnable context; it starts at its first scheduling. `idle`: it starts blocked
  // and idle instead (a worker waiting for work) and runs only once woken.
  Context* spawn(ContextKind kind, std::string name, std::function<void()> body, bool idle = false);

  // Runs until every context is done, a violation or an internal error.
  void run();
  // Destroys every context, unwinding unfinished ones; call while what they reference lives.
  void destroy_contexts();

  // --- called from inside a running context ---
  // A yield point announces what the context will do next (begin_step: records the step; trace
  // events emitted after it carry its number), then asks the Chooser who goes next
  // (reschedule). The announced op is performed when the context is chosen again.
  void yield(StepOp op, ObjectRef object) {
    begin_step(op, object);
    reschedule();
  }
  void begin_step(StepOp op, ObjectRef object) {
    if (current_) {
      current_->next_op = op;
      current_->next_object = object;
      DecisionOption& o = ctx_options_[current_->id - 1];
      o.op = op;
      o.object = object;
    }
    record_step(op, object);
  }
  void reschedule();
  // The current transition read or wrote `object` (a no-op unless transitions are recorded).
  void note_access(ObjectRef object, bool write) {
    if (recording_open_) transitions_.back().footprint.add(object, write);
  }
  // A fault point with `options` outcomes (option 0: no fault); asks the Chooser when >= 2.
  uint32_t choose_fault(FaultSite site, uint32_t options);
  // The current context stops being runnable until wake(); `idle` marks a worker waiting for
  // work, which does not count towards deadlock.
  // Call begin_step first.
  void block(bool idle = false);
  // An idle worker (irq, workqueue) waits for work: block(true), but when the run is torn down
  // it returns false instead of unwinding by exception, and the worker returns. Tearing down a
  // finished run then throws nothing.
  bool wait_idle();
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
  bool abandoned() const { return abandoned_; }
  uint64_t faults_injected() const { return faults_injected_; } // fault points that faulted
  const std::vector<StepRecord>& steps() const { return steps_; }
  const std::vector<Transition>& transitions() const { return transitions_; }
  // How findings and messages name a source line (the kernel layer names its file).
  void set_line_namer(std::string (*namer)(int line)) { line_namer_ = namer; }
  std::string line_name(int line) const;
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

  struct Spare; // the tables a destroyed scheduler leaves to the next one (invariant 6)
  static Spare& spare();
  Context* choose_next(); // fires chosen or due events; nullptr when the run is over
  size_t list_options();  // fills options_ (contexts by id, then events); returns the count
  DecisionOption nth_option(size_t index) const; // without options_: the index-th option
  static DecisionOption nth_option_of(const void* scheduler, size_t index); // for Decision
  void switch_to(Context* ctx);
  void return_to_scheduler(); // from inside the current context
  void switch_out();          // return_to_scheduler without the ContextKill check
  void record_step(StepOp op, ObjectRef object);
  void open_transition(uint32_t actor, StepOp op, ObjectRef object, int32_t decision);
  void deliver(size_t pending_index, int32_t decision);
  std::string blocked_contexts() const;
  void set_runnable(Context* ctx);
  void clear_runnable(Context* ctx);
  bool stopped() const { return violation_ || internal_error_ || divergence_ || abandoned_; }

  Config config_;
  Chooser& chooser_;
  Tracer* tracer_;
  GuardedStackPool stacks_;      // guard-paged, reused across runs (fiber_stack.hpp)
  std::deque<Context> contexts_; // stable addresses
  // Runnable contexts as a bitset over ids (bit id-1): set and clear are O(1), and listing them
  // in id order costs O(runnable + contexts/64), so a thousand woken waiters stay linear.
  std::vector<uint64_t> runnable_bits_;
  size_t runnable_count_ = 0; // bits set in runnable_bits_
  // Each context's option (id, announced op and object), by id - 1, kept up to date by
  // begin_step: listing the runnable ones copies from one array instead of visiting contexts.
  std::vector<DecisionOption> ctx_options_;
  std::vector<TimedEvent> timed_; // min-heap on (time_ns, id)
  std::vector<PendingEvent> pending_;
  std::vector<DecisionOption> options_;
  std::vector<StepRecord> steps_;
  std::vector<Transition> transitions_;
  bool recording_open_ = false; // transitions_.back() is the transition running now
  std::string (*line_namer_)(int) = nullptr;
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
  bool abandoned_ = false;                // the chooser gave up on this execution
  uint64_t faults_injected_ = 0;
};

} // namespace diosim::engine
