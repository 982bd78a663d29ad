// SPDX-License-Identifier: GPL-2.0-only
// The inode operations of a scenario, as Linux 6.1 runs them for the modelled filesystems:
//   ftruncate  do_truncate -> ext2_setattr -> ext2_setsize: inode_lock, inode_dio_wait,
//              block_truncate_page, truncate_setsize (i_size, truncate_pagecache),
//              __ext2_truncate_blocks. ocfs2 and the extent model take the same steps here.
//   fallocate  vfs_fallocate's checks, then ext4_fallocate-like: inode_lock, inode_dio_wait,
//              unwritten preallocation (fs_fallocate.cpp) or a hole punch. ext2 has no
//              ->fallocate in Linux 6.1: -EOPNOTSUPP.
//   fsync      ext2_fsync -> __generic_file_fsync: write back and wait (the mapping's error,
//              once), inode_lock for the metadata (not modelled), the device flush.
// Each step is a yield point on the inode (or its lock), so the explorer interleaves them with
// direct I/O in flight. Simplification: block_truncate_page and a punch's partial-block zeroing
// write the block to the disk at once, from its cached page when there is one (Linux dirties
// the buffer and writes it back later; the bytes a reader can see are the same once any read
// path flushes the range first).
#include "sim/world/world.hpp"

#include "sim/scenario/scenario_files.hpp"

#include <climits>
#include <cstring>

namespace diosim::world {

using kern::arg;

// inode_dio_wait: sleeps until no direct I/O is in flight on the inode.
void World::inode_dio_wait(SimFile& f) {
  f.dio_waiters.push_back(kern::get_current());
  kern::wait_event(
      [&] {
        kern::note_file(f.index, false);
        return f.inode.i_dio_count == 0;
      },
      "inode_dio_wait");
  f.dio_waiters.erase(std::find(f.dio_waiters.begin(), f.dio_waiters.end(), kern::get_current()));
}

// Zeroes file bytes [from, to) inside one fs block, in the cached page that holds them and on
// disk when the block is mapped. With the page cached, Linux zeroes the page and dirties the
// buffer, whose writeback writes the whole block from the page: so the block's other bytes go
// to disk too (the page may hold what the disk does not, e.g. a tail an earlier
// truncate_pagecache zeroed past the old i_size; fuzz --seed 3 case 471).
void World::zero_block_part(SimFile& f, uint64_t from, uint64_t to) {
  if (from >= to) return;
  const uint64_t bs = spec_.geometry.fs_block_size, ps = spec_.geometry.page_size;
  f.cache.zero_range(static_cast<kern::loff_t>(from), static_cast<kern::loff_t>(to));
  const int64_t d = f.fs.lookup(from / bs);
  if (d == SimFilesystem::kHole) return;
  const uint64_t block_pos = static_cast<uint64_t>(d) * bs;
  if (f.cache.cached(from / ps)) {
    std::vector<uint8_t> scratch(ps);
    const uint8_t* page = f.cache.peek_page(from / ps, scratch.data());
    disk_.write(block_pos, page + from / bs * bs % ps, bs);
    return;
  }
  const std::vector<uint8_t> zeros(to - from, 0);
  disk_.write(block_pos + from % bs, zeros.data(), zeros.size());
}

int64_t World::do_ftruncate(SimFile& f, uint64_t size) {
  kern::inode_lock(&f.inode);
  const uint64_t old = static_cast<uint64_t>(f.inode.i_size);
  if (size != old) { // ext2_setattr calls ext2_setsize only for a new size
    inode_dio_wait(f);
    kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index),
                      "truncate", "fs", [&] {
                        return ::kern::TraceArgs{arg("old", static_cast<int64_t>(old)),
                                                 arg("new", static_cast<int64_t>(size))};
                      });
    kern::note_file(f.index, true);
    const uint64_t bs = spec_.geometry.fs_block_size, ps = spec_.geometry.page_size;
    if (size % bs) zero_block_part(f, size, (size / bs + 1) * bs); // block_truncate_page
    kern::i_size_write(&f.inode, static_cast<kern::loff_t>(size));
    // truncate_pagecache: whole pages past the size go, the partial page is zeroed past it.
    f.cache.truncate(static_cast<kern::loff_t>(size));
    mem_.drop_private_copies(f.index, (size + ps - 1) / ps); // even_cows: mmap_buffer.cpp
    if (size % ps)
      f.cache.zero_range(static_cast<kern::loff_t>(size),
                         static_cast<kern::loff_t>((size / ps + 1) * ps));
    f.fs.truncate_blocks(static_cast<kern::loff_t>(size));
  }
  kern::inode_unlock(&f.inode);
  return 0;
}

// ext4_punch_hole, as far as it shows in the file: offsets clipped to i_size (rounded up to a
// page), dirty pages written back, pages dropped, partial blocks zeroed, whole blocks freed.
int64_t World::punch_hole(SimFile& f, uint64_t offset, uint64_t len) {
  const uint64_t bs = spec_.geometry.fs_block_size, ps = spec_.geometry.page_size;
  const uint64_t i_size = static_cast<uint64_t>(f.inode.i_size);
  if (offset >= i_size) return 0;
  uint64_t end = offset + len;
  if (end > i_size) end = (i_size + ps - 1) / ps * ps;
  const int err = kern::filemap_write_and_wait_range(
      f.filp.f_mapping, static_cast<kern::loff_t>(offset), static_cast<kern::loff_t>(end) - 1);
  if (err) return err;
  kern::note_file(f.index, true);
  const uint64_t first_block = (offset + bs - 1) / bs, end_block = end / bs;
  if (first_block > end_block) { // inside one block
    zero_block_part(f, offset, end);
  } else {
    zero_block_part(f, offset, first_block * bs);
    zero_block_part(f, end_block * bs, end);
  }
  f.cache.zero_range(static_cast<kern::loff_t>(offset), static_cast<kern::loff_t>(end));
  const uint64_t first_page = (offset + ps - 1) / ps, end_page = end / ps;
  if (first_page < end_page) f.cache.drop_pages(first_page, end_page - 1);
  if (first_block < end_block) f.fs.punch_blocks(first_block, end_block);
  return 0;
}

int64_t World::do_fallocate(SimFile& f, const Operation& op) {
  if (op.length == 0) return -EINVAL;                     // vfs_fallocate
  if (op.punch_hole && !op.keep_size) return -EOPNOTSUPP; // vfs_fallocate
  if (!f.fs.supports_fallocate()) return -EOPNOTSUPP;     // no ->fallocate (ext2)
  kern::inode_lock(&f.inode);
  inode_dio_wait(f); // ext4_fallocate / ext4_punch_hole: newcomers block on the inode lock
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index),
                    "fallocate", "fs", [&] {
                      return ::kern::TraceArgs{arg("offset", static_cast<int64_t>(op.offset)),
                                               arg("len", static_cast<int64_t>(op.length)),
                                               arg("punch", op.punch_hole ? 1 : 0)};
                    });
  int64_t ret;
  if (op.punch_hole) {
    ret = punch_hole(f, op.offset, op.length);
  } else {
    kern::note_file(f.index, true);
    const uint64_t bs = spec_.geometry.fs_block_size, end = op.offset + op.length;
    ret = f.fs.preallocate(op.offset / bs, (end + bs - 1) / bs);
    if (!ret && !op.keep_size && end > static_cast<uint64_t>(f.inode.i_size))
      kern::i_size_write(&f.inode, static_cast<kern::loff_t>(end));
  }
  kern::inode_unlock(&f.inode);
  return ret;
}

int64_t World::do_fsync(SimFile& f, bool datasync) {
  const int err = kern::filemap_write_and_wait_range(f.filp.f_mapping, 0, LLONG_MAX);
  if (err) return err;
  kern::inode_lock(&f.inode); // sync_mapping_buffers, sync_inode_metadata: nothing modelled
  kern::inode_unlock(&f.inode);
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::disk, 0), "flush", "fs",
                    [&] { return ::kern::TraceArgs{arg("datasync", datasync ? 1 : 0)}; });
  return 0;
}

void World::run_inode_op(SimFile& f, const Operation& op, OpOutcome& out, const OpenFile& fd) {
  const char* name = op.kind == OpKind::ftruncate   ? "sys_ftruncate"
                     : op.kind == OpKind::fallocate ? "sys_fallocate"
                                                    : "sys_fsync";
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index), name,
                    "syscall", [&] {
                      ::kern::TraceArgs args{arg("offset", static_cast<int64_t>(op.offset)),
                                             arg("length", static_cast<int64_t>(op.length))};
                      if (f.index) args.push_back(arg("file", file_name(spec_, f.index)));
                      return args;
                    });
  int64_t ret = 0;
  if (fd_closed(fd))
    ret = -EBADF; // fdget
  else if (op.kind == OpKind::ftruncate)
    ret = do_ftruncate(f, op.length);
  else if (op.kind == OpKind::fallocate)
    ret = do_fallocate(f, op);
  else
    ret = do_fsync(f, op.datasync);
  kern::note_file(f.index, true);
  op_done(out, ret, f.inode);
}

} // namespace diosim::world
