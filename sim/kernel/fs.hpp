// SPDX-License-Identifier: GPL-2.0-only
// VFS objects direct-io.c touches: super_block, inode, address_space, file, kiocb, and the
// helpers around them (i_size, inode_lock, i_dio_count, page-cache writeback/invalidation,
// generic_write_sync, the dio-done workqueue).
//
// Invariants:
//   1. i_dio_count never goes below zero and is zero when no direct I/O is in flight.
//   2. inode_lock is a sleeping lock: taking it in irq context or under a spin lock is a
//      finding; releasing it from a task that does not hold it is a finding.
//   3. Page-cache calls go to the world's page cache through address_space::ops.
//   4. A failed writeback sets AS_EIO in the mapping (mapping_set_error); the next
//      filemap_write_and_wait_range on the mapping, whatever its range, returns -EIO and clears
//      it (filemap_check_errors, mm/filemap.c): the error reaches exactly one caller.
#pragma once

#include "sim/kernel/buffer_head.hpp"
#include "sim/kernel/types.hpp"

#include <cstdint>
#include <string>

namespace diosim::engine {
class Context;
}

namespace kern {

struct inode;
struct kiocb;
struct block_device;
struct workqueue_struct;
struct address_space;

// direct-io.c flags (include/linux/fs.h).
enum { DIO_LOCKING = 0x01, DIO_SKIP_HOLES = 0x02 };

// kiocb flags.
enum : int {
  IOCB_HIPRI = 1 << 0,
  IOCB_DSYNC = 1 << 1,
  IOCB_SYNC = 1 << 2,
  IOCB_WRITE = 1 << 3,
  IOCB_APPEND = 1 << 4,
  IOCB_DIRECT = 1 << 17,
  IOCB_NOWAIT = 1 << 20,
};

using get_block_t = int(inode* inode, sector_t iblock, buffer_head* bh_result, int create);
using dio_iodone_t = int(kiocb* iocb, loff_t offset, ssize_t size, void* priv);

// The world's page cache and filesystem hooks behind an address_space / inode.
struct page_cache_ops {
  virtual ~page_cache_ops() = default;
  virtual int write_and_wait_range(address_space* mapping, loff_t start, loff_t end) = 0;
  // 0, or -EBUSY when a page in the range could not be invalidated.
  virtual int invalidate_range(address_space* mapping, pgoff_t start, pgoff_t end) = 0;
  virtual int fsync_range(kiocb* iocb, loff_t start, loff_t end) = 0;
};

struct super_block {
  const char* s_id = "simdisk";
  block_device* s_bdev = nullptr;
  workqueue_struct* s_dio_done_wq = nullptr;
  void* s_fs_info = nullptr; // the world's filesystem model
};

// address_space::flags bits (include/linux/pagemap.h).
enum : unsigned long { AS_EIO = 1ul << 0 };

struct address_space {
  inode* host = nullptr;
  unsigned long nrpages = 0;
  unsigned long flags = 0; // AS_EIO
  page_cache_ops* ops = nullptr;
};

// The inode's rw_semaphore, used as a mutex (inode_lock / inode_unlock).
struct rw_semaphore {
  diosim::engine::Context* owner = nullptr;
  uint32_t id = 0;
};

// inode::i_flags bits (include/linux/fs.h).
enum : unsigned { S_SYNC = 1u << 0 };

struct inode {
  loff_t i_size = 0;
  unsigned i_flags = 0; // S_SYNC (chattr +S)
  unsigned i_blkbits = 12;
  super_block* i_sb = nullptr;
  address_space* i_mapping = nullptr;
  address_space i_data;
  int i_dio_count = 0;
  rw_semaphore i_rwsem;
  uint64_t i_ino = 1;
};

struct file {
  address_space* f_mapping = nullptr;
  inode* f_inode = nullptr;
};

struct kiocb {
  file* ki_filp = nullptr;
  loff_t ki_pos = 0;
  void (*ki_complete)(kiocb* iocb, long ret) = nullptr;
  int ki_flags = 0;
  void* private_ = nullptr; // the world's request record
};

// The file an inode is, for footprints (runtime.hpp note_file): i_ino - 1.
inline uint64_t inode_file(const inode* inode) {
  return inode->i_ino ? inode->i_ino - 1 : 0;
}
void note_inode(const inode* inode, bool write);     // note_file(inode_file(inode), write)
uint64_t mapping_file(const address_space* mapping); // its host's inode_file (0 without one)

loff_t i_size_read(const inode* inode);
void i_size_write(inode* inode, loff_t size);
inline unsigned i_blocksize(const inode* inode) {
  return 1u << inode->i_blkbits;
}

void inode_lock(inode* inode);
void inode_unlock(inode* inode);
void inode_dio_begin(inode* inode);
void inode_dio_end(inode* inode);

int filemap_write_and_wait_range(address_space* mapping, loff_t lstart, loff_t lend);
// A writeback of the mapping failed with `error` (only -EIO is modelled).
void mapping_set_error(address_space* mapping, int error);
// -EIO when AS_EIO is set, clearing it; else 0.
int filemap_check_errors(address_space* mapping);
int invalidate_inode_pages2_range(address_space* mapping, pgoff_t start, pgoff_t end);
void dio_warn_stale_pagecache(file* filp);
ssize_t generic_write_sync(kiocb* iocb, ssize_t count);

inline bool is_sync_kiocb(const kiocb* iocb) {
  return iocb->ki_complete == nullptr;
}
inline bool IS_SYNC(const inode* inode) {
  return inode->i_flags & S_SYNC;
}
// Linux 6.1 include/linux/fs.h: IOCB_DSYNC, or the inode is S_SYNC *now* (read at the call,
// not at submission: chattr +S between submission and completion changes the answer).
bool iocb_is_dsync(const kiocb* iocb);

int sb_init_dio_done_wq(super_block* sb);

inline void task_io_account_write(size_t) {} // accounting only; nothing to simulate

} // namespace kern
