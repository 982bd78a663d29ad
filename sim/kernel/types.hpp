// SPDX-License-Identifier: GPL-2.0-only
// Kernel base types, errno values and the small macros fs/direct-io.c uses.
//
// Values are Linux's (x86_64), so results read like the real syscalls'.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace kern {

using sector_t = uint64_t;
using loff_t = int64_t;
using pgoff_t = uint64_t;
using blk_opf_t = uint32_t;
using blk_status_t = uint8_t;
using gfp_t = unsigned;

// errno values: the host's <cerrno> macros are Linux's own (asserted below), plus the
// kernel-internal EIOCBQUEUED.
static_assert(EIO == 5 && EAGAIN == 11 && ENOMEM == 12 && EFAULT == 14 && ENOTBLK == 15 &&
                  EBUSY == 16 && EINVAL == 22 && ENOSPC == 28,
              "errno values must be Linux's");
#ifndef EIOCBQUEUED
#define EIOCBQUEUED 529 // kernel-internal: "iocb queued, will get completion event"
#endif

const char* errno_name(long negative_errno); // "-EIO", or nullptr when not an errno we know

constexpr gfp_t GFP_KERNEL = 1;

constexpr int READ = 0;
constexpr int WRITE = 1;

constexpr long LONG_MAX_ = 0x7fffffffffffffffL;

} // namespace kern

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define READ_ONCE(x) (x)
#define ALIGN(x, a) (((x) + ((a)-1)) & ~static_cast<decltype(x)>((a)-1))
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define container_of(ptr, type, member)                                                            \
  (reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member)))
