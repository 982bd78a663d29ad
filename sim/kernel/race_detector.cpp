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

namespace {
// The thread's recycled tables (invariant 6): a destroyed detector leaves its memory here.
template <typename Tables> Tables& spare_tables() {
  thread_local Tables spare;
  return spare;
}
} // namespace

void RaceDetector::Tables::reset() {
  for (VectorClock& c : clocks)
    c.clear(); // keeps the capacity; an empty clock reads as all zeros
  for (VectorClock& c : lock_clocks)
    c.clear();
  for (size_t i = 0; i < live_channels; ++i)
    channels[i].clock.clear();
  live_channels = 0;
  shadow.clear();
  last_first = SIZE_MAX;
}

RaceDetector::RaceDetector(Options options) : options_(options) {
  t_ = std::move(spare_tables<Tables>());
  spare_tables<Tables>() = Tables{};
  t_.reset();
}

RaceDetector::~RaceDetector() {
  Tables& spare = spare_tables<Tables>();
  if (spare.clocks.capacity() <= t_.clocks.capacity()) spare = std::move(t_);
}

size_t RaceDetector::shadowed_fields() const {
  size_t fields = 0;
  for (size_t i = 0; i < t_.shadow.size(); ++i)
    fields += i == 0 || t_.shadow[i].address != t_.shadow[i - 1].address;
  return fields;
}

// Inline here (its only callers are in this file): the fast path is a few instructions, the
// first-use path below is out of line.
inline RaceDetector::VectorClock& RaceDetector::clock_of(uint32_t ctx) {
  const uint32_t i = ctx - 1; // ctx 0 wraps around and takes the checked path
  if (i < t_.clocks.size() && i < t_.clocks[i].size() && t_.clocks[i][i] != 0) [[likely]]
    return t_.clocks[i]; // every access after the context's first
  auto first_use = [ this, ctx, i ]() __attribute__((noinline))->VectorClock& {
    DIOSIM_INTERNAL_ASSERT(ctx >= 1 && ctx <= kMaxContexts,
                           "RaceDetector: context id " + std::to_string(ctx) + " outside 1.." +
                               std::to_string(kMaxContexts));
    if (i >= t_.clocks.size()) t_.clocks.resize(i + 1);
    VectorClock& c = t_.clocks[i];
    // A context's own component starts at 1, so its first accesses are not mistaken for
    // "ordered before everyone" (component 0 means "nothing seen from that context").
    if (c.size() <= i) c.resize(i + 1, 0);
    if (c[i] == 0) c[i] = 1;
    return c;
  };
  return first_use();
}

uint64_t RaceDetector::channel_key(diosim::engine::ObjectRef channel) {
  DIOSIM_INTERNAL_ASSERT(channel.id < (uint64_t{1} << 56), "RaceDetector: channel id too large");
  return (static_cast<uint64_t>(channel.kind) << 56) | channel.id;
}

RaceDetector::VectorClock& RaceDetector::channel_clock(uint64_t key) {
  const auto live = t_.channels.begin() + static_cast<long>(t_.live_channels);
  auto it = std::lower_bound(t_.channels.begin(), live, key,
                             [](const Channel& c, uint64_t k) { return c.key < k; });
  if (it != live && it->key == key) return it->clock;
  // Take a spare entry (a clock with capacity) when there is one, and rotate it into place.
  const long pos = it - t_.channels.begin();
  if (t_.live_channels == t_.channels.size()) t_.channels.emplace_back();
  auto spare = t_.channels.begin() + static_cast<long>(t_.live_channels);
  std::rotate(t_.channels.begin() + pos, spare, spare + 1);
  ++t_.live_channels;
  Channel& c = t_.channels[static_cast<size_t>(pos)];
  c.key = key;
  c.clock.clear();
  return c.clock;
}

void RaceDetector::join(VectorClock& into, const VectorClock& from) {
  if (into.size() < from.size()) into.resize(from.size(), 0);
  for (size_t i = 0; i < from.size(); ++i)
    into[i] = std::max(into[i], from[i]);
}

void RaceDetector::on_acquire(uint32_t ctx, uint32_t lock_id) {
  VectorClock& c = clock_of(ctx);
  if (lock_id < t_.lock_clocks.size()) join(c, t_.lock_clocks[lock_id]);
}

void RaceDetector::on_release(uint32_t ctx, uint32_t lock_id) {
  VectorClock& c = clock_of(ctx);
  if (lock_id >= t_.lock_clocks.size()) t_.lock_clocks.resize(lock_id + 1);
  // Releases of one lock are totally ordered (each releaser acquired after the previous
  // release), so the lock's clock is the releaser's: FastTrack's L := C_t.
  t_.lock_clocks[lock_id] = c;
  ++c[ctx - 1];
}

void RaceDetector::on_send(uint32_t ctx, diosim::engine::ObjectRef channel) {
  const uint64_t key = channel_key(channel);
  VectorClock& c = clock_of(ctx);
  // Several senders may feed one channel (wake-ups of one task): join, do not overwrite.
  join(channel_clock(key), c);
  ++c[ctx - 1];
}

void RaceDetector::on_receive(uint32_t ctx, diosim::engine::ObjectRef channel) {
  const uint64_t key = channel_key(channel);
  VectorClock& c = clock_of(ctx);
  const auto live = t_.channels.begin() + static_cast<long>(t_.live_channels);
  auto it = std::lower_bound(t_.channels.begin(), live, key,
                             [](const Channel& ch, uint64_t k) { return ch.key < k; });
  if (it != live && it->key == key) join(c, it->clock);
}

void RaceDetector::on_spawn(uint32_t parent_ctx, uint32_t child_ctx) {
  clock_of(std::max(parent_ctx, child_ctx)); // grows clocks first: the references stay valid
  VectorClock& parent = clock_of(parent_ctx);
  VectorClock& child = clock_of(child_ctx);
  join(child, parent);
  ++parent[parent_ctx - 1];
}

// The first context (in id order) among one field's records whose access conflicts with `kind`
// by `ctx` and is not ordered before it; *hit receives its epoch.
const RaceDetector::ShadowRecord* RaceDetector::conflict(const ShadowRecord* begin,
                                                         const ShadowRecord* end, uint32_t ctx,
                                                         AccessKind kind, const Epoch** hit) {
  const VectorClock& now = t_.clocks[ctx - 1];
  const bool writes = kind != AccessKind::read;
  for (const ShadowRecord* c = begin; c != end; ++c) {
    if (c->ctx == ctx) continue;
    const uint32_t seen = c->ctx - 1 < now.size() ? now[c->ctx - 1] : 0;
    auto unordered = [&](const Epoch& e) { return e.clock != 0 && e.clock > seen; };
    const Epoch* h = nullptr;
    if (writes && unordered(c->read)) h = &c->read;
    if (!h && unordered(c->rmw)) h = &c->rmw;
    if (!h && unordered(c->write)) {
      const bool both_plain_writes =
          kind == AccessKind::write && c->write.kind == AccessKind::write;
      if (!(both_plain_writes && options_.plain_writes_atomic)) h = &c->write;
    }
    if (h) {
      *hit = h;
      return c;
    }
  }
  return nullptr;
}

std::optional<RaceReport> RaceDetector::on_access(uint32_t ctx, const void* address,
                                                  const FieldDesc& field, AccessKind kind,
                                                  int src_line, int locks_held) {
  const VectorClock& now = clock_of(ctx);
  const auto key = reinterpret_cast<uintptr_t>(address);
  std::vector<ShadowRecord>& shadow = t_.shadow;
  // The field's records: [first, last), in context id order. The last field looked up is
  // remembered by index (an insert for it lands at or after its first record; on_free forgets).
  auto first =
      t_.last_first < shadow.size() && shadow[t_.last_first].address == key
          ? shadow.begin() + static_cast<long>(t_.last_first)
          : std::lower_bound(shadow.begin(), shadow.end(), key,
                             [](const ShadowRecord& r, uintptr_t a) { return r.address < a; });
  t_.last_first = static_cast<size_t>(first - shadow.begin());
  auto last = first;
  while (last != shadow.end() && last->address == key)
    ++last;
  std::optional<RaceReport> report;
  const Epoch* e = nullptr;
  if (const ShadowRecord* other =
          conflict(std::to_address(first), std::to_address(last), ctx, kind, &e))
    report = RaceReport{field,
                        {other->ctx, e->kind, e->src_line, e->locks_held},
                        {ctx, kind, src_line, locks_held}};
  const Epoch mine{now[ctx - 1], src_line, static_cast<int16_t>(locks_held), kind};
  auto it = std::lower_bound(first, last, ctx,
                             [](const ShadowRecord& r, uint32_t id) { return r.ctx < id; });
  if (it == last || it->ctx != ctx) it = shadow.insert(it, ShadowRecord{key, ctx, {}, {}, {}});
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
  auto by_address = [](const ShadowRecord& r, uintptr_t a) { return r.address < a; };
  auto first = std::lower_bound(t_.shadow.begin(), t_.shadow.end(), b, by_address);
  auto last = std::lower_bound(first, t_.shadow.end(), e, by_address);
  t_.shadow.erase(first, last);
  t_.last_first = SIZE_MAX;
}

} // namespace kern
