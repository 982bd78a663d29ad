// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/irq.hpp"

#include "sim/kernel/bio.hpp"

namespace kern {

static void irq_loop(irq_cpu* cpu) {
  Kernel& k = K();
  const engine::ObjectRef queue = obj(engine::ObjectKind::irq_queue, cpu->cpu);
  for (;;) {
    while (cpu->queued() == 0) {
      note_access(queue, true);
      cpu->busy = false;
      k.sched.begin_step(engine::StepOp::sleep, queue);
      if (!k.sched.wait_idle()) return; // the run is over
    }
    cpu->busy = true;
    note_access(queue, true);
    bio* b = cpu->pending[cpu->head++];
    if (cpu->head == cpu->pending.size()) { // drained: reuse the storage from the start
      cpu->pending.clear();
      cpu->head = 0;
    }
    bio_endio(b);
  }
}

void irq_init(Kernel& k) {
  for (unsigned i = 0; i < k.tun.cpus; ++i) {
    auto cpu = std::make_unique<irq_cpu>();
    cpu->cpu = i;
    irq_cpu* raw = cpu.get();
    cpu->ctx = k.sched.spawn(
        engine::ContextKind::irq, "irq/" + std::to_string(i), [raw] { irq_loop(raw); },
        /*idle=*/true);
    k.irq_cpus.push_back(std::move(cpu));
  }
}

void raise_bio_completion(bio* b) {
  Kernel& k = K();
  irq_cpu* target = nullptr;
  for (const auto& cpu : k.irq_cpus) // the choice reads every CPU's state
    note_access(obj(engine::ObjectKind::irq_queue, cpu->cpu), false);
  for (const auto& cpu : k.irq_cpus)
    if (!cpu->busy && cpu->queued() == 0) {
      target = cpu.get();
      break;
    }
  if (!target)
    for (const auto& cpu : k.irq_cpus)
      if (!target || cpu->queued() < target->queued()) target = cpu.get();
  note_access(obj(engine::ObjectKind::irq_queue, target->cpu), true);
  target->pending.push_back(b);
  target->busy = true; // claimed: the next completion goes elsewhere while this one waits
  k.sched.wake(target->ctx);
  trace_flow_end(bio_name(b), target->ctx);
}

} // namespace kern
