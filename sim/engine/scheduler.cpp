// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/scheduler.hpp"

#include <algorithm>
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

Scheduler::Scheduler(Config config, Chooser& chooser, Tracer* tracer)
    : config_(config), chooser_(chooser), tracer_(tracer), stacks_(kStackBytes) {
  runnable_.reserve(64);
  options_.reserve(64);
  timed_.reserve(256);
  if (config_.record_steps) steps_.reserve(4096);
}

Scheduler::~Scheduler() {
  destroy_contexts();
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
  runnable_.clear();
  while (!contexts_.empty())
    contexts_.pop_back();
}

Context* Scheduler::spawn(ContextKind kind, std::string name, std::function<void()> body) {
  Context& c = contexts_.emplace_back();
  c.id = static_cast<uint32_t>(contexts_.size());
  c.kind = kind;
  c.name = std::move(name);
  c.body = std::move(body);
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
  set_runnable(cp);
  return cp;
}

void Scheduler::set_runnable(Context* ctx) {
  ctx->state = RunState::runnable;
  auto it = std::lower_bound(runnable_.begin(), runnable_.end(), ctx,
                             [](const Context* a, const Context* b) { return a->id < b->id; });
  if (it == runnable_.end() || *it != ctx) runnable_.insert(it, ctx);
}

void Scheduler::clear_runnable(Context* ctx) {
  auto it = std::find(runnable_.begin(), runnable_.end(), ctx);
  if (it != runnable_.end()) runnable_.erase(it);
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

void Scheduler::return_to_scheduler() {
  Context* self = current_;
  DIOSIM_ASAN_START(&self->asan_fake_stack, main_stack_bottom_, main_stack_size_);
  self->caller = std::move(self->caller).resume();
  DIOSIM_ASAN_FINISH(self->asan_fake_stack, &main_stack_bottom_, &main_stack_size_);
  if (killing_) throw ContextKill{};
}

void Scheduler::record_step(StepOp op, uint64_t object) {
  ++step_;
  now_ns_ += config_.step_cost_ns;
  if (config_.record_steps) {
    uint64_t mask = 0;
    for (const Context* c : runnable_)
      if (c->id <= 64) mask |= uint64_t{1} << (c->id - 1);
    steps_.push_back(
        {step_, current_ ? current_->id : 0, op, current_ ? current_->src_line : 0, object, mask});
  }
  if (step_ > config_.max_steps)
    report({"step-limit", current_ ? current_->src_line : 0,
            "the run exceeded " + std::to_string(config_.max_steps) + " steps (livelock?)", step_,
            current_ ? current_->id : 0});
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
  return chooser_.decide({DecisionKind::latency_ns, step_, {}, lo, hi});
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

Context* Scheduler::choose_next() {
  auto heap_cmp = [](auto& a, auto& b) { return later(a, b); };
  for (;;) {
    if (stopped()) return nullptr;
    while (!timed_.empty() && timed_.front().time_ns <= now_ns_) {
      std::pop_heap(timed_.begin(), timed_.end(), heap_cmp);
      const TimedEvent ev = timed_.back();
      timed_.pop_back();
      ev.fn(ev.arg, ev.id);
    }
    options_.clear();
    for (const Context* c : runnable_)
      options_.push_back({c->id, false});
    for (const PendingEvent& p : pending_)
      options_.push_back({static_cast<uint32_t>(p.id), true});
    if (options_.empty()) {
      if (!timed_.empty()) {
        now_ns_ = std::max(now_ns_, timed_.front().time_ns);
        continue;
      }
      std::string blocked;
      for (const Context& c : contexts_)
        if (c.state == RunState::blocked && !c.idle)
          blocked += (blocked.empty() ? "" : ", ") + c.name +
                     " at fs/direct-io.c:" + std::to_string(c.src_line);
      if (!blocked.empty())
        report({"deadlock", 0, "every context is blocked and no event is pending: " + blocked,
                step_, 0});
      return nullptr;
    }
    size_t index = 0;
    if (options_.size() > 1) {
      ++decisions_;
      index = chooser_.decide({DecisionKind::next_step, step_, options_});
      DIOSIM_INTERNAL_ASSERT(index < options_.size(), "chooser returned an out-of-range option");
    }
    const DecisionOption chosen = options_[index];
    if (!chosen.is_event) return &contexts_[chosen.id - 1];
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const PendingEvent& p) { return p.id == chosen.id; });
    const PendingEvent ev = *it;
    pending_.erase(it);
    record_step(StepOp::deliver, ev.id);
    ev.fn(ev.arg, ev.id);
  }
}

} // namespace diosim::engine
