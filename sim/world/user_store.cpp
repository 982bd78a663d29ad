// SPDX-License-Identifier: GPL-2.0-only
// A task storing into its own memory while I/O may be using it: the scenario op memset (the
// pattern of fstests generic/761, dio-writeback-race: one thread writes a buffer with O_DIRECT
// while another memsets it).
//
// Each page of the range is one step: announced as a write of that user page (so the explorer
// orders it against the disk's DMA of the same page, SimDisk::complete), then the bytes are
// stored. A direct write's bio copies its pages when it completes, so the file gets, page by
// page, the bytes before or after the store; a direct read's DMA may land before or after it.
// Simplification: a page is stored at once (real stores interleave with DMA at cache-line
// granularity). Invariants: the op never enters the kernel (no syscall, no file, no lock) and
// never faults (the parser refuses unmapped pages).
#include "sim/world/world.hpp"

#include <vector>

namespace diosim::world {

using kern::arg;

void World::run_memset(const Operation& op, OpOutcome& out) {
  const uint64_t ps = spec_.geometry.page_size;
  int64_t stored = 0;
  out.data = ByteImage();
  for (const IoVec& v : op.iov) {
    uint64_t user = 0;
    for (const Buffer& b : spec_.buffers)
      if (b.name == v.buffer) user = b.address + v.offset;
    const uint64_t first = user;
    for (uint64_t done = 0; done < v.len;) {
      const uint64_t addr = user + done, n = std::min(v.len - done, ps - addr % ps);
      const kern::page* p = mem_.lookup(addr / ps * ps, true);
      if (!p) throw engine::InternalError("memset reached an unmapped page the parser allowed");
      kern::yield_point(engine::StepOp::write, kern::obj(engine::ObjectKind::page, p->id), "memset",
                        "user", [&] {
                          return ::kern::TraceArgs{arg("page", kern::page_name(p)),
                                                   arg("len", static_cast<int64_t>(n))};
                        });
      kern::note_access(kern::obj(engine::ObjectKind::page, p->id), true);
      const std::vector<uint8_t> bytes(n, op.fill);
      stored += static_cast<int64_t>(mem_.copy_to_user(addr, bytes.data(), n));
      done += n;
    }
    mem_.append_snapshot(out.data, first, v.len); // what the op's memory holds after it
  }
  out.finished = true;
  out.ret = stored;
  out.i_size_after = files_.front().inode.i_size;
}

} // namespace diosim::world
