// SPDX-License-Identifier: GPL-2.0-only
// User memory: the scenario's buffers as pages at chosen addresses, some of them unmapped.
//
// Invariants:
//   1. Every mapped user page has baseline refcount 1 (the mapping's own reference).
//   2. Touching an unmapped page faults: lookup returns nullptr, copies stop before it.
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/scenario/scenario.hpp"

#include <map>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

class UserMemory final : public kern::mm_struct {
public:
  explicit UserMemory(const ScenarioSpec& spec); // call with the Kernel installed

  kern::page* lookup(uint64_t addr, bool write) override;

  // Byte copies that stop at the first fault; they return the bytes copied.
  size_t copy_to_user(uint64_t addr, const uint8_t* src, size_t len);
  size_t copy_from_user(uint8_t* dst, uint64_t addr, size_t len);
  // What the user sees at [addr, addr+len); bytes of unmapped pages read as '?'.
  std::vector<uint8_t> snapshot(uint64_t addr, size_t len) const;
  // The same into dst (len bytes); bytes of unmapped pages are left as they are.
  void snapshot_into(uint8_t* dst, uint64_t addr, size_t len) const;
  // Tells the explorer that the current step reads the pages of [addr, addr+len).
  void note_read(uint64_t addr, size_t len) const;

  static constexpr uint8_t kUnmappedByte = '?';

private:
  uint64_t page_size_;
  std::map<uint64_t, kern::page*> pages_; // page address -> page, nullptr when unmapped
};

} // namespace diosim::world
