// SPDX-License-Identifier: GPL-2.0-only
// spinlock_t with irqsave. Acquire and release are yield points.
//
// Invariants:
//   1. A lock has at most one owner; a context taking a held lock blocks until it is released.
//   2. Releasing a lock the current context does not hold is a finding ("lock-balance").
//   3. A lock inside a freed slab object is never touched ("use-after-free").
#pragma once

#include <cstdint>

namespace diosim::engine {
class Context;
}

namespace kern {

constexpr uint32_t kSpinlockMagic = 0x5eedc0de;

struct spinlock_t {
  uint32_t magic = 0;
  uint32_t id = 0;
  diosim::engine::Context* owner = nullptr;
  diosim::engine::Context* waiter_head = nullptr; // unused marker: waiters rescan on release
  unsigned waiters = 0;
};

void spin_lock_init(spinlock_t* lock);
void spin_lock_irqsave(spinlock_t* lock, unsigned long& flags);
void spin_unlock_irqrestore(spinlock_t* lock, unsigned long flags);
void spin_lock(spinlock_t* lock);
void spin_unlock(spinlock_t* lock);

} // namespace kern
