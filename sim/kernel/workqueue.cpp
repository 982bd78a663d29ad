// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/workqueue.hpp"

#include "sim/kernel/race_windows.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/slab.hpp"

namespace kern {

void INIT_WORK(work_struct* work, work_func_t func) {
  slab_check_access(work, "INIT_WORK");
  work->func = func;
  work->pending = false;
  work->id = K().next_work_id++;
}

static void worker_loop(workqueue_struct* wq) {
  Kernel& k = K();
  for (;;) {
    const engine::ObjectRef queue = obj(engine::ObjectKind::workqueue, wq->id);
    while (wq->queue.empty()) {
      k.sched.begin_step(engine::StepOp::sleep, queue);
      if (!k.sched.wait_idle()) return; // the run is over
    }
    note_access(queue, true);
    work_struct* work = wq->queue.front();
    wq->queue.pop_front();
    work->pending = false;
    yield_point(engine::StepOp::hook, obj(engine::ObjectKind::inode, 0), "process_one_work", "wq",
                [&] {
                  return ::kern::TraceArgs{arg("wq", wq->name),
                                           arg("work", static_cast<int64_t>(work->id))};
                });
    k.race.on_receive(k.sched.current()->id, obj(engine::ObjectKind::workqueue, work->id));
    work->func(work);
  }
}

bool queue_work(workqueue_struct* wq, work_struct* work) {
  Kernel& k = K();
  slab_check_access(work, "queue_work");
  if (work->pending) return false;
  // Announce, then act: the work becomes visible to the worker only after this step.
  yield_point(
      engine::StepOp::submit, obj(engine::ObjectKind::workqueue, wq->id), "queue_work", "wq", [&] {
        return ::kern::TraceArgs{arg("wq", wq->name), arg("work", static_cast<int64_t>(work->id))};
      });
  if (k.sched.current()->kind == engine::ContextKind::irq)
    race_window_hit(RaceWindow::deferred_to_workqueue);
  work->pending = true;
  k.race.on_send(k.sched.current()->id, obj(engine::ObjectKind::workqueue, work->id));
  wq->queue.push_back(work);
  if (!wq->worker)
    wq->worker = k.sched.spawn(engine::ContextKind::worker, "kworker " + wq->name,
                               [wq] { worker_loop(wq); });
  else
    k.sched.wake(wq->worker);
  trace_flow("work#" + std::to_string(work->id) + "@" + std::to_string(k.sched.step() + 1),
             wq->worker);
  return true;
}

workqueue_struct* alloc_workqueue(const std::string& name) {
  Kernel& k = K();
  might_sleep("alloc_workqueue");
  auto wq = std::make_unique<workqueue_struct>();
  wq->name = name;
  wq->id = static_cast<uint32_t>(k.workqueues.size() + 1);
  k.workqueues.push_back(std::move(wq));
  workqueue_struct* out = k.workqueues.back().get();
  yield_point(engine::StepOp::hook, obj(engine::ObjectKind::inode, 0), "alloc_workqueue", "wq",
              [&] { return ::kern::TraceArgs{arg("wq", name)}; });
  return out;
}

void destroy_workqueue(workqueue_struct* wq) {
  DIOSIM_TRACE_CHANGE("destroy_workqueue", "wq", {arg("wq", wq->name)});
  wq->name += " (destroyed)";
}

} // namespace kern
