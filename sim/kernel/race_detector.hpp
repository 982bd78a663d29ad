// SPDX-License-Identifier: GPL-2.0-only
// A happens-before data-race detector over instrumented shared fields (DJIT+/FastTrack with
// KCSAN's reporting rules), one per run, owned by the Kernel.
//
// Owns: a vector clock per context, per lock and per channel (an ordering edge: a wake-up, a
// bio from submission to completion, a work item, a spawn), and per field address the last
// read, write and read-modify-write of each context.
// Invariants:
//   1. Context ids are the engine's (1-based, creation order) and at most kMaxContexts. Clocks
//      and shadows grow with the contexts that actually appear, so a run with a thousand tasks
//      costs per access what it touches, not a fixed width.
//   2. Two accesses race when they come from different contexts, touch the same field address,
//      at least one writes, and neither happens before the other. Release->acquire of one lock
//      and send->receive of one channel are the only cross-context edges, so accesses under a
//      common lock never race.
//   3. KCSAN's default CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=y: two plain writes (kind
//      write, aligned, word-sized, which every shared_field is) do not race with each other;
//      a plain write still races with a read or a read-modify-write. Reason: fs/direct-io.c
//      relies on it (two AIO completions store dio->io_error unlocked in dio_bio_complete,
//      and the reader, dio_complete, is ordered after both by bio_lock); KCSAN would not
//      report it either. Options::plain_writes_atomic = false gives the strict rule.
//   4. Shadow state is looked up by address and never iterated for output: reports are built
//      from the current access and the first conflicting context in id order (deterministic).
//   5. on_free forgets the shadow of a freed range; a later access there is a use after free,
//      caught before the detector runs (shared_access).
//   6. No allocation per access once a field has been touched (first touch inserts its
//      shadow); lock and channel clocks are allocated on first use. The tables' memory (shadow
//      records, clocks) is handed to the next detector of the thread when one is destroyed, so
//      a model checker's millionth execution allocates nothing here (contents are reset).
#pragma once

#include "sim/engine/footprint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/kernel/shared_field.hpp"

namespace kern {

// What a race report says about the object: "dio#3.refcount".
struct FieldDesc {
  const char* object_kind = ""; // slab cache name ("dio"), or "" outside any slab
  uint32_t object_ordinal = 0;  // 1-based within its cache
  const char* field = "";       // shared_field name
};

struct RaceAccess {
  uint32_t context_id = 0;
  AccessKind kind = AccessKind::read;
  int src_line = 0; // fs/direct-io.c line
  int locks_held = 0;
};

struct RaceReport {
  FieldDesc field;
  RaceAccess earlier; // the recorded access of the other context
  RaceAccess later;   // the access being checked
  // "dio#1.io_error: write by <irq 1> at fs/direct-io.c:498 (no lock held) races with ..."
  // context_name maps a context id to a name; nullptr prints "ctx#N".
  std::string describe(std::string (*context_name)(uint32_t id) = nullptr) const;
};

// The data races fs/direct-io.c has by design (see shared_field.cpp): counted, not findings.
bool accepted_race(const RaceReport& r);

class RaceDetector {
public:
  static constexpr uint32_t kMaxContexts = 1u << 20;
  // Component i is context i+1's; components past the end are 0.
  using VectorClock = std::vector<uint32_t>;

  struct Options {
    bool plain_writes_atomic = true; // invariant 3
  };

  RaceDetector() : RaceDetector(Options{}) {}
  explicit RaceDetector(Options options);
  ~RaceDetector();
  RaceDetector(const RaceDetector&) = delete;
  RaceDetector& operator=(const RaceDetector&) = delete;

  // Off until every primitive reports its ordering edges: without them every cross-context
  // access would look unordered. shared_access checks races only when enabled.
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

  // Lock edges: call on_acquire after the context owns the lock, on_release before another
  // context can take it.
  void on_acquire(uint32_t ctx, uint32_t lock_id);
  void on_release(uint32_t ctx, uint32_t lock_id);
  // Ordering edges through a channel: everything `ctx` did before on_send happens before
  // everything a context does after on_receive of the same channel.
  void on_send(uint32_t ctx, diosim::engine::ObjectRef channel);
  void on_receive(uint32_t ctx, diosim::engine::ObjectRef channel);
  // A new context starts after everything its creator did so far.
  void on_spawn(uint32_t parent_ctx, uint32_t child_ctx);

  // Records the access; returns a report when it races with a recorded one (invariant 2).
  std::optional<RaceReport> on_access(uint32_t ctx, const void* address, const FieldDesc& field,
                                      AccessKind kind, int src_line, int locks_held);
  // Forgets the shadow state of fields in [begin, end).
  void on_free(const void* begin, const void* end);

  size_t shadowed_fields() const;

private:
  struct Epoch {
    uint32_t clock = 0; // 0: none recorded
    int32_t src_line = 0;
    int16_t locks_held = 0;
    AccessKind kind = AccessKind::read;
  };
  // The last access of each kind by one context to one field. The shadow is one flat table of
  // these, sorted by (address, context): a field's records are contiguous and in context id
  // order (deterministic reports), a freed range is one contiguous erase, and nothing is
  // allocated per field.
  struct ShadowRecord {
    uintptr_t address = 0;
    uint32_t ctx = 0;
    Epoch read, write, rmw;
  };
  struct Channel {
    uint64_t key = 0;
    VectorClock clock;
  };
  // Everything that grows with a run; recycled across the detectors of a thread (invariant 6).
  // Clocks past the live ones keep their capacity: an empty clock is all zeros.
  struct Tables {
    std::vector<VectorClock> clocks;      // by context id - 1; own component >= 1 once started
    std::vector<VectorClock> lock_clocks; // by lock id
    std::vector<Channel> channels;        // [0, live_channels) sorted by key; the rest spare
    size_t live_channels = 0;
    std::vector<ShadowRecord> shadow;
    size_t last_first = SIZE_MAX; // index of the first record of the field looked up last
    void reset();
  };

  VectorClock& clock_of(uint32_t ctx);
  VectorClock& channel_clock(uint64_t key); // inserts an empty clock when missing
  static uint64_t channel_key(diosim::engine::ObjectRef channel);
  static void join(VectorClock& into, const VectorClock& from);
  const ShadowRecord* conflict(const ShadowRecord* begin, const ShadowRecord* end, uint32_t ctx,
                               AccessKind kind, const Epoch** hit);

  Options options_{};
  bool enabled_ = false;
  Tables t_;
};

} // namespace kern
