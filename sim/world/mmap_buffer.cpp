// SPDX-License-Identifier: GPL-2.0-only
// Buffers that map a file ("mmap" in a scenario's buffers): the page faults of get_user_pages and
// of the user copies on such a buffer, answered from the file's page cache. Linux 6.1:
// mm/gup.c faultin_page -> handle_mm_fault -> __do_fault -> mm/filemap.c filemap_fault; a write
// fault on a MAP_SHARED mapping then do_shared_fault -> do_page_mkwrite (ext2's
// filemap_page_mkwrite -> folio_mark_dirty -> block_dirty_folio); on a MAP_PRIVATE one
// do_cow_fault copies the page (UserMemory::lookup_mapped makes the copy).
//
// Modelled, per page looked up (each a yield point on the file's inode, noted as a write since
// the fault may instantiate a page): SIGBUS for a page at or past DIV_ROUND_UP(i_size,
// PAGE_SIZE) (the lookup faults: get_user_pages stops there, so the direct I/O sees -EFAULT at
// that page, as for an unmapped page); else the page-cache page, read in from the disk (zeros
// for a hole) when absent, dirtied whole by a shared write fault.
// Simplifications (docs/SEMANTICS.md R-MMAP-BUF-*): no read-around at these faults (only the
// faulting page is instantiated; mmap_read/mmap_write model it); a page already mapped faults
// again (each lookup is a fault: the pte is not modelled, so an invalidated page is simply
// faulted in anew, as after unmap_mapping_folio). ftruncate discards private copies past the
// new size (UserMemory::drop_private_copies, from inode_ops.cpp).
// Invariant: nothing here calls into the port (sim/dio/) or changes i_size.
#include "sim/world/world.hpp"

namespace diosim::world {

using kern::arg;

kern::page* World::MappedFilePages::fault_file_page(size_t file, uint64_t index,
                                                    bool write_shared) {
  SimFile& f = w_.files_.at(file);
  const uint64_t ps = w_.spec_.geometry.page_size;
  announce_page(f, "filemap_fault", static_cast<kern::loff_t>(index * ps), true);
  const uint64_t size = static_cast<uint64_t>(f.inode.i_size);
  if (index >= (size + ps - 1) / ps) { // filemap_fault: VM_FAULT_SIGBUS
    DIOSIM_TRACE_CHANGE("sigbus", "fs", {arg("index", static_cast<int64_t>(index))});
    return nullptr;
  }
  kern::page* p = f.cache.fault_page(index, write_shared);
  kern::note_access(kern::obj(engine::ObjectKind::page, p->id), write_shared);
  return p;
}

const uint8_t* World::MappedFilePages::peek_file_page(size_t file, uint64_t index) const {
  const SimFile& f = w_.files_.at(file);
  const uint64_t ps = w_.spec_.geometry.page_size;
  if (index >= (static_cast<uint64_t>(f.inode.i_size) + ps - 1) / ps) return nullptr;
  scratch_.resize(ps);
  return f.cache.peek_page(index, scratch_.data());
}

} // namespace diosim::world
