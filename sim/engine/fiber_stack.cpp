// SPDX-License-Identifier: GPL-2.0-only
// Guard-paged fiber stacks (see fiber_stack.hpp for the invariants).
#include "sim/engine/fiber_stack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace diosim::engine {
namespace {

size_t page_rounded(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

// The calling thread's free stacks, by usable size (one size is used in practice).
struct FreeStacks {
  struct Block {
    void* base;    // start of the mapping (the guard)
    size_t usable; // bytes above the guard
  };
  std::vector<Block> blocks;
  FreeStacks() { blocks.reserve(kMaxPooledStacks); } // deallocate() must not allocate
  ~FreeStacks() {
    for (const Block& b : blocks)
      munmap(b.base, kStackGuardBytes + b.usable);
  }
};

FreeStacks& free_stacks() {
  thread_local FreeStacks pool;
  return pool;
}

void* map_guarded_stack(size_t usable) {
  const size_t total = kStackGuardBytes + usable;
  void* base =
      mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (mprotect(base, kStackGuardBytes, PROT_NONE) != 0) {
    munmap(base, total);
    throw std::bad_alloc();
  }
  return base;
}

} // namespace

GuardedStackPool::GuardedStackPool(size_t usable_bytes)
    : usable_bytes_(page_rounded(usable_bytes)) {}

boost::context::stack_context GuardedStackPool::allocate() {
  FreeStacks& pool = free_stacks();
  void* base = nullptr;
  for (size_t i = pool.blocks.size(); i-- > 0;)
    if (pool.blocks[i].usable == usable_bytes_) {
      base = pool.blocks[i].base;
      pool.blocks.erase(pool.blocks.begin() + static_cast<long>(i));
      break;
    }
  if (!base) base = map_guarded_stack(usable_bytes_);
  boost::context::stack_context sc;
  sc.size = usable_bytes_;
  sc.sp = static_cast<char*>(base) + kStackGuardBytes + usable_bytes_; // stacks grow down
  return sc;
}

void GuardedStackPool::deallocate(boost::context::stack_context& sc) noexcept {
  char* bottom = static_cast<char*>(sc.sp) - sc.size;
  void* base = bottom - kStackGuardBytes;
#if defined(__SANITIZE_ADDRESS__)
  // A reused stack must not carry the previous fiber's stack redzones.
  __asan_unpoison_memory_region(bottom, sc.size);
#endif
  FreeStacks& pool = free_stacks();
  if (pool.blocks.size() >= kMaxPooledStacks) {
    munmap(base, kStackGuardBytes + sc.size);
    return;
  }
  pool.blocks.push_back({base, sc.size});
}

bool in_stack_guard(const void* addr, const void* stack_bottom) {
  if (!stack_bottom) return false;
  const auto a = reinterpret_cast<uintptr_t>(addr);
  const auto bottom = reinterpret_cast<uintptr_t>(stack_bottom);
  return a < bottom && a >= bottom - kStackGuardBytes;
}

} // namespace diosim::engine
