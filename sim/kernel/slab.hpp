// SPDX-License-Identifier: GPL-2.0-only
// A slab for struct dio that detects double free and use after free.
//
// Objects are never reused within a run (quarantine), so a stale pointer still points at the
// freed object and every kernel primitive that is handed a pointer into it can tell.
// Invariants:
//   1. kmem_cache_free of a freed or foreign object is a finding ("double-free").
//   2. A primitive handed a pointer inside a freed object reports "use-after-free".
//   3. New objects are filled with 0x5a (like SLUB's uninitialised poison), deterministically.
#pragma once

#include "sim/kernel/runtime.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace kern {

struct kmem_cache {
  struct Object {
    std::unique_ptr<std::byte[]> memory;
    uint32_t ordinal = 0; // 1-based, creation order: dio#1, dio#2 ...
    bool live = true;
    FieldView last_view;
  };
  std::string name;
  size_t size = 0;
  size_t align = 0;
  std::vector<Object> objects;
  // Indices into objects of the live ones, ascending: the per-step observer visits these, not
  // every object freed so far (a thousand quarantined dios would make each step O(runs)).
  std::vector<uint32_t> live_objects;
  uint64_t allocs = 0, frees = 0;
  // Optional: the owning module describes an object's fields for traces and checks it
  // (assert_dio_state). `check` returns false with `why` set when the object is inconsistent.
  void (*inspect)(const void* obj, FieldView& out) = nullptr;
  bool (*check)(const void* obj, std::string& why) = nullptr;
};

constexpr unsigned SLAB_PANIC = 1;

kmem_cache* kmem_cache_create(const char* name, size_t size, size_t align, unsigned flags);
void* kmem_cache_alloc(kmem_cache* cache, gfp_t gfp);
void kmem_cache_free(kmem_cache* cache, void* obj);

// The aligned address of a slab object.
void* object_address(const kmem_cache* cache, const kmem_cache::Object& o);
// The slab object containing `addr`, or nullptr. Sets *cache_out when found.
const kmem_cache::Object* slab_find(const void* addr, kmem_cache** cache_out = nullptr);
// Reports use-after-free when `addr` lies inside a freed slab object; `what` names the access.
void slab_check_access(const void* addr, const char* what);
// "dio#3" for an address inside a slab object, "" otherwise.
std::string slab_object_name(const void* addr);

// Where an address lies in the slabs; object == nullptr outside any slab object.
struct SlabLocation {
  const kmem_cache* cache = nullptr;
  const kmem_cache::Object* object = nullptr;
  uint32_t cache_index = 0; // position in Kernel::caches (creation order)
  size_t offset = 0;        // byte offset of the address inside the object
};
// slab_find for hot paths (every shared_field access): remembers the last object found, so
// repeated accesses to one struct dio cost a bounds check, not a scan of every object.
SlabLocation slab_locate(const void* addr);
// A slab object's id for the whole run: (cache index << 24) | ordinal. For the first cache
// (struct dio, the only one today) it is the ordinal, the id ObjectKind::dio uses.
uint64_t slab_object_id(const SlabLocation& where);

} // namespace kern

#define KMEM_CACHE(type, flags) ::kern::kmem_cache_create(#type, sizeof(type), alignof(type), flags)
