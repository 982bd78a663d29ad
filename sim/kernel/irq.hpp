// SPDX-License-Identifier: GPL-2.0-only
// Interrupt delivery: one irq context per simulated CPU, each looping over the bio
// completions raised to it and running bio_endio for each.
//
// Invariants:
//   1. The set of irq contexts is fixed when the kernel starts (Tunables::cpus), so context
//      ids stay small and stable whatever the run does.
//   2. A completion goes to an idle CPU when there is one (lowest id first), else to the CPU
//      with the fewest queued completions: two completions can run concurrently on two CPUs.
//   3. An irq context waiting for work is idle: it never counts towards a deadlock.
#pragma once

#include "sim/kernel/runtime.hpp"

#include <vector>

namespace kern {

struct bio;

struct irq_cpu {
  unsigned cpu = 0;
  engine::Context* ctx = nullptr;
  // Completions raised to this CPU, in order: [head, pending.size()). A vector, not a deque:
  // an empty deque allocates, and a kernel is built per execution.
  std::vector<bio*> pending;
  size_t head = 0;
  bool busy = false; // running a completion now
  size_t queued() const { return pending.size() - head; }
};

// Spawns the irq contexts; called once by the Kernel.
void irq_init(Kernel& k);
// The device finished `b`: queue its completion on a CPU and wake that CPU's irq context.
void raise_bio_completion(bio* b);

} // namespace kern
