// SPDX-License-Identifier: GPL-2.0-only
// Workqueues: INIT_WORK, queue_work and one worker context per workqueue.
//
// Invariants:
//   1. A work item is queued at most once at a time (queue_work returns false otherwise).
//   2. Work runs in a worker context (kind worker), in queueing order, never in irq context.
//   3. A work item inside a freed slab object is never queued ("use-after-free").
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace diosim::engine {
class Context;
}

namespace kern {

struct work_struct;
using work_func_t = void (*)(work_struct*);

struct work_struct {
  work_func_t func = nullptr;
  uint32_t id = 0;
  bool pending = false;
};

struct workqueue_struct {
  std::string name;
  uint32_t id = 0;
  std::deque<work_struct*> queue;
  diosim::engine::Context* worker = nullptr;
};

void INIT_WORK(work_struct* work, work_func_t func);
bool queue_work(workqueue_struct* wq, work_struct* work);
workqueue_struct* alloc_workqueue(const std::string& name);
void destroy_workqueue(workqueue_struct* wq);

} // namespace kern
