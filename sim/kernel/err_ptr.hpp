// SPDX-License-Identifier: GPL-2.0-only
// ERR_PTR / IS_ERR / PTR_ERR: errors encoded in the top 4095 pointer values, as in the kernel.
#pragma once

#include <cstdint>

namespace kern {

constexpr unsigned long MAX_ERRNO = 4095;

// C converts void* to any pointer implicitly; this proxy gives C++ the same convenience.
struct ErrPtr {
  long error;
  template <typename T> operator T*() const {
    return reinterpret_cast<T*>(static_cast<intptr_t>(error));
  }
};

inline ErrPtr ERR_PTR(long error) {
  return {error};
}
inline long PTR_ERR(const void* ptr) {
  return static_cast<long>(reinterpret_cast<intptr_t>(ptr));
}
inline bool IS_ERR(const void* ptr) {
  return reinterpret_cast<uintptr_t>(ptr) >= static_cast<uintptr_t>(-MAX_ERRNO);
}

} // namespace kern
