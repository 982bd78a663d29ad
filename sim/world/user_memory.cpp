// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/user_memory.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::world {

UserMemory::UserMemory(const ScenarioSpec& spec) : page_size_(spec.geometry.page_size) {
  for (const Buffer& b : spec.buffers) {
    const uint64_t first = b.address / page_size_ * page_size_;
    const uint64_t end = b.address + b.size;
    for (uint64_t a = first, idx = 0; a < end; a += page_size_, ++idx) {
      const bool unmapped = std::find(b.unmapped_pages.begin(), b.unmapped_pages.end(), idx) !=
                            b.unmapped_pages.end();
      if (unmapped) {
        pages_.emplace(a, nullptr);
        continue;
      }
      kern::page*& p = pages_[a];
      if (!p) { // a page two buffers share keeps both: each fills only its own bytes
        p = kern::alloc_sim_page(0, 1);
        p->user_addr = a;
      }
      const uint64_t from = std::max(a, b.address), to = std::min(a + page_size_, end);
      std::memset(kern::page_address(p) + (from - a), b.fill, to - from);
    }
  }
}

kern::page* UserMemory::lookup(uint64_t addr, bool) {
  auto it = pages_.find(addr / page_size_ * page_size_);
  return it == pages_.end() ? nullptr : it->second;
}

size_t UserMemory::copy_to_user(uint64_t addr, const uint8_t* src, size_t len) {
  size_t done = 0;
  while (done < len) {
    kern::page* p = lookup(addr + done, true);
    if (!p) break;
    const uint64_t off = (addr + done) % page_size_;
    const size_t n = std::min<size_t>(len - done, page_size_ - off);
    std::memcpy(kern::page_address(p) + off, src + done, n);
    done += n;
  }
  return done;
}

size_t UserMemory::copy_from_user(uint8_t* dst, uint64_t addr, size_t len) {
  size_t done = 0;
  while (done < len) {
    kern::page* p = lookup(addr + done, false);
    if (!p) break;
    const uint64_t off = (addr + done) % page_size_;
    const size_t n = std::min<size_t>(len - done, page_size_ - off);
    std::memcpy(dst + done, kern::page_address(p) + off, n);
    done += n;
  }
  return done;
}

std::vector<uint8_t> UserMemory::snapshot(uint64_t addr, size_t len) const {
  std::vector<uint8_t> out(len, kUnmappedByte);
  snapshot_into(out.data(), addr, len);
  return out;
}

void UserMemory::snapshot_into(uint8_t* dst, uint64_t addr, size_t len) const {
  for (size_t done = 0; done < len;) {
    const uint64_t a = addr + done;
    const uint64_t off = a % page_size_;
    const size_t n = std::min<size_t>(len - done, page_size_ - off);
    auto it = pages_.find(a - off);
    if (it != pages_.end() && it->second)
      std::memcpy(dst + done, kern::page_address(it->second) + off, n);
    done += n;
  }
}

void UserMemory::note_read(uint64_t addr, size_t len) const {
  if (!len) return;
  for (auto it = pages_.lower_bound(addr / page_size_ * page_size_);
       it != pages_.end() && it->first < addr + len; ++it)
    if (it->second) kern::note_access(kern::obj(engine::ObjectKind::page, it->second->id), false);
}

} // namespace diosim::world
