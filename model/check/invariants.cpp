// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/invariants.hpp"

#include "sim/kernel/kernel.hpp"

namespace diosim::model {

namespace {
engine::Violation make(const char* invariant, std::string message) {
  return engine::Violation{invariant, 0, std::move(message), 0, 0};
}
} // namespace

std::optional<engine::Violation> check_end_of_run(const kern::Kernel& k, const world::World& w) {
  for (const auto& p : k.pages)
    if (p->_refcount != p->baseline)
      return make("page-refcount-baseline", kern::page_name(p.get()) + " ends with refcount " +
                                                std::to_string(p->_refcount) + ", baseline " +
                                                std::to_string(p->baseline));
  for (const auto& b : k.bios)
    if (!b->freed)
      return make("bio-leak", kern::bio_name(b.get()) + " was never freed (__bi_cnt " +
                                  std::to_string(b->__bi_cnt) + ")");
  for (const auto& c : k.caches)
    for (const auto& o : c->objects)
      if (o.live)
        return make("dio-leak", c->name + "#" + std::to_string(o.ordinal) + " was never freed");
  for (size_t f = 0; f < w.file_count(); ++f) { // every file's inode (several files)
    const std::string of = f ? " (file " + std::to_string(f) + ")" : "";
    if (w.inode(f).i_dio_count != 0)
      return make("i_dio_count-zero",
                  "i_dio_count ends at " + std::to_string(w.inode(f).i_dio_count) + of);
    if (w.inode(f).i_rwsem.owner)
      return make("lock-balance",
                  "inode_lock still held by " + w.inode(f).i_rwsem.owner->name + of);
  }
  for (const auto& ctx : k.sched.contexts()) {
    const auto* t = static_cast<const kern::task_struct*>(ctx.kernel);
    if (t && t->locks_held)
      return make("lock-balance",
                  ctx.name + " ends holding " + std::to_string(t->locks_held) + " spin lock(s)");
  }
  for (size_t f = 0; f < w.file_count(); ++f)
    if (const auto off = w.first_stale_file_byte(f))
      return make("stale-data", (f ? "file " + std::to_string(f) + ": " : std::string()) +
                                    "file offset " + std::to_string(*off) + " below i_size " +
                                    std::to_string(w.inode(f).i_size) +
                                    " lies in a block whose disk sector was never written");
  if (const auto page = w.first_incoherent_page()) return make("page-cache-coherency", *page);
  for (const world::OpOutcome& o : w.outcomes()) {
    auto who = [&] { return o.task + " op " + std::to_string(o.op_index); }; // on failure only
    if (!o.finished) return make("op-finished", who() + " never finished");
    int queued = 0;
    for (int64_t r : o.dio_returns)
      queued += r == -EIOCBQUEUED;
    if (o.ki_complete_calls != queued)
      return make("ki_complete-iff-queued",
                  who() + ": ki_complete called " + std::to_string(o.ki_complete_calls) +
                      " time(s), __blockdev_direct_IO returned -EIOCBQUEUED " +
                      std::to_string(queued) + " time(s)");
  }
  return std::nullopt;
}

} // namespace diosim::model
