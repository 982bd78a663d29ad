// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/scheduler.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define DIOSIM_ASAN_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define DIOSIM_ASAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define DIOSIM_ASAN_START(save, bottom, size) ((void)0)
#define DIOSIM_ASAN_FINISH(save, bottom, size) ((void)0)
#endif

namespace diosim::engine {
namespace {

// Thrown by fail() when no context is running, caught by run().
struct RunStopped {};
// Thrown inside a context that destroy_contexts() resumes to unwind it; caught at the top of
// the context. Not a std::exception, so nothing on the way swallows it.
struct ContextKill {};

bool later(const auto& a, const auto& b) {
  return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.id > b.id;
}

// Bits set in a word, inline: without -mpopcnt __builtin_popcountll is a libgcc call, and it
// runs twice per decision (the chooser's pick and the scheduler's).
size_t bits_set(uint64_t m) {
  m = m - ((m >> 1) & 0x5555555555555555ull);
  m = (m & 0x3333333333333333ull) + ((m >> 2) & 0x3333333333333333ull);
  m = (m + (m >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return static_cast<size_t>((m * 0x0101010101010101ull) >> 56);
}

constexpr size_t kStackBytes = 256 * 1024; // roomy enough for the sanitizer build

// Takes guard-paged stacks from the thread's pool (fiber_stack.hpp) and tells the context where
// its stack is (for ASan, and for the crash guard's stack-overflow check).
struct RecordingStack {
  GuardedStackPool pool;
  Context* ctx;
  boost::context::stack_context allocate() {
    boost::context::stack_context sc = pool.allocate();
    ctx->stack_size = sc.size;
    ctx->stack_bottom = static_cast<char*>(sc.sp) - sc.size;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) noexcept { pool.deallocate(sc); }
};

} // namespace

struct Scheduler::Spare {
  std::vector<uint64_t> runnable_bits;
  std::vector<DecisionOption> ctx_options, options;
  std::vector<TimedEvent> timed;
  std::vector<PendingEvent> pending;
  std::vector<StepRecord> steps;
};

Scheduler::Spare& Scheduler::spare() {
  thread_local Spare tables;
  return tables;
}

Scheduler::Scheduler(Config config, Chooser& chooser, Tracer* tracer)
    : config_(config), chooser_(chooser), tracer_(tracer), stacks_(kStackBytes) {
  // Take the previous scheduler's tables: their contents go, their capacity stays.
  Spare& s = spare();
  runnable_bits_ = std::move(s.runnable_bits);
  ctx_options_ = std::move(s.ctx_options);
  options_ = std::move(s.options);
  timed_ = std::move(s.timed);
  pending_ = std::move(s.pending);
  steps_ = std::move(s.steps);
  runnable_bits_.clear();
  ctx_options_.clear();
  options_.clear();
  timed_.clear();
  pending_.clear();
  steps_.clear();
  runnable_bits_.reserve(4);
  options_.reserve(64);
  timed_.reserve(256);
  if (config_.record_steps) steps_.reserve(4096);
}

Scheduler::~Scheduler() {
  destroy_contexts();
  Spare& s = spare();
  s.runnable_bits = std::move(runnable_bits_);
  s.ctx_options = std::move(ctx_options_);
  s.options = std::move(options_);
  s.timed = std::move(timed_);
  s.pending = std::move(pending_);
  s.steps = std::move(steps_);
}

void Scheduler::destroy_contexts() {
  // Unwind unfinished contexts ourselves (ContextKill) rather than through boost's
  // forced_unwind, so every stack switch stays visible to AddressSanitizer.
  killing_ = true;
  for (Context& c : contexts_)
    if (c.state != RunState::done && c.fiber) { // never-started ones return at once
      c.state = RunState::runnable;
      switch_to(&c);
    }
  runnable_bits_.clear();
  runnable_count_ = 0;
  ctx_options_.clear();
  while (!contexts_.empty())
    contexts_.pop_back();
}

Context* Scheduler::spawn(ContextKind kind, std::string name, std::function<void()> body,
                          bool idle) {
  Context& c = contexts_.emplace_back();
  c.id = static_cast<uint32_t>(contexts_.size());
  c.kind = kind;
  c.name = std::move(name);
  c.body = std::move(body);
  ctx_options_.push_back({c.id, false, StepOp::start, {}});
  Context* cp = &c;
  c.fiber = boost::context::fiber(
      std::allocator_arg, RecordingStack{stacks_, cp}, [this, cp](boost::context::fiber&& caller) {
        DIOSIM_ASAN_FINISH(cp->asan_fake_stack, &main_stack_bottom_, &main_stack_size_);
        cp->started = true;
        cp->caller = std::move(caller);
        if (killing_) {
          cp->state = RunState::done;
          DIOSIM_ASAN_START(nullptr, main_stack_bottom_, main_stack_size_);
          return std::move(cp->caller);
        }
        try {
          cp->body();
        } catch (const boost::context::detail::forced_unwind&) {
          throw;
        } catch (const ContextKill&) {
        } catch (const ReplayDivergence& e) {
          if (!divergence_) divergence_ = e.what();
        } catch (const AbandonExecution&) {
          abandoned_ = true;
        } catch (const std::exception& e) {
          if (!internal_error_) {
            const std::string what = e.what();
            internal_error_ =
                what.rfind("[internal error]", 0) == 0
                    ? what
                    : "[internal error] uncaught exception in context " + cp->name + ": " + what;
          }
        }
        cp->state = RunState::done;
        clear_runnable(cp);
        DIOSIM_ASAN_START(nullptr, main_stack_bottom_, main_stack_size_); // this stack dies
        return std::move(cp->caller);
      });
  if (idle) {
    cp->state = RunState::blocked;
    cp->idle = true;
  } else {
    set_runnable(cp);
  }
  return cp;
}

void Scheduler::set_runnable(Context* ctx) {
  ctx->state = RunState::runnable;
  const size_t i = ctx->id - 1;
  if (i / 64 >= runnable_bits_.size()) runnable_bits_.resize(i / 64 + 1, 0);
  const uint64_t bit = uint64_t{1} << (i % 64);
  runnable_count_ += (runnable_bits_[i / 64] & bit) == 0;
  runnable_bits_[i / 64] |= bit;
}

void Scheduler::clear_runnable(Context* ctx) {
  const size_t i = ctx->id - 1;
  if (i / 64 >= runnable_bits_.size()) return;
  const uint64_t bit = uint64_t{1} << (i % 64);
  runnable_count_ -= (runnable_bits_[i / 64] & bit) != 0;
  runnable_bits_[i / 64] &= ~bit;
}

void Scheduler::run() {
  try {
    while (!stopped()) {
      Context* next = handoff_ ? std::exchange(handoff_, nullptr) : choose_next();
      if (!next) break;
      switch_to(next);
    }
  } catch (const RunStopped&) {
  } catch (const ReplayDivergence& e) {
    if (!divergence_) divergence_ = e.what();
  } catch (const AbandonExecution&) {
    abandoned_ = true;
  }
}

void Scheduler::switch_to(Context* ctx) {
  DIOSIM_INTERNAL_ASSERT(ctx->state == RunState::runnable,
                         "resuming a context that is not runnable");
  current_ = ctx;
  [[maybe_unused]] void* fake_stack = nullptr;
  DIOSIM_ASAN_START(&fake_stack, ctx->stack_bottom, ctx->stack_size);
  ctx->fiber = std::move(ctx->fiber).resume();
  DIOSIM_ASAN_FINISH(fake_stack, nullptr, nullptr);
  current_ = nullptr;
}

void Scheduler::switch_out() {
  Context* self = current_;
  DIOSIM_ASAN_START(&self->asan_fake_stack, main_stack_bottom_, main_stack_size_);
  self->caller = std::move(self->caller).resume();
  DIOSIM_ASAN_FINISH(self->asan_fake_stack, &main_stack_bottom_, &main_stack_size_);
}

void Scheduler::return_to_scheduler() {
  switch_out();
  if (killing_) throw ContextKill{};
}

void Scheduler::record_step(StepOp op, ObjectRef object) {
  ++step_;
  now_ns_ += config_.step_cost_ns;
  if (config_.record_steps) {
    const uint64_t mask = runnable_bits_.empty() ? 0 : runnable_bits_[0];
    steps_.push_back(
        {step_, current_ ? current_->id : 0, op, current_ ? current_->src_line : 0, object, mask});
  }
  if (step_ > config_.max_steps)
    report({"step-limit", current_ ? current_->src_line : 0,
            "the run exceeded " + std::to_string(config_.max_steps) + " steps (livelock?)", step_,
            current_ ? current_->id : 0});
}

std::string Scheduler::line_name(int line) const {
  return line_namer_ ? line_namer_(line) : "line " + std::to_string(line);
}

namespace {
bool op_writes(StepOp op) {
  return op != StepOp::observe && op != StepOp::read && op != StepOp::start;
}
} // namespace

void Scheduler::open_transition(uint32_t actor, StepOp op, ObjectRef object, int32_t decision) {
  if (!config_.record_transitions) return;
  Transition& t = transitions_.emplace_back();
  t.actor = actor;
  t.decision = decision;
  t.op = op;
  t.object = object;
  t.footprint.add(object, op_writes(op));
  recording_open_ = true;
}

uint32_t Scheduler::choose_fault(FaultSite site, uint32_t options) {
  if (options < 2) return 0;
  ++decisions_;
  Decision d;
  d.kind = DecisionKind::fault;
  d.step = step_;
  d.site = site;
  d.fault_options = options;
  const uint64_t v = chooser_.decide(d);
  DIOSIM_INTERNAL_ASSERT(v < options, "chooser returned an out-of-range fault option");
  if (v != 0) ++faults_injected_;
  return static_cast<uint32_t>(v);
}

void Scheduler::reschedule() {
  Context* next = choose_next();
  if (next == current_) return;
  handoff_ = next;
  return_to_scheduler();
}

void Scheduler::block(bool idle) {
  Context* self = current_;
  self->state = RunState::blocked;
  self->idle = idle;
  clear_runnable(self);
  return_to_scheduler();
}

bool Scheduler::wait_idle() {
  Context* self = current_;
  self->state = RunState::blocked;
  self->idle = true;
  clear_runnable(self);
  switch_out();
  return !killing_;
}

void Scheduler::wake(Context* ctx) {
  if (ctx->state != RunState::blocked) return;
  ctx->idle = false;
  set_runnable(ctx);
}

void Scheduler::report(Violation v) {
  if (violation_) return; // the first finding is the one that matters
  if (v.step == 0) v.step = step_;
  if (v.context_id == 0 && current_) v.context_id = current_->id;
  violation_ = std::move(v);
}

void Scheduler::fail(Violation v) {
  report(std::move(v));
  if (!current_) throw RunStopped{};
  return_to_scheduler();
  throw InternalError("a context was resumed after it reported a violation");
}

uint64_t Scheduler::draw(uint64_t lo, uint64_t hi) {
  if (lo >= hi) return lo;
  ++decisions_;
  Decision d;
  d.kind = DecisionKind::latency_ns;
  d.step = step_;
  d.lo = lo;
  d.hi = hi;
  return chooser_.decide(d);
}

uint64_t Scheduler::post_event(EventFn fn, void* arg, uint64_t lo_ns, uint64_t hi_ns) {
  const uint64_t id = next_event_id_++;
  if (config_.mode == SchedMode::timed) {
    const uint64_t latency = draw(lo_ns, hi_ns);
    timed_.push_back({now_ns_ + latency, id, fn, arg});
    std::push_heap(timed_.begin(), timed_.end(), [](auto& a, auto& b) { return later(a, b); });
  } else {
    pending_.push_back({id, fn, arg});
  }
  return id;
}

std::string Scheduler::blocked_contexts() const {
  std::string blocked;
  for (const Context& c : contexts_)
    if (c.state == RunState::blocked && !c.idle)
      blocked += (blocked.empty() ? "" : ", ") + c.name + " at " + line_name(c.src_line);
  return blocked;
}

void Scheduler::deliver(size_t pending_index, int32_t decision) {
  const PendingEvent ev = pending_[pending_index];
  pending_.erase(pending_.begin() + static_cast<long>(pending_index));
  recording_open_ = false;
  const ObjectRef what{ObjectKind::none, ev.id};
  record_step(StepOp::deliver, what);
  open_transition(Transition::kEventBit | static_cast<uint32_t>(ev.id), StepOp::deliver, what,
                  decision);
  ev.fn(ev.arg, ev.id);
  recording_open_ = false;
}

size_t Scheduler::list_options() {
  // options_ only grows (its size is a capacity; the count is returned), so the copy below
  // writes through a pointer with no per-element capacity check.
  const size_t most = ctx_options_.size() + pending_.size();
  if (options_.size() < most) options_.resize(most);
  DecisionOption* out = options_.data();
  // ctx_options_ is indexed by id: a full word of runnable ids is one block copy.
  for (size_t w = 0; w < runnable_bits_.size(); ++w) {
    uint64_t m = runnable_bits_[w];
    if (m == ~uint64_t{0}) {
      std::memcpy(out, &ctx_options_[w * 64], 64 * sizeof(DecisionOption));
      out += 64;
      continue;
    }
    for (; m; m &= m - 1)
      *out++ = ctx_options_[w * 64 + static_cast<size_t>(__builtin_ctzll(m))];
  }
  for (const PendingEvent& p : pending_)
    *out++ = {static_cast<uint32_t>(p.id), true, StepOp::deliver, {}};
  return static_cast<size_t>(out - options_.data());
}

DecisionOption Scheduler::nth_option(size_t index) const {
  // Called at every scheduling point, forced ones included (index 0 of one option).
  if (index >= runnable_count_) {
    const PendingEvent& p = pending_[index - runnable_count_];
    return {static_cast<uint32_t>(p.id), true, StepOp::deliver, {}};
  }
  for (size_t w = 0; w < runnable_bits_.size(); ++w) {
    uint64_t m = runnable_bits_[w];
    if (m == 0) continue;
    if (index > 0) {
      const size_t n = bits_set(m);
      if (index >= n) {
        index -= n;
        continue;
      }
      for (; index > 0; --index)
        m &= m - 1;
    }
    return ctx_options_[w * 64 + static_cast<size_t>(__builtin_ctzll(m))];
  }
  DIOSIM_INTERNAL_ASSERT(false, "runnable count disagrees with the runnable set");
  return {};
}

DecisionOption Scheduler::nth_option_of(const void* scheduler, size_t index) {
  return static_cast<const Scheduler*>(scheduler)->nth_option(index);
}

Context* Scheduler::choose_next() {
  auto heap_cmp = [](auto& a, auto& b) { return later(a, b); };
  recording_open_ = false; // the running transition ends at its yield point
  const bool list = chooser_.reads_options();
  for (;;) {
    if (stopped()) return nullptr;
    while (!timed_.empty() && timed_.front().time_ns <= now_ns_) {
      std::pop_heap(timed_.begin(), timed_.end(), heap_cmp);
      const TimedEvent ev = timed_.back();
      timed_.pop_back();
      ev.fn(ev.arg, ev.id);
    }
    const size_t count = list ? list_options() : runnable_count_ + pending_.size();
    if (count == 0) {
      if (!timed_.empty()) {
        now_ns_ = std::max(now_ns_, timed_.front().time_ns);
        continue;
      }
      const std::string blocked = blocked_contexts();
      if (!blocked.empty())
        report({"deadlock", 0, "every context is blocked and no event is pending: " + blocked,
                step_, 0});
      return nullptr;
    }
    size_t index = 0;
    int32_t decision = -1;
    if (count > 1) {
      decision = static_cast<int32_t>(decisions_++);
      Decision d;
      d.step = step_;
      d.running = current_ && current_->state == RunState::runnable ? current_->id : 0;
      if (list) d.options = std::span<const DecisionOption>(options_.data(), count);
      d.option_count = count;
      d.option_source = this;
      d.nth_option = &Scheduler::nth_option_of;
      index = chooser_.decide(d);
      DIOSIM_INTERNAL_ASSERT(index < count, "chooser returned an out-of-range option");
    }
    const DecisionOption chosen = list ? options_[index] : nth_option(index);
    if (!chosen.is_event) {
      Context* next = &contexts_[chosen.id - 1];
      open_transition(next->id, next->next_op, next->next_object, decision);
      return next;
    }
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const PendingEvent& p) { return p.id == chosen.id; });
    deliver(static_cast<size_t>(it - pending_.begin()), decision);
  }
}

} // namespace diosim::engine
