// SPDX-License-Identifier: GPL-2.0-only
// The happens-before race detector (see race_detector.hpp for the rules and invariants).
#include "sim/kernel/race_detector.hpp"

#include "sim/engine/violation.hpp"

#include <algorithm>

namespace kern {

namespace {

std::string access_text(const RaceAccess& a, std::string (*context_name)(uint32_t)) {
  std::string who = context_name ? context_name(a.context_id) : std::string();
  if (who.empty()) who = "ctx#" + std::to_string(a.context_id);
  std::string locks = a.locks_held == 0   ? "no lock held"
                      : a.locks_held == 1 ? "1 lock held"
                                          : std::to_string(a.locks_held) + " locks held";
  return std::string(access_kind_name(a.kind)) + " by " + who +
         " at fs/direct-io.c:" + std::to_string(a.src_line) + " (" + locks + ")";
}

} // namespace

std::string RaceReport::describe(std::string (*context_name)(uint32_t)) const {
  std::string object = field.object_kind[0] ? std::string(field.object_kind) + "#" +
                                                  std::to_string(field.object_ordinal) + "."
                                            : std::string();
  return object + field.field + ": " + access_text(later, context_name) + " races with " +
         access_text(earlier, context_name) + "; neither happens before the other";
}

RaceDetector::VectorClock& RaceDetector::clock_of(uint32_t ctx) {
  DIOSIM_INTERNAL_ASSERT(ctx >= 1 && ctx <= kMaxContexts, "RaceDetector: context id " +
                                                              std::to_string(ctx) + " outside 1.." +
                                                              std::to_string(kMaxContexts));
  const uint32_t i = ctx - 1;
  if (i >= clocks_.size()) clocks_.resize(i + 1);
  VectorClock& c = clocks_[i];
  // A context's own component starts at 1, so its first accesses are not mistaken for
  // "ordered before everyone" (component 0 means "nothing seen from that context").
  if (c.size() <= i) c.resize(i + 1, 0);
  if (c[i] == 0) c[i] = 1;
  return c;
}

uint64_t RaceDetector::channel_key(diosim::engine::ObjectRef channel) {
  DIOSIM_INTERNAL_ASSERT(channel.id < (uint64_t{1} << 56), "RaceDetector: channel id too large");
  return (static_cast<uint64_t>(channel.kind) << 56) | channel.id;
}

void RaceDetector::join(VectorClock& into, const VectorClock& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i)
    into[i] = std::max(into[i], from[i]);
}

void RaceDetector::on_acquire(uint32_t ctx, uint32_t lock_id) {
  VectorClock& c = clock_of(ctx);
  if (lock_id < lock_clocks_.size()) join(c, lock_clocks_[lock_id]);
}

void RaceDetector::on_release(uint32_t ctx, uint32_t lock_id) {
  VectorClock& c = clock_of(ctx);
  if (lock_id >= lock_clocks_.size()) lock_clocks_.resize(lock_id + 1);
  // Releases of one lock are totally ordered (each releaser acquired after the previous
  // release), so the lock's clock is the releaser's: FastTrack's L := C_t.
  lock_clocks_[lock_id] = c;
  ++c[ctx - 1];
}

void RaceDetector::on_send(uint32_t ctx, diosim::engine::ObjectRef channel) {
  VectorClock& c = clock_of(ctx);
  // Several senders may feed one channel (wake-ups of one task): join, do not overwrite.
  join(channel_clocks_[channel_key(channel)], c);
  ++c[ctx - 1];
}

void RaceDetector::on_receive(uint32_t ctx, diosim::engine::ObjectRef channel) {
  VectorClock& c = clock_of(ctx);
  auto it = channel_clocks_.find(channel_key(channel));
  if (it != channel_clocks_.end()) join(c, it->second);
}

void RaceDetector::on_spawn(uint32_t parent_ctx, uint32_t child_ctx) {
  clock_of(std::max(parent_ctx, child_ctx)); // grows clocks_ first: the references stay valid
  VectorClock& parent = clock_of(parent_ctx);
  VectorClock& child = clock_of(child_ctx);
  join(child, parent);
  ++parent[parent_ctx - 1];
}

// The first context (in id order) whose recorded access conflicts with `kind` by `ctx` and is
// not ordered before it; *other receives its id.
const RaceDetector::Epoch* RaceDetector::conflict(const FieldShadow& s, uint32_t ctx,
                                                  AccessKind kind, uint32_t* other) {
  const VectorClock& now = clocks_[ctx - 1];
  const bool writes = kind != AccessKind::read;
  // Only contexts that touched the field, in id order: deterministic.
  for (const ContextEpochs& c : s.by_context) {
    if (c.ctx == ctx) continue;
    const uint32_t seen = c.ctx - 1 < now.size() ? now[c.ctx - 1] : 0;
    auto unordered = [&](const Epoch& e) { return e.clock != 0 && e.clock > seen; };
    const Epoch* hit = nullptr;
    if (writes && unordered(c.read)) hit = &c.read;
    if (!hit && unordered(c.rmw)) hit = &c.rmw;
    if (!hit && unordered(c.write)) {
      const bool both_plain_writes = kind == AccessKind::write && c.write.kind == AccessKind::write;
      if (!(both_plain_writes && options_.plain_writes_atomic)) hit = &c.write;
    }
    if (hit) {
      *other = c.ctx;
      return hit;
    }
  }
  return nullptr;
}

std::optional<RaceReport> RaceDetector::on_access(uint32_t ctx, const void* address,
                                                  const FieldDesc& field, AccessKind kind,
                                                  int src_line, int locks_held) {
  const VectorClock& now = clock_of(ctx);
  const auto key = reinterpret_cast<uintptr_t>(address);
  if (!last_shadow_ || last_address_ != key) {
    // A struct dio has a dozen shared fields: size the table once rather than rehash as they
    // appear (nothing iterates it for output, invariant 4).
    if (shadow_.empty()) shadow_.reserve(32);
    last_shadow_ = &shadow_[key];
    last_address_ = key;
  }
  FieldShadow& s = *last_shadow_;
  std::optional<RaceReport> report;
  uint32_t other = 0;
  if (const Epoch* e = conflict(s, ctx, kind, &other))
    report = RaceReport{
        field, {other, e->kind, e->src_line, e->locks_held}, {ctx, kind, src_line, locks_held}};
  const Epoch mine{now[ctx - 1], src_line, static_cast<int16_t>(locks_held), kind};
  if (s.by_context.empty()) s.by_context.reserve(4); // task, irq, worker: one allocation
  auto it = std::lower_bound(s.by_context.begin(), s.by_context.end(), ctx,
                             [](const ContextEpochs& c, uint32_t id) { return c.ctx < id; });
  if (it == s.by_context.end() || it->ctx != ctx)
    it = s.by_context.insert(it, ContextEpochs{ctx, {}, {}, {}});
  switch (kind) {
  case AccessKind::read:
    it->read = mine;
    break;
  case AccessKind::read_modify_write:
    it->rmw = mine;
    it->write = mine;
    break;
  case AccessKind::write:
    it->write = mine;
    break;
  }
  return report;
}

void RaceDetector::on_free(const void* begin, const void* end) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto e = reinterpret_cast<uintptr_t>(end);
  // Erasing while iterating produces no output, so hash order cannot leak (invariant 4).
  last_shadow_ = nullptr;
  std::erase_if(shadow_, [&](const auto& entry) { return entry.first >= b && entry.first < e; });
}

} // namespace kern
