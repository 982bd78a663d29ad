// SPDX-License-Identifier: GPL-2.0-only
// task_struct, current, task state, wake_up_process and blk_io_schedule.
//
// Invariants:
//   1. blk_io_schedule sleeps only while __state != TASK_RUNNING; wake_up_process sets
//      TASK_RUNNING, so a wake that comes before the sleep is never lost.
//   2. Sleeping flushes the task's plug first (sched_submit_work).
//   3. Sleeping in irq context or with a spin lock held is a finding (might_sleep).
#pragma once

#include "sim/kernel/runtime.hpp"

namespace kern {

struct blk_plug;
struct mm_struct;

constexpr long TASK_RUNNING = 0;
constexpr long TASK_UNINTERRUPTIBLE = 2;

struct task_struct {
  engine::Context* ctx = nullptr;
  long __state = TASK_RUNNING;
  blk_plug* plug = nullptr;
  mm_struct* mm = nullptr;
  int locks_held = 0;    // spin locks
  int irqs_disabled = 0; // irqsave nesting
  int mutexes_held = 0;
};

inline task_struct* get_current() {
  return K().current_task();
}
void __set_current_state(long state);
int wake_up_process(task_struct* p);
void blk_io_schedule();
// schedule() for a task that set TASK_UNINTERRUPTIBLE: sleeps unless a wake-up already came.
void schedule_sleep(task_struct* t, const char* name);
// wait_event(): sleeps until `done()` holds, re-checking after every wake-up (io_getevents).
template <typename Done> void wait_event(Done&& done, const char* name) {
  task_struct* t = get_current();
  for (;;) {
    __set_current_state(TASK_UNINTERRUPTIBLE);
    if (done()) break;
    schedule_sleep(t, name);
  }
  __set_current_state(TASK_RUNNING);
}
// Task / irq context name for messages.
std::string task_name(const task_struct* t);
inline bool in_irq_context() {
  return K().sched.current()->kind == engine::ContextKind::irq;
}

} // namespace kern
