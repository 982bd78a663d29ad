// SPDX-License-Identifier: GPL-2.0-only
// Buffered I/O on an fd without O_DIRECT (Linux 6.1 mm/filemap.c generic_file_read_iter ->
// filemap_read with readahead, generic_file_write_iter -> __generic_file_write_iter ->
// generic_perform_write), and fcntl(F_SETFL) changing an fd's O_DIRECT.
//
// Every page a buffered op takes is a yield point (announce_page), so the explorer can place a
// buffered read or write between a direct write's submission and its completion — the cause of
// dio_warn_stale_pagecache (fs/direct-io.c:287-294). A buffered write holds inode_lock like a
// direct one; a buffered read takes no lock. A buffered write leaves its pages dirty: only
// RWF_DSYNC (generic_write_sync) or a later direct op's flush writes them back.
// Invariant: a buffered op never calls into the port (sim/dio/).
#include "sim/world/world.hpp"

#include <algorithm>

namespace diosim::world {

using kern::arg;

void World::announce_page(const SimFile& f, const char* name, kern::loff_t pos, bool write) {
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index), name, "fs",
                    [&] { return ::kern::TraceArgs{arg("pos", pos)}; });
  kern::note_file(f.index, write);
}

// fcntl(F_SETFL): setfl changes f_flags; requests submitted before keep the kiocb flags they
// took at submission (iocb_flags).
int64_t World::fcntl_setfl(SimFile& f, OpenFile& fd, bool o_direct) {
  kern::yield_point(engine::StepOp::hook, kern::obj(engine::ObjectKind::inode, f.index),
                    "sys_fcntl", "syscall",
                    [&] { return ::kern::TraceArgs{arg("o_direct", o_direct ? 1 : 0)}; });
  if (fd_closed(fd)) return -EBADF;
  note_process(fd.object, true);
  fd.o_direct = o_direct;
  return 0;
}

// filemap_read: per page, filemap_get_pages (a miss starts page_cache_sync_ra, a page with the
// readahead mark page_cache_async_ra), then the copy to the user, segment by segment, stopping
// at i_size or a fault; ra->prev_pos follows ki_pos.
ssize_t World::buffered_read(Request& req) {
  SimFile& f = *req.file;
  kern::iov_iter* it = &req.iter;
  ReadaheadState& ra = req.fd->ra;
  const uint64_t ps = spec_.geometry.page_size, max = default_ra_pages(ps);
  const auto cached = [&](uint64_t i) { return f.cache.cached(i); };
  ssize_t done = 0, error = 0;
  while (kern::iov_iter_count(it) && req.iocb.ki_pos < f.inode.i_size) {
    const uint64_t pos = static_cast<uint64_t>(req.iocb.ki_pos), index = pos / ps;
    announce_page(f, "filemap_get_pages", req.iocb.ki_pos, true);
    const uint64_t last = (pos + kern::iov_iter_count(it) + ps - 1) / ps; // exclusive
    const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
    if (!f.cache.cached(index))
      f.cache.read_ahead(ondemand_readahead(ra, index, last - index, false, max, ps, size, cached));
    else if (f.cache.take_readahead_mark(index))
      f.cache.read_ahead(ondemand_readahead(ra, index, last - index, true, max, ps, size, cached));
    if (req.iocb.ki_pos >= f.inode.i_size) break; // i_size_read after the pages are in
    const size_t in_page = static_cast<size_t>(
        std::min<uint64_t>(ps - pos % ps, static_cast<uint64_t>(f.inode.i_size) - pos));
    size_t copied = 0;
    while (copied < in_page && kern::iov_iter_count(it)) {
      const auto [addr, len] = current_segment(it);
      const size_t want = std::min(len, in_page - copied);
      const size_t got = f.cache.buffered_read(mem_, addr, req.iocb.ki_pos, want);
      kern::iov_iter_advance(it, got);
      req.iocb.ki_pos += static_cast<kern::loff_t>(got);
      ra.prev_pos = req.iocb.ki_pos;
      copied += got;
      if (got < want) {
        error = -EFAULT;
        break;
      }
    }
    done += static_cast<ssize_t>(copied);
    if (error) break;
  }
  return done ? done : error;
}

// __generic_file_write_iter without IOCB_DIRECT, under inode_lock, then generic_write_sync.
ssize_t World::buffered_write(Request& req) {
  SimFile& f = *req.file;
  kern::kiocb* iocb = &req.iocb;
  kern::inode_lock(&f.inode);
  if (iocb->ki_flags & kern::IOCB_APPEND) iocb->ki_pos = f.inode.i_size; // generic_write_checks
  ssize_t ret = 0;
  if (kern::iov_iter_count(&req.iter)) {
    ret = generic_perform_write(req, true);
    if (ret > 0) iocb->ki_pos += ret;
  }
  kern::inode_unlock(&f.inode);
  if (ret > 0) ret = kern::generic_write_sync(iocb, ret);
  return ret;
}

} // namespace diosim::world
