// SPDX-License-Identifier: GPL-2.0-only
// The syscall layer: Linux 6.1's generic_file_read_iter / generic_file_write_iter paths for an
// O_DIRECT file, and the filesystem's ->direct_IO wrapper (ext2_direct_IO), which calls
// __blockdev_direct_IO.
#include "sim/world/world.hpp"

#include <algorithm>

namespace diosim::world {

using kern::arg;

// The user range the iterator points at now: its first non-empty segment (the buffered paths
// copy one segment at a time, as copy_page_to_iter / copy_page_from_iter do).
std::pair<uint64_t, size_t> current_segment(kern::iov_iter* it) {
  while (it->nr_segs && it->iov_offset == it->iov->iov_len) {
    ++it->iov;
    --it->nr_segs;
    it->iov_offset = 0;
  }
  return {it->iov->iov_base + it->iov_offset,
          std::min(kern::iov_iter_count(it), it->iov->iov_len - it->iov_offset)};
}

// ext2_direct_IO (fs/ext2/inode.c): on a failed write, drop what was instantiated past i_size.
// fat_direct_IO (fs/fat/inode.c) does the same, after sending a write past mmu_private to the
// buffered path.
ssize_t World::direct_IO(Request& req) {
  SimFile& f = *req.file;
  kern::kiocb* iocb = &req.iocb;
  kern::iov_iter* iter = &req.iter;
  const size_t count = kern::iov_iter_count(iter);
  const kern::loff_t offset = iocb->ki_pos;
  if (kern::iov_iter_rw(iter) == kern::WRITE &&
      f.fs.direct_write_falls_back(offset + static_cast<kern::loff_t>(count)))
    return 0; // fat_direct_IO: nothing done, generic_file_write_iter writes it buffered
  const ssize_t ret = kern::__blockdev_direct_IO(
      iocb, &f.inode, sb_.s_bdev, iter, f.fs.get_block_fn(), f.fs.end_io_fn(), f.fs.dio_flags());
  req.out->dio_returns.push_back(ret);
  kern::K().sched.current()->src_line = 0;     // back in the world: no fs/direct-io.c line
  if (ret != -EIOCBQUEUED) wake_dio_waiters(); // a synchronous dio_complete ran inode_dio_end
  if (ret < 0 && kern::iov_iter_rw(iter) == kern::WRITE) {
    kern::note_file(f.index, true); // i_size, and what ext2_write_failed drops
    const kern::loff_t to = offset + static_cast<kern::loff_t>(count);
    if (to > f.inode.i_size) { // ext2_write_failed
      f.cache.truncate(f.inode.i_size);
      f.fs.truncate_blocks(f.inode.i_size);
    }
  }
  return ret;
}

// filemap_read: the buffered remainder of a read, from the iterator's current position.
ssize_t World::filemap_read(Request& req, ssize_t already_read) {
  SimFile& f = *req.file;
  kern::iov_iter* it = &req.iter;
  ssize_t error = 0;
  kern::note_file(f.index, false); // i_size (each page is announced: announce_page)
  while (kern::iov_iter_count(it) && req.iocb.ki_pos < f.inode.i_size) {
    const auto [addr, len] = current_segment(it);
    const size_t want =
        std::min<size_t>(len, static_cast<size_t>(f.inode.i_size - req.iocb.ki_pos));
    const size_t copied = f.cache.buffered_read(mem_, addr, req.iocb.ki_pos, want);
    kern::iov_iter_advance(it, copied);
    req.iocb.ki_pos += static_cast<kern::loff_t>(copied);
    already_read += static_cast<ssize_t>(copied);
    if (copied < want) {
      error = -EFAULT;
      break;
    }
  }
  return already_read ? already_read : error;
}

// mm/filemap.c generic_file_read_iter, the IOCB_DIRECT branch and its buffered fallback.
ssize_t World::read_iter(Request& req) {
  SimFile& f = *req.file;
  kern::kiocb* iocb = &req.iocb;
  kern::iov_iter* iter = &req.iter;
  size_t count = kern::iov_iter_count(iter);
  ssize_t retval = 0;
  if (!count) return 0;
  if (!(iocb->ki_flags & kern::IOCB_DIRECT)) return buffered_read(req);
  {
    kern::address_space* mapping = f.filp.f_mapping;
    const kern::loff_t pos = iocb->ki_pos;
    if (iocb->ki_flags & kern::IOCB_NOWAIT) {
      kern::note_file(f.index, false); // the page cache
      if (f.cache.range_needs_writeback(pos, pos + static_cast<kern::loff_t>(count) - 1))
        return -EAGAIN;
    } else {
      retval = kern::filemap_write_and_wait_range(mapping, pos,
                                                  pos + static_cast<kern::loff_t>(count) - 1);
      if (retval < 0) return retval;
    }
    retval = direct_IO(req);
    if (retval >= 0) {
      iocb->ki_pos += retval;
      count -= static_cast<size_t>(retval);
    }
    if (retval != -EIOCBQUEUED) kern::iov_iter_revert(iter, count - kern::iov_iter_count(iter));
    kern::note_file(f.index, false); // i_size
    if (retval < 0 || !count || (iocb->ki_flags & kern::IOCB_NOWAIT) ||
        iocb->ki_pos >= f.inode.i_size)
      return retval;
  }
  return filemap_read(req, retval);
}

// mm/filemap.c generic_file_direct_write.
ssize_t World::generic_file_direct_write(Request& req) {
  SimFile& f = *req.file;
  kern::kiocb* iocb = &req.iocb;
  kern::iov_iter* from = &req.iter;
  kern::address_space* mapping = f.filp.f_mapping;
  kern::loff_t pos = iocb->ki_pos;
  size_t write_len = kern::iov_iter_count(from);
  const kern::pgoff_t end =
      static_cast<kern::pgoff_t>(pos + static_cast<kern::loff_t>(write_len) - 1) >> PAGE_SHIFT;
  ssize_t written;
  if (iocb->ki_flags & kern::IOCB_NOWAIT) {
    kern::note_file(f.index, false); // the page cache
    if (f.cache.range_has_page(pos, pos + static_cast<kern::loff_t>(write_len) - 1)) return -EAGAIN;
  } else {
    written = kern::filemap_write_and_wait_range(mapping, pos,
                                                 pos + static_cast<kern::loff_t>(write_len) - 1);
    if (written) return written;
  }
  // Invalidate clean pages so a later buffered read sees the new data; -EBUSY makes the
  // caller fall back to buffered I/O.
  written = kern::invalidate_inode_pages2_range(mapping,
                                                static_cast<kern::pgoff_t>(pos) >> PAGE_SHIFT, end);
  if (written) {
    if (written == -EBUSY) return 0;
    return written;
  }
  written = direct_IO(req);
  if (written > 0) {
    pos += written;
    write_len -= static_cast<size_t>(written);
    if (pos > f.inode.i_size) kern::i_size_write(&f.inode, pos);
    iocb->ki_pos = pos;
  }
  if (written != -EIOCBQUEUED) kern::iov_iter_revert(from, write_len - kern::iov_iter_count(from));
  return written;
}

// mm/filemap.c generic_perform_write: buffered copy of what remains in the iterator.
// The request's bytes go in page by page, each page's chunk taken across iovec segments as
// copy_page_from_iter does: a chunk's blocks are allocated together (write_begin), so where the
// segments end does not change where an -ENOSPC stops the write.
// `announce`: each page is a yield point (a buffered write's own pages; the remainder of a short
// direct write keeps the steps it had).
ssize_t World::generic_perform_write(Request& req, bool announce) {
  SimFile& f = *req.file;
  kern::iov_iter* it = &req.iter;
  const kern::iov_iter start = *it;
  const size_t len = kern::iov_iter_count(it);
  const PageCache::CopyIn copy_in = [&](uint8_t* dst, size_t from, size_t n) {
    if (announce) announce_page(f, "generic_perform_write", req.iocb.ki_pos + from, true);
    kern::iov_iter seg = start;
    kern::iov_iter_advance(&seg, from);
    size_t got = 0;
    while (got < n) {
      const auto [addr, avail] = current_segment(&seg);
      const size_t k = std::min(avail, n - got);
      if (!k) break;
      const size_t c = mem_.copy_from_user(dst + got, addr, k);
      got += c;
      if (c < k) break;
      kern::iov_iter_advance(&seg, c);
    }
    return got;
  };
  const int64_t got = f.cache.buffered_write(copy_in, req.iocb.ki_pos, len);
  if (got < 0) return got; // write_begin failed before any byte
  kern::iov_iter_advance(it, static_cast<size_t>(got));
  const kern::loff_t end = req.iocb.ki_pos + got;
  kern::note_file(f.index, true); // write_end: i_size, the pages written
  if (got && end > f.inode.i_size) kern::i_size_write(&f.inode, end); // write_end extends i_size
  return got ? got : -EFAULT;
}

void World::wake_dio_waiters() { // every file's: the waiters recheck their own inode
  for (SimFile& f : files_)
    for (kern::task_struct* t : f.dio_waiters)
      if (t->__state != kern::TASK_RUNNING) kern::wake_up_process(t);
}

// ext4_dio_write_iter / xfs_file_dio_write_unaligned: unaligned direct I/O must not run
// alongside other direct I/O, since the partial blocks each zeroes can overwrite the other's
// data (generic/538, generic/240).
ssize_t World::serialise_unaligned_aio(Request& req) {
  const uint64_t mask = spec_.geometry.fs_block_size - 1;
  uint64_t bits = static_cast<uint64_t>(req.iocb.ki_pos);
  for (const kern::iovec& v : req.iov)
    bits |= v.iov_base | v.iov_len; // iov_iter_alignment
  if (!req.aio || !spec_.fs.serialise_unaligned_aio || !(bits & mask)) return 0;
  if (req.iocb.ki_flags & kern::IOCB_NOWAIT) return -EAGAIN;
  inode_dio_wait(*req.file);
  req.iocb.ki_complete = nullptr; // IOMAP_DIO_FORCE_WAIT: is_sync_kiocb from here on
  return 0;
}

// mm/filemap.c generic_file_write_iter and __generic_file_write_iter (IOCB_DIRECT branch).
ssize_t World::write_iter(Request& req) {
  SimFile& f = *req.file;
  kern::kiocb* iocb = &req.iocb;
  kern::iov_iter* from = &req.iter;
  if (!(iocb->ki_flags & kern::IOCB_DIRECT)) return buffered_write(req);
  kern::inode_lock(&f.inode);
  kern::note_file(f.index, false);                                       // i_size
  if (iocb->ki_flags & kern::IOCB_APPEND) iocb->ki_pos = f.inode.i_size; // generic_write_checks
  ssize_t ret = static_cast<ssize_t>(kern::iov_iter_count(from));        // generic_write_checks
  if (ret > 0) {
    const ssize_t wait_ret = serialise_unaligned_aio(req);
    if (wait_ret) ret = wait_ret;
  }
  if (ret > 0) {
    ssize_t written = generic_file_direct_write(req);
    ssize_t err = 0;
    if (!(written < 0 || !kern::iov_iter_count(from))) {
      const kern::loff_t pos = iocb->ki_pos;
      const ssize_t status = generic_perform_write(req);
      if (status < 0) {
        err = status;
      } else {
        const kern::loff_t endbyte = pos + status - 1;
        err = kern::filemap_write_and_wait_range(f.filp.f_mapping, pos, endbyte);
        if (err == 0) {
          iocb->ki_pos = endbyte + 1;
          written += status;
          kern::note_file(f.index, true);
          f.cache.drop_clean(static_cast<kern::pgoff_t>(pos) >> PAGE_SHIFT,
                             static_cast<kern::pgoff_t>(endbyte) >> PAGE_SHIFT);
        }
      }
    }
    ret = written ? written : err;
  }
  kern::inode_unlock(&f.inode);
  if (req.aio) iocb->ki_complete = &World::aio_complete_rw; // restored after a forced wait
  if (ret > 0) ret = kern::generic_write_sync(iocb, ret);
  return ret;
}

} // namespace diosim::world
