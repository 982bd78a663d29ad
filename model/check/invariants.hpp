// SPDX-License-Identifier: GPL-2.0-only
// End-of-run invariants: what must hold once every context has finished.
//
// The invariants that can fail mid-run (refcount underflow, double free, use after free,
// BUG_ON, might_sleep, deadlock, ki_complete twice, lock balance) are checked where they
// happen, in sim/kernel and the engine. These are the ones only the end can tell:
//   I1 every page is back at its baseline refcount (no leaked get_page / pin);
//   I2 every bio allocated was put (no leaked bio);
//   I3 every struct dio was freed (exactly once is enforced at free time);
//   I4 i_dio_count is back to zero;
//   I5 no task holds a spin lock or the inode lock;
//   I6 ki_complete was called exactly once iff __blockdev_direct_IO returned -EIOCBQUEUED;
//   I7 every operation finished;
//   I8 no stale data: every byte below i_size in a mapped block was written (by the scenario's
//      initial contents, a bio or writeback). A read bio that reaches an unwritten sector below
//      i_size is reported when it completes.
//   I9 page-cache coherency: every clean cached page holds what the disk holds below i_size
//      (World::first_incoherent_page names the page).
#pragma once

#include "sim/engine/violation.hpp"
#include "sim/kernel/runtime.hpp"
#include "sim/world/world.hpp"

#include <optional>

namespace diosim::model {

std::optional<engine::Violation> check_end_of_run(const kern::Kernel& k, const world::World& w);

} // namespace diosim::model
