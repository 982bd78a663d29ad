// SPDX-License-Identifier: GPL-2.0-only
#include "sim/world/user_memory.hpp"

#include "sim/scenario/scenario_files.hpp"

#include <algorithm>
#include <cstring>

namespace diosim::world {

UserMemoryImage::UserMemoryImage(const ScenarioSpec& spec)
    : page_size_(spec.geometry.page_size), fill_pages_(256) {
  std::map<uint64_t, Run> runs;
  for (const Buffer& b : spec.buffers)
    if (!b.mmap) add_buffer(runs, b); // a file mapping's pages are the file's (invariant 5)
  runs_.reserve(runs.size());
  for (auto& [address, r] : runs) {
    if (r.mapped && !r.bytes && !fill_pages_[r.fill]) {
      fill_pages_[r.fill].reset(new uint8_t[page_size_]);
      std::memset(fill_pages_[r.fill].get(), r.fill, page_size_);
    }
    runs_.push_back(std::move(r));
  }
}

// The run of `runs` holding page `a`, or runs.end().
static std::map<uint64_t, UserMemoryImage::Run>::iterator
holding(std::map<uint64_t, UserMemoryImage::Run>& runs, uint64_t a, uint64_t page_size) {
  auto it = runs.upper_bound(a);
  if (it == runs.begin()) return runs.end();
  --it;
  return a < it->second.end(page_size) ? it : runs.end();
}

// Splits the run holding page `a` (one must) so that `a` is a run of its own.
UserMemoryImage::Run& UserMemoryImage::single(std::map<uint64_t, Run>& runs, uint64_t a) {
  auto it = holding(runs, a, page_size_);
  if (it->second.pages == 1) return it->second;
  const Run r = it->second; // several pages: one value throughout, no bytes
  runs.erase(it);
  const uint64_t k = (a - r.address) / page_size_;
  if (k > 0) runs.emplace(r.address, Run{r.address, k, r.first_ordinal, r.mapped, r.fill, {}});
  if (k + 1 < r.pages)
    runs.emplace(
        a + page_size_,
        Run{a + page_size_, r.pages - k - 1, r.first_ordinal + k + 1, r.mapped, r.fill, {}});
  return runs.emplace(a, Run{a, 1, r.first_ordinal + k, r.mapped, r.fill, {}}).first->second;
}

// Sets [offset, offset+len) of the one page of `r` to `fill`; a page of one value stays a value.
void UserMemoryImage::fill_page(Run& r, uint64_t offset, uint64_t len, uint8_t fill) const {
  if (len == page_size_) {
    r.bytes.reset();
    r.fill = fill;
    return;
  }
  if (len == 0 || (!r.bytes && r.fill == fill)) return;
  if (!r.bytes) {
    r.bytes.reset(new uint8_t[page_size_]);
    std::memset(r.bytes.get(), r.fill, page_size_);
  }
  std::memset(r.bytes.get() + offset, fill, len);
}

// What building the buffer's pages one by one would do (a page already made by an earlier
// buffer keeps its number and gets this buffer's bytes too; an unmapped page never replaces a
// mapped one), with the pages between the edges and the unmapped ones added as whole runs.
void UserMemoryImage::add_buffer(std::map<uint64_t, Run>& runs, const Buffer& b) {
  const uint64_t ps = page_size_;
  const uint64_t first = b.address / ps * ps, end = b.address + b.size;
  const uint64_t n = end > first ? (end - first + ps - 1) / ps : 0;
  std::vector<uint64_t> unmapped(b.unmapped_pages.begin(), b.unmapped_pages.end());
  std::sort(unmapped.begin(), unmapped.end());
  size_t u = 0;
  for (uint64_t idx = 0; idx < n;) {
    const uint64_t a = first + idx * ps;
    while (u < unmapped.size() && unmapped[u] < idx)
      ++u;
    const bool is_unmapped = u < unmapped.size() && unmapped[u] == idx;
    const bool made = holding(runs, a, ps) != runs.end();
    if (idx == 0 || idx + 1 == n || is_unmapped || made) {
      Run* r = made ? &single(runs, a) : nullptr;
      ++idx;
      if (is_unmapped) {
        if (!r) runs.emplace(a, Run{a, 1, 0, false, 0, {}});
        continue;
      }
      if (!r || !r->mapped) {
        const Run fresh{a, 1, mapped_pages_++, true, 0, {}};
        r = r ? &(*r = fresh) : &runs.emplace(a, fresh).first->second;
      }
      const uint64_t from = std::max(a, b.address), to = std::min(a + ps, end);
      fill_page(*r, from - a, to - from, b.fill);
      continue;
    }
    // Whole pages of this buffer only, up to the last page, an unmapped one or a made one.
    uint64_t stop = n - 1;
    if (u < unmapped.size()) stop = std::min(stop, unmapped[u]);
    if (auto next = runs.lower_bound(a); next != runs.end())
      stop = std::min(stop, (next->first - first) / ps);
    runs.emplace(a, Run{a, stop - idx, mapped_pages_, true, b.fill, {}});
    mapped_pages_ += stop - idx;
    idx = stop;
  }
}

const UserMemoryImage::Run* UserMemoryImage::find(uint64_t page_address) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), page_address,
                             [](uint64_t a, const Run& r) { return a < r.address; });
  if (it == runs_.begin()) return nullptr;
  --it;
  return page_address < it->end(page_size_) ? &*it : nullptr;
}

const uint8_t* UserMemoryImage::page_bytes(const Run& r) const {
  return r.bytes ? r.bytes.get() : fill_pages_[r.fill].get();
}

UserMemory::UserMemory(const ScenarioSpec& spec, const UserMemoryImage* image)
    : own_image_(image ? nullptr : std::make_unique<UserMemoryImage>(spec)),
      image_(image ? *image : *own_image_), page_size_(image_.page_size()),
      first_id_(kern::K().next_page_id) {
  kern::K().next_page_id += static_cast<uint32_t>(image_.mapped_pages());
  for (const Buffer& b : spec.buffers)
    if (b.mmap)
      mappings_.push_back(
          {b.address, (b.address + b.size + page_size_ - 1) / page_size_ * page_size_,
           file_index(spec, b.mmap->file), b.mmap->offset / page_size_, b.mmap->private_mapping});
}

const UserMemory::FileMappingRange* UserMemory::mapping_at(uint64_t page_address) const {
  for (const FileMappingRange& m : mappings_)
    if (page_address >= m.address && page_address < m.end) return &m;
  return nullptr;
}

kern::page* UserMemory::cow_page(uint64_t page_address) const {
  auto it = std::lower_bound(cow_.begin(), cow_.end(), page_address,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  return it != cow_.end() && it->first == page_address ? it->second : nullptr;
}

// A page of a file mapping: a private copy once made; else the fault (filemap_fault). A write
// to a private mapping then copies the page-cache page into a page of its own (do_cow_fault /
// wp_page_copy: anonymous from now on, so the file never sees the write); a write to a shared
// one dirties the page-cache page at the fault (page_mkwrite) and writes it in place.
kern::page* UserMemory::lookup_mapped(const FileMappingRange& m, uint64_t page_address,
                                      bool write) {
  if (kern::page* c = cow_page(page_address)) return c;
  if (!mapper_) return nullptr;
  kern::page* p = mapper_->fault_file_page(m.file, m.index_of(page_address, page_size_),
                                           write && !m.private_mapping);
  if (!p || !write || !m.private_mapping) return p;
  kern::page* copy = kern::alloc_sim_page(0, 1); // the mapping's reference
  std::memcpy(kern::page_address(copy), kern::page_address(p), page_size_);
  copy->user_addr = page_address;
  bytes_allocated_ += page_size_;
  auto at = std::lower_bound(cow_.begin(), cow_.end(), page_address,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  cow_.emplace(at, page_address, copy);
  DIOSIM_TRACE_CHANGE("cow_fault", "page",
                      {kern::arg("addr", static_cast<int64_t>(page_address)),
                       kern::arg("page", kern::page_name(copy))});
  return copy;
}

kern::page* UserMemory::touched(uint64_t page_address) const {
  auto it = std::lower_bound(touched_.begin(), touched_.end(), page_address,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  return it != touched_.end() && it->first == page_address ? it->second : nullptr;
}

kern::page* UserMemory::make_page(const UserMemoryImage::Run& r, uint64_t page_address) {
  auto p = std::make_unique<kern::page>();
  p->id =
      first_id_ + static_cast<uint32_t>(r.first_ordinal + (page_address - r.address) / page_size_);
  p->_refcount = 1;
  p->baseline = 1;
  p->user_addr = page_address;
  // Shared with the image until own(): nothing writes a page looked up only for reading.
  p->data = const_cast<uint8_t*>(image_.page_bytes(r));
  kern::page* made = kern::adopt_sim_page(std::move(p));
  auto at = std::lower_bound(touched_.begin(), touched_.end(), page_address,
                             [](const auto& e, uint64_t a) { return e.first < a; });
  touched_.emplace(at, page_address, made);
  return made;
}

void UserMemory::own(kern::page* p) {
  if (p->owned_data) return;
  p->owned_data.reset(new uint8_t[page_size_]);
  std::memcpy(p->owned_data.get(), p->data, page_size_);
  p->data = p->owned_data.get();
  bytes_allocated_ += page_size_;
}

kern::page* UserMemory::lookup(uint64_t addr, bool write) {
  const uint64_t a = addr / page_size_ * page_size_;
  if (const FileMappingRange* m = mappings_.empty() ? nullptr : mapping_at(a))
    return lookup_mapped(*m, a, write);
  kern::page* p = touched(a);
  if (!p) {
    const UserMemoryImage::Run* r = image_.find(a);
    if (!r || !r->mapped) return nullptr;
    p = make_page(*r, a);
  }
  if (write) own(p);
  return p;
}

void UserMemory::drop_private_copies(size_t file, uint64_t first_index) {
  std::erase_if(cow_, [&](const std::pair<uint64_t, kern::page*>& c) {
    const FileMappingRange* m = mapping_at(c.first);
    return m->file == file && m->index_of(c.first, page_size_) >= first_index;
  });
}

const uint8_t* UserMemory::bytes_at(uint64_t page_address) const {
  if (const FileMappingRange* m = mappings_.empty() ? nullptr : mapping_at(page_address)) {
    if (const kern::page* c = cow_page(page_address)) return c->data;
    return mapper_ ? mapper_->peek_file_page(m->file, m->index_of(page_address, page_size_))
                   : nullptr;
  }
  if (const kern::page* p = touched(page_address)) return p->data;
  const UserMemoryImage::Run* r = image_.find(page_address);
  return r && r->mapped ? image_.page_bytes(*r) : nullptr;
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
    const uint64_t off = (addr + done) % page_size_;
    const uint64_t a = addr + done - off;
    // A file page is faulted in (a yield point), not peeked at.
    const bool file_page = !mappings_.empty() && mapping_at(a);
    const kern::page* fp = file_page ? lookup(a, false) : nullptr;
    const uint8_t* bytes = file_page ? (fp ? fp->data : nullptr) : bytes_at(a);
    if (!bytes) break;
    const size_t n = std::min<size_t>(len - done, page_size_ - off);
    std::memcpy(dst + done, bytes + off, n);
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
    if (const uint8_t* bytes = bytes_at(a - off)) std::memcpy(dst + done, bytes + off, n);
    done += n;
  }
}

void UserMemory::append_snapshot(ByteImage& out, uint64_t addr, size_t len) const {
  for (size_t done = 0; done < len;) {
    const uint64_t a = addr + done;
    const uint64_t off = a % page_size_;
    const size_t n = std::min<size_t>(len - done, page_size_ - off);
    if (!mappings_.empty() && mapping_at(a - off)) {
      const uint8_t* bytes = bytes_at(a - off);
      if (bytes)
        out.append(bytes + off, n);
      else
        out.append_fill(n, kUnmappedByte);
      done += n;
      continue;
    }
    const UserMemoryImage::Run* r = nullptr;
    const kern::page* p = touched(a - off);
    if (!p || !p->owned_data) r = image_.find(a - off);
    if (r && r->mapped && !r->bytes && (!p || p->data == image_.page_bytes(*r)))
      out.append_fill(n, r->fill); // still the image's page of one value: no need to look
    else if (const uint8_t* bytes = p ? p->data : r && r->mapped ? image_.page_bytes(*r) : nullptr)
      out.append(bytes + off, n);
    else
      out.append_fill(n, kUnmappedByte);
    done += n;
  }
}

void UserMemory::note_read(uint64_t addr, size_t len) const {
  if (!len) return;
  for (uint64_t a = addr / page_size_ * page_size_; a < addr + len; a += page_size_) {
    uint32_t id = 0;
    if (const FileMappingRange* m = mappings_.empty() ? nullptr : mapping_at(a)) {
      // The file's pages: its page cache (the file's state), or the private copy.
      if (const kern::page* c = cow_page(a))
        kern::note_access(kern::obj(engine::ObjectKind::page, c->id), false);
      else
        kern::note_file(m->file, false);
      continue;
    }
    if (const kern::page* p = touched(a))
      id = p->id;
    else if (const UserMemoryImage::Run* r = image_.find(a); r && r->mapped)
      id = first_id_ + static_cast<uint32_t>(r->first_ordinal + (a - r->address) / page_size_);
    if (id) kern::note_access(kern::obj(engine::ObjectKind::page, id), false);
  }
}

} // namespace diosim::world
