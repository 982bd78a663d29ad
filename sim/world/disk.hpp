// SPDX-License-Identifier: GPL-2.0-only
// The simulated disk: a sector store behind a queue of bounded depth, with latency drawn
// through the Chooser and error injection.
//
// Invariants:
//   1. At most queue_depth bios are in the device (between D and C); the rest wait in order.
//   2. Data moves at completion (C) and only for bios that complete without error.
//   4. A byte never written reads as the scenario's stale byte.
//   3. Each completion is raised to a simulated CPU's irq context (sim/kernel/irq.hpp).
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/scenario/scenario.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

class SimDisk final : public kern::blk_driver {
public:
  SimDisk(const ScenarioSpec& spec, engine::Scheduler& sched);

  void queue_bio(kern::bio* b) override;

  // Byte access to the store; blocks never written read as the stale byte.
  void read(uint64_t pos, uint8_t* dst, size_t len) const;
  void write(uint64_t pos, const uint8_t* src, size_t len);
  uint64_t size_bytes() const { return chunks_.size() * kChunkBytes; }
  // Stale-data tracking, per 512-byte sector: written by a bio, writeback, or the scenario's
  // initial file contents (mark_written).
  void mark_written(uint64_t pos, uint64_t len);
  bool sector_written(uint64_t sector) const { return written_[sector]; }
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
  // The store, allocated lazily in 4 KiB chunks: a run pays only for what it touches.
  static constexpr uint64_t kChunkBytes = 4096;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  uint8_t stale_;
  std::vector<bool> written_;    // by sector
  std::deque<InFlight> records_; // stable addresses for event args
  std::deque<InFlight*> waiting_;
  unsigned in_flight_ = 0;
  uint64_t received_ = 0, completed_ = 0;
};

} // namespace diosim::world
