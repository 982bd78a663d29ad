// SPDX-License-Identifier: GPL-2.0-only
// Fiber stacks with a guard region: every stack is an mmap'd block whose lowest
// kStackGuardBytes are PROT_NONE, so a context that overflows its stack faults at once (the
// crash guard, model/check/crash_guard.hpp, reports it as "stack-overflow") instead of silently
// writing into a neighbour.
//
// Owns: a per-thread free list of such stacks, reused across contexts and runs so that
// spawning a context costs no system call once the pool is warm.
// Invariants:
//   1. allocate() returns a stack of exactly the usable size asked for; the guard lies
//      immediately below its lowest address (stack_bottom - kStackGuardBytes .. stack_bottom).
//   2. A stack is only ever handed back to the pool of the thread that allocated it (Boost
//      deallocates a fiber's stack on the thread that ran it; contexts never migrate).
//   3. The pool keeps at most kMaxPooledStacks free stacks per thread; extra ones are unmapped.
#pragma once

#include <boost/context/stack_context.hpp>

#include <cstddef>

namespace diosim::engine {

constexpr size_t kStackGuardBytes = 64 * 1024; // large frames can skip a single page
constexpr size_t kMaxPooledStacks = 256;

// A Boost.Context StackAllocator handing out guard-paged stacks of `usable_bytes` from the
// calling thread's pool. Cheap to copy (it holds only the size).
class GuardedStackPool {
public:
  explicit GuardedStackPool(size_t usable_bytes);
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sc) noexcept;
  size_t usable_bytes() const { return usable_bytes_; }

private:
  size_t usable_bytes_;
};

// True when `addr` lies in the guard region below a stack whose usable part starts at
// `stack_bottom` (Context::stack_bottom). Async-signal-safe.
bool in_stack_guard(const void* addr, const void* stack_bottom);

} // namespace diosim::engine
