// SPDX-License-Identifier: GPL-2.0-only
// Typed object references and per-step footprints: what a step read and wrote. Two steps of
// different contexts are dependent when their footprints touch a common object and at least
// one of them writes it; that is the dependency relation the explorer's DPOR uses.
//
// Invariants:
//   1. An ObjectRef names one simulated object for the whole execution (ids are assigned in
//      creation order, so they are deterministic).
//   2. A footprint that overflows its fixed capacity is marked `all`: it conflicts with every
//      other step (sound, only less reduction). Recording never allocates.
#pragma once

#include <array>
#include <cstdint>

namespace diosim::engine {

enum class ObjectKind : uint8_t {
  none,
  lock,      // a spin lock or the inode lock, by lock id
  dio,       // a struct dio as a whole (allocation, free), by slab object id
  field,     // one instrumented field of a shared struct: id = (object id << 8) | field index
  bio,       // by bio id
  page,      // by page id
  waitq,     // a task's run state (wake / sleep), by context id
  workqueue, // by workqueue id
  inode,     // the inode and its mapping (i_size, page cache, i_dio_count)
  disk,      // a disk sector range: id = first sector (conservatively, the whole disk)
  user_page, // a user page, by page id
  irq_queue, // a simulated CPU's pending completions, by CPU
  world,     // anything else the world touches (conflicts with every world step)
};

const char* object_kind_name(ObjectKind kind);

struct ObjectRef {
  ObjectKind kind = ObjectKind::none;
  uint64_t id = 0;
  bool operator==(const ObjectRef&) const = default;
};

struct Access {
  ObjectRef object;
  bool write = false;
};

class Footprint {
public:
  static constexpr int kCapacity = 14;

  void clear() {
    count_ = 0;
    all_ = false;
  }
  void add(ObjectRef object, bool write) {
    if (object.kind == ObjectKind::none) return;
    for (int i = 0; i < count_; ++i)
      if (accesses_[i].object == object) {
        accesses_[i].write = accesses_[i].write || write;
        return;
      }
    if (count_ == kCapacity) {
      all_ = true;
      return;
    }
    accesses_[count_++] = {object, write};
  }
  bool conflicts_with(const Footprint& other) const {
    if ((all_ && other.count_ + other.all_ > 0) || (other.all_ && count_ + all_ > 0)) return true;
    for (int i = 0; i < count_; ++i)
      for (int j = 0; j < other.count_; ++j)
        if (accesses_[i].object == other.accesses_[j].object &&
            (accesses_[i].write || other.accesses_[j].write))
          return true;
    return false;
  }
  int size() const { return count_; }
  bool all() const { return all_; }
  const Access& operator[](int i) const { return accesses_[i]; }

private:
  std::array<Access, kCapacity> accesses_{};
  int count_ = 0;
  bool all_ = false;
};

} // namespace diosim::engine
