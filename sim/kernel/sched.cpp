// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/sched.hpp"

#include "sim/kernel/bio.hpp"
#include "sim/kernel/race_windows.hpp"

namespace kern {

std::string task_name(const task_struct* t) {
  return t->ctx->name;
}

void __set_current_state(long state) {
  task_struct* t = get_current();
  note_access(obj(engine::ObjectKind::waitq, t->ctx->id), true);
  const long before = t->__state;
  t->__state = state;
  DIOSIM_TRACE_CHANGE(
      "set_current_state", "sched",
      {arg("task", task_name(t)), arg("state.before", before), arg("state.after", state)});
}

int wake_up_process(task_struct* p) {
  Kernel& k = K();
  // Announce, then act: the target may still run (and sleep) before the wake-up lands.
  yield_point(engine::StepOp::wake, obj(engine::ObjectKind::waitq, p->ctx->id), "wake_up_process",
              "sched", [&] {
                return ::kern::TraceArgs{arg("task", task_name(p)),
                                         arg("woken", p->__state != TASK_RUNNING ? 1 : 0)};
              });
  k.race.on_send(k.sched.current()->id, obj(engine::ObjectKind::waitq, p->ctx->id));
  const bool woke = p->__state != TASK_RUNNING;
  const int line = k.sched.current()->src_line;
  // The waiter set TASK_UNINTERRUPTIBLE but has not slept yet: the wake-up must not be lost.
  if (woke && p->ctx->state != engine::RunState::blocked && (line == 342 || line == 384))
    race_window_hit(RaceWindow::wake_while_running);
  if (woke) {
    p->__state = TASK_RUNNING;
    k.sched.wake(p->ctx);
    trace_flow("wake@" + std::to_string(k.sched.step() + 1), p->ctx);
  }
  return woke ? 1 : 0;
}

void blk_io_schedule() {
  might_sleep("blk_io_schedule");
  task_struct* t = get_current();
  if (t->plug) blk_flush_plug(t->plug, true); // sched_submit_work
  schedule_sleep(t, "blk_io_schedule");
}

void schedule_sleep(task_struct* t, const char* name) {
  Kernel& k = K();
  const engine::ObjectRef state = obj(engine::ObjectKind::waitq, t->ctx->id);
  // Announce, then act: between set_current_state and the sleep, a completion on another CPU
  // may run and wake this task (the window a waker that skips its wake-up would lose).
  yield_point(engine::StepOp::sleep, state, "schedule", "sched");
  note_access(state, false);
  if (t->__state == TASK_RUNNING) {
    // A wake-up already came between set_current_state and here: schedule() returns at once.
    k.race.on_receive(t->ctx->id, state);
    yield_point(engine::StepOp::observe, state, name, "sched",
                [&] { return ::kern::TraceArgs{arg("slept", 0)}; });
    return;
  }
  k.sched.begin_step(engine::StepOp::sleep, state);
  if (k.tracer) k.emit_step_slice(name, "sched", {arg("slept", 1)});
  k.sched.block();
  k.race.on_receive(t->ctx->id, state);
  DIOSIM_TRACE_CHANGE("woken", "sched", {arg("task", task_name(t))});
}

} // namespace kern
