// SPDX-License-Identifier: GPL-2.0-only
// The simulated disk: a sector store behind a queue of bounded depth, with latency drawn
// through the Chooser and error injection.
//
// Invariants:
//   1. At most queue_depth bios are in the device (between D and C); the rest wait in order.
//   2. Data moves at completion (C) and only for bios that complete without error.
//   4. A byte never written reads as the scenario's stale byte.
//   3. Each completion is raised to a simulated CPU's irq context (sim/kernel/irq.hpp).
//   5. The store is sparse (DiskImage): memory and time follow the 4 KiB chunks touched, never
//      the disk's size or the offsets used; a chunk that holds one byte value throughout is
//      kept as that value.
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/scenario/scenario.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

// The bytes of a disk and which 512-byte sectors were ever written, in 4 KiB chunks kept in a
// sorted map. Copies share chunk bytes (copy on write), so a Session builds the initial image
// once and every execution starts from a cheap copy of it.
class DiskImage {
public:
  explicit DiskImage(uint8_t stale = 's') : stale_(stale) {}
  static DiskImage initial(const ScenarioSpec& spec); // the extents' contents, marked written

  void read(uint64_t pos, uint8_t* dst, size_t len) const;
  void write(uint64_t pos, const uint8_t* src, size_t len); // also marks the sectors written
  void mark_written(uint64_t pos, uint64_t len);
  bool sector_written(uint64_t sector) const;
  // The one value every byte of [pos, pos+len) holds, when the chunks say so without looking at
  // bytes (absent or uniform chunks); nullopt otherwise (the bytes may still be uniform).
  std::optional<uint8_t> uniform(uint64_t pos, uint64_t len) const;
  // Visits [pos, pos+len) in order, chunk by chunk, without copying: fn(pos, n, bytes, fill,
  // keep) with `bytes` null when all n bytes hold `fill` (a uniform or never-written chunk), else
  // pointing into chunk memory that `keep` holds alive (the image copies a shared chunk before
  // writing it, so those bytes never change).
  using Visitor = std::function<void(uint64_t pos, uint64_t n, const uint8_t* bytes, uint8_t fill,
                                     const std::shared_ptr<const void>& keep)>;
  void visit(uint64_t pos, uint64_t len, const Visitor& fn) const;
  // Bytes of chunk memory this image holds on its own or shares (uniform chunks hold none).
  uint64_t chunk_bytes() const;
  size_t chunks() const { return chunks_.size(); }

  static constexpr uint64_t kChunkBytes = 4096;

private:
  struct Chunk {
    std::shared_ptr<uint8_t[]> bytes; // null: every byte is `fill`
    uint8_t fill = 0;
    uint8_t written = 0; // bit per 512-byte sector
  };
  Chunk& chunk(uint64_t index);  // creates it (stale, unwritten) when absent
  static uint8_t* own(Chunk& c); // gives c bytes of its own, copying shared or uniform ones

  uint8_t stale_;
  std::map<uint64_t, Chunk> chunks_;
};

class SimDisk final : public kern::blk_driver {
public:
  // `initial`: the image to start from (a Session's template); null builds it from the spec.
  SimDisk(const ScenarioSpec& spec, engine::Scheduler& sched, const DiskImage* initial = nullptr);

  void queue_bio(kern::bio* b) override;

  // Byte access to the store; blocks never written read as the stale byte.
  // The page cache's own reads and writebacks (no bio): their 4 KiB chunks join the step's
  // footprint, as a bio's completion's do, so the explorer orders them against bios.
  void read(uint64_t pos, uint8_t* dst, size_t len) const {
    note_chunks(pos, len, false);
    image_.read(pos, dst, len);
  }
  void write(uint64_t pos, const uint8_t* src, size_t len) {
    note_chunks(pos, len, true);
    image_.write(pos, src, len);
  }
  static void note_chunks(uint64_t pos, size_t len, bool write) {
    if (!kern::g_kernel) return; // outside a run (an image read after it)
    for (uint64_t c = pos / 4096; len && c <= (pos + len - 1) / 4096; ++c)
      kern::note_access(kern::obj(engine::ObjectKind::disk, c), write);
  }
  uint64_t size_bytes() const { return size_bytes_; }
  // Stale-data tracking, per 512-byte sector: written by a bio, writeback, or the scenario's
  // initial file contents (mark_written).
  void mark_written(uint64_t pos, uint64_t len) { image_.mark_written(pos, len); }
  bool sector_written(uint64_t sector) const { return image_.sector_written(sector); }
  const DiskImage& image() const { return image_; }
  // Called when a read bio completes over a sector nobody wrote: (sector, bio).
  std::function<void(uint64_t, const kern::bio*)> on_unwritten_read;
  uint64_t bios_received() const { return received_; }
  uint64_t bios_completed() const { return completed_; }

private:
  struct InFlight {
    SimDisk* disk;
    kern::bio* bio;
    kern::blk_status_t status;
  };
  static void on_complete(void* arg, uint64_t event_id);
  void start(InFlight* f);
  void complete(InFlight* f);
  kern::blk_status_t injected_status(const kern::bio* b);
  void trace(char ph, const char* name, const kern::bio* b, kern::blk_status_t status);

  const ScenarioSpec& spec_;
  engine::Scheduler& sched_;
  DiskImage image_;
  uint64_t size_bytes_;
  std::deque<InFlight> records_; // stable addresses for event args
  std::deque<InFlight*> waiting_;
  unsigned in_flight_ = 0;
  uint64_t received_ = 0, completed_ = 0;
};

} // namespace diosim::world
