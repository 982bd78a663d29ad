// SPDX-License-Identifier: GPL-2.0-only
// shared_field<T, "name">: a field of a shared kernel struct (struct dio) whose every access is
// announced to the simulated kernel before it acts, so the port's text stays the kernel's
// (`--dio->refcount`, `if (dio->waiter)`) while each access becomes a typed, checked event.
//
// Owns: the field wrapper, the access hook's signature and the scheduler's step hook.
// Invariants:
//   1. shared_field<T, N> is exactly a T: same size and alignment, trivially copyable and
//      standard-layout, so memset of struct dio, slab poison and offsetof keep working, and a
//      whole-struct copy stays a raw copy (not announced; the port never copies a dio).
//   2. Every access through the operators calls shared_access() once, before it reads or
//      writes the value (announce, then act): a finding stops the run before the access.
//   3. peek() is the only unannounced read; it is for observers outside the port's logic
//      (the slab inspector, assert_dio_state), never for the port's own statements.
#pragma once

#include "sim/engine/footprint.hpp"

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace kern {

enum class AccessKind : uint8_t { read, write, read_modify_write };

const char* access_kind_name(AccessKind kind);

// A string literal usable as a template argument (C++20 class-type NTTP).
template <size_t N> struct fixed_string {
  char value[N];
  constexpr fixed_string(const char (&s)[N]) {
    for (size_t i = 0; i < N; ++i)
      value[i] = s[i];
  }
};

// Called before every access to a shared_field. Checks, in order: use after free of the slab
// object holding the field, a data race (RaceDetector), then records the access as a step
// (shared_step). Without an installed Kernel (unit tests of the wrapper) it does nothing.
void shared_access(const void* field_address, const char* field_name, AccessKind kind);

// The scheduler's part of an access: a footprint note on `ref` and, when the current context
// holds no lock, a scheduling point. Implemented by the scheduler (today a no-op).
void shared_step(diosim::engine::ObjectRef ref, bool write, int src_line);

// Tests only: observe each announced access (called first in shared_access). Not for checks.
using SharedAccessObserver = void (*)(const void* field_address, const char* field_name,
                                      AccessKind kind);
void set_shared_access_observer(SharedAccessObserver observer);

template <typename T, fixed_string Name> class shared_field {
  static_assert(std::is_trivially_copyable_v<T>, "a shared field holds plain kernel data");

public:
  static constexpr const char* name = Name.value;

  shared_field() = default; // trivial: the slab and memset decide the initial bytes

  operator T() const {
    check_layout();
    shared_access(&value_, name, AccessKind::read);
    return value_;
  }
  // C's assignment yields the value assigned; returning T keeps `a = b = c` from re-reading.
  T operator=(T v) {
    shared_access(&value_, name, AccessKind::write);
    value_ = v;
    return v;
  }
  T operator++() {
    return rmw([](T& v) { return ++v; });
  }
  T operator--() {
    return rmw([](T& v) { return --v; });
  }
  T operator++(int) {
    return rmw([](T& v) { return v++; });
  }
  T operator--(int) {
    return rmw([](T& v) { return v--; });
  }
  template <typename U> T operator+=(U rhs) {
    return rmw([&](T& v) { return v += rhs; });
  }
  template <typename U> T operator-=(U rhs) {
    return rmw([&](T& v) { return v -= rhs; });
  }
  // `dio->waiter->field` for pointer fields: one read of the pointer.
  T operator->() const requires std::is_pointer_v<T> { return static_cast<T>(*this); }

  T peek() const { return value_; } // unannounced: observers only (invariant 3)

private:
  template <typename Op> T rmw(Op op) {
    shared_access(&value_, name, AccessKind::read_modify_write);
    return op(value_);
  }
  static constexpr void check_layout() {
    static_assert(sizeof(shared_field) == sizeof(T), "a shared field must be exactly a T");
    static_assert(alignof(shared_field) == alignof(T), "a shared field must align like T");
    static_assert(std::is_trivially_copyable_v<shared_field>, "memset / slab poison safe");
    static_assert(std::is_standard_layout_v<shared_field>, "offsetof on the owner stays valid");
  }

  T value_;
};

} // namespace kern
