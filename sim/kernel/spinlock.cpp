// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/spinlock.hpp"

#include "sim/kernel/race_windows.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/slab.hpp"

#include <string_view>

namespace kern {

static std::string lock_name(const spinlock_t* lock) {
  std::string owner = slab_object_name(lock);
  return owner.empty() ? "lock#" + std::to_string(lock->id) : owner + ".bio_lock";
}

// A field of the slab object holding `lock` (via its cache's inspector), or -1.
static int64_t owner_field(const spinlock_t* lock, std::string_view field) {
  const SlabLocation at = slab_locate(lock);
  if (!at.object || !at.cache->inspect) return -1;
  FieldView view;
  at.cache->inspect(object_address(at.cache, *at.object), view);
  for (int i = 0; i < view.count; ++i)
    if (view.names[i] == field) return view.values[i];
  return -1;
}

static void check_lock(const spinlock_t* lock, const char* what) {
  slab_check_access(lock, what);
  if (lock->magic != kSpinlockMagic)
    violation("uninitialised-lock",
              std::string(what) + " on a lock that was never spin_lock_init'ed");
}

void spin_lock_init(spinlock_t* lock) {
  slab_check_access(lock, "spin_lock_init");
  *lock = spinlock_t{};
  lock->magic = kSpinlockMagic;
  lock->id = K().next_lock_id++;
}

void spin_lock(spinlock_t* lock) {
  Kernel& k = K();
  check_lock(lock, "spin_lock");
  engine::Context* self = k.sched.current();
  if (lock->owner == self)
    violation("recursive-spinlock",
              "spin_lock of " + lock_name(lock) + " already held by " + self->name);
  const engine::ObjectRef ref = obj(engine::ObjectKind::lock, lock->id);
  yield_point(engine::StepOp::acquire, ref, "spin_lock", "sched",
              [&] { return ::kern::TraceArgs{arg("lock", lock_name(lock))}; });
  if (lock->owner && lock->owner->kind == engine::ContextKind::irq &&
      self->kind == engine::ContextKind::irq)
    race_window_hit(RaceWindow::completions_contend);
  while (lock->owner) {
    k.lock_waiters.emplace_back(lock->id, self);
    k.sched.begin_step(engine::StepOp::acquire, ref); // retried when the owner releases it
    k.sched.block();
  }
  lock->owner = self;
  get_current()->locks_held++;
  k.race.on_acquire(self->id, lock->id);
}

void spin_unlock(spinlock_t* lock) {
  Kernel& k = K();
  check_lock(lock, "spin_unlock");
  engine::Context* self = k.sched.current();
  if (lock->owner != self)
    violation("lock-balance", "spin_unlock of " + lock_name(lock) + " not held by " + self->name);
  // Announce, then act: other contexts may run before the release becomes visible.
  yield_point(engine::StepOp::release, obj(engine::ObjectKind::lock, lock->id), "spin_unlock",
              "sched", [&] { return ::kern::TraceArgs{arg("lock", lock_name(lock))}; });
  // An AIO whose bios all completed before the submitter dropped its reference.
  if (self->src_line == 1065 && owner_field(lock, "refcount") == 0 &&
      owner_field(lock, "is_async") == 1)
    race_window_hit(RaceWindow::last_completion_before_drop);
  k.race.on_release(self->id, lock->id);
  lock->owner = nullptr;
  get_current()->locks_held--;
  k.wake_lock_waiters(lock->id);
}

void spin_lock_irqsave(spinlock_t* lock, unsigned long& flags) {
  task_struct* t = get_current();
  flags = static_cast<unsigned long>(t->irqs_disabled);
  spin_lock(lock);
  t->irqs_disabled++;
}

void spin_unlock_irqrestore(spinlock_t* lock, unsigned long flags) {
  task_struct* t = get_current();
  t->irqs_disabled = static_cast<int>(flags);
  spin_unlock(lock);
}

} // namespace kern
