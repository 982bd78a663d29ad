// SPDX-License-Identifier: GPL-2.0-only
// struct buffer_head as get_block fills it for direct I/O (state bits, size, block number).
#pragma once

#include "sim/kernel/types.hpp"

namespace kern {

struct block_device;

enum bh_state_bits : unsigned {
  BH_Uptodate,
  BH_Dirty,
  BH_Lock,
  BH_Req,
  BH_Mapped,
  BH_New,
  BH_Async_Read,
  BH_Async_Write,
  BH_Delay,
  BH_Boundary,
  BH_Write_EIO,
  BH_Unwritten,
  BH_Quiet,
  BH_Meta,
  BH_Prio,
  BH_Defer_Completion,
};

struct buffer_head {
  unsigned long b_state = 0;
  sector_t b_blocknr = 0;
  size_t b_size = 0;
  block_device* b_bdev = nullptr;
  void* b_private = nullptr;
};

#define KERN_BH_FLAG(name, bit)                                                                    \
  inline bool buffer_##name(const buffer_head* bh) {                                               \
    return (bh->b_state >> (bit)) & 1;                                                             \
  }                                                                                                \
  inline void set_buffer_##name(buffer_head* bh) {                                                 \
    bh->b_state |= 1ul << (bit);                                                                   \
  }                                                                                                \
  inline void clear_buffer_##name(buffer_head* bh) {                                               \
    bh->b_state &= ~(1ul << (bit));                                                                \
  }
KERN_BH_FLAG(mapped, BH_Mapped)
KERN_BH_FLAG(new, BH_New)
KERN_BH_FLAG(boundary, BH_Boundary)
KERN_BH_FLAG(defer_completion, BH_Defer_Completion)
KERN_BH_FLAG(unwritten, BH_Unwritten)
#undef KERN_BH_FLAG

// No buffer cache aliases exist in the simulation; traced so runs show the call.
void clean_bdev_aliases(block_device* bdev, sector_t block, sector_t len);

} // namespace kern
