// SPDX-License-Identifier: GPL-2.0-only
// User memory: the scenario's buffers as pages at chosen addresses, some of them unmapped.
//
// A Session builds the buffers once as a UserMemoryImage (runs of pages, a page filled with one
// byte value kept as that value); each execution's UserMemory is a copy-on-write view of it: a
// kern::page is made only when the run first pins that page or copies into it (copying out
// reads the image), it shares the image's bytes while only read, and gets bytes of its own on
// its first write lookup. Building the image costs the buffers' edges and unmapped pages, not
// their sizes.
//
// Invariants:
//   1. Every mapped user page has baseline refcount 1 (the mapping's own reference).
//   2. Touching an unmapped page faults: lookup returns nullptr, copies stop before it.
//   3. Page ids are those an eager build would give: the image numbers mapped pages in the
//      order buffers list them, and a UserMemory reserves that many ids when it is built.
//   4. Memory and time follow the pages touched, never the buffers' sizes; the image is never
//      written after it is built (executions write only pages of their own).
//   5. A buffer that maps a file has no pages of its own in the image: a lookup faults the
//      file's page in through the FileMapper (MAP_SHARED: the page-cache page itself;
//      MAP_PRIVATE: that page for a read, a private copy made on the first write and kept).
#pragma once

#include "sim/kernel/kernel.hpp"
#include "sim/scenario/byte_image.hpp"
#include "sim/scenario/scenario.hpp"

#include <map>
#include <memory>
#include <vector>

namespace diosim::world {

// The world is built from a scenario and speaks its vocabulary.
using namespace ::diosim::scenario;

// The scenario's buffers as they are before any run, built once and shared read-only.
class UserMemoryImage {
public:
  explicit UserMemoryImage(const ScenarioSpec& spec);

  // `pages` consecutive pages from `address`: unmapped, or mapped with ordinals from
  // `first_ordinal` (creation order), every byte `fill` unless `bytes` (one page only) is set.
  struct Run {
    uint64_t address = 0;
    uint64_t pages = 0;
    uint64_t first_ordinal = 0;
    bool mapped = false;
    uint8_t fill = 0;
    std::shared_ptr<uint8_t[]> bytes;
    uint64_t end(uint64_t page_size) const { return address + pages * page_size; }
  };

  // The run holding the page at `page_address`, or nullptr.
  const Run* find(uint64_t page_address) const;
  // The bytes of a page of run `r` (shared, read-only): its own, or a page of its fill value.
  const uint8_t* page_bytes(const Run& r) const;
  uint64_t page_size() const { return page_size_; }
  uint64_t mapped_pages() const { return mapped_pages_; }
  const std::vector<Run>& runs() const { return runs_; }

private:
  Run& single(std::map<uint64_t, Run>& runs, uint64_t a);
  void fill_page(Run& r, uint64_t offset, uint64_t len, uint8_t fill) const;
  void add_buffer(std::map<uint64_t, Run>& runs, const Buffer& b);

  uint64_t page_size_;
  uint64_t mapped_pages_ = 0;
  std::vector<Run> runs_;                              // sorted by address, disjoint
  std::vector<std::shared_ptr<uint8_t[]>> fill_pages_; // by fill value, for uniform runs
};

// Buffers that map a file ("mmap", FileMapping): their pages are the file's page-cache pages,
// which only the world holds; it answers their faults (mmap_buffer.cpp).
class FileMapper {
public:
  virtual ~FileMapper() = default;
  // filemap_fault for page `index` of file `file` (a yield point): its page-cache page, made
  // dirty when `write_shared` (do_shared_fault's page_mkwrite), or nullptr (SIGBUS: past EOF).
  virtual kern::page* fault_file_page(size_t file, uint64_t index, bool write_shared) = 0;
  // The bytes page `index` of `file` shows now (cached, else read from the disk) without
  // faulting it in, or nullptr past EOF. Valid until the next call.
  virtual const uint8_t* peek_file_page(size_t file, uint64_t index) const = 0;
};

class UserMemory final : public kern::mm_struct {
public:
  // Call with the Kernel installed. `image`: the buffers as a Session built them once (it must
  // outlive this object); null builds an image of its own from the spec.
  explicit UserMemory(const ScenarioSpec& spec, const UserMemoryImage* image = nullptr);

  kern::page* lookup(uint64_t addr, bool write) override;
  // Who answers the faults of the buffers that map a file; set before the run starts.
  void set_file_mapper(FileMapper* mapper) { mapper_ = mapper; }
  // truncate_pagecache's unmap_mapping_range(even_cows = 1): the private copies of file
  // `file`'s pages at or past `first_index` are discarded; those pages show the file again.
  void drop_private_copies(size_t file, uint64_t first_index);
  // MAP_PRIVATE copies of file pages (do_cow_fault / wp_page_copy) held now.
  size_t cow_pages() const { return cow_.size(); }

  // Byte copies that stop at the first fault; they return the bytes copied.
  size_t copy_to_user(uint64_t addr, const uint8_t* src, size_t len);
  size_t copy_from_user(uint8_t* dst, uint64_t addr, size_t len);
  // What the user sees at [addr, addr+len); bytes of unmapped pages read as '?'.
  std::vector<uint8_t> snapshot(uint64_t addr, size_t len) const;
  // The same into dst (len bytes); bytes of unmapped pages are left as they are.
  void snapshot_into(uint8_t* dst, uint64_t addr, size_t len) const;
  // snapshot(addr, len) appended to `out`, page by page: a page piece of one value (a filled
  // buffer, a page shared with the image) is kept as a run, so it costs no bytes.
  void append_snapshot(ByteImage& out, uint64_t addr, size_t len) const;
  // Tells the explorer that the current step reads the pages of [addr, addr+len).
  void note_read(uint64_t addr, size_t len) const;

  // Pages this run made (touched), and the bytes of page data it allocated for them.
  size_t pages_made() const { return touched_.size(); }
  uint64_t page_bytes_allocated() const { return bytes_allocated_; }

  static constexpr uint8_t kUnmappedByte = '?';

private:
  kern::page* touched(uint64_t page_address) const;
  // The bytes of the page at `page_address` as they are now, or nullptr when it is unmapped.
  const uint8_t* bytes_at(uint64_t page_address) const;
  kern::page* make_page(const UserMemoryImage::Run& r, uint64_t page_address);
  void own(kern::page* p);

  // A buffer that maps a file: its whole pages [address, end).
  struct FileMappingRange {
    uint64_t address = 0, end = 0;
    size_t file = 0;
    uint64_t first_index = 0; // file page of `address`
    bool private_mapping = false;
    uint64_t index_of(uint64_t page_address, uint64_t page_size) const {
      return first_index + (page_address - address) / page_size;
    }
  };
  const FileMappingRange* mapping_at(uint64_t page_address) const;
  kern::page* cow_page(uint64_t page_address) const;
  kern::page* lookup_mapped(const FileMappingRange& m, uint64_t page_address, bool write);

  std::vector<FileMappingRange> mappings_; // few: searched linearly
  FileMapper* mapper_ = nullptr;
  std::vector<std::pair<uint64_t, kern::page*>> cow_; // by address (sorted)
  std::unique_ptr<UserMemoryImage> own_image_;        // set by the ScenarioSpec constructor only
  const UserMemoryImage& image_;
  uint64_t page_size_;
  uint32_t first_id_; // page id of ordinal 0
  // Pages made so far, by address (sorted): usually few, and made in address order.
  std::vector<std::pair<uint64_t, kern::page*>> touched_;
  uint64_t bytes_allocated_ = 0;
};

} // namespace diosim::world
