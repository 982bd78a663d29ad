// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/slab.hpp"

#include "sim/kernel/sched.hpp"

#include <cstring>

namespace kern {

kmem_cache* kmem_cache_create(const char* name, size_t size, size_t align, unsigned) {
  Kernel& k = K();
  auto c = std::make_unique<kmem_cache>();
  c->name = name;
  c->size = size;
  c->align = align;
  k.caches.push_back(std::move(c));
  return k.caches.back().get();
}

void* kmem_cache_alloc(kmem_cache* cache, gfp_t gfp) {
  if (gfp == GFP_KERNEL) might_sleep("kmem_cache_alloc(GFP_KERNEL)");
  if (alloc_fails(AllocSite::dio_slab))
    return nullptr; // fault injection; struct dio's is the only cache
  // operator new[] gives max_align_t; over-allocate so the object can be aligned as declared.
  kmem_cache::Object obj;
  obj.memory.reset(new std::byte[cache->size + cache->align]); // poisoned below, not zeroed
  obj.ordinal = static_cast<uint32_t>(cache->objects.size() + 1);
  cache->objects.push_back(std::move(obj));
  cache->live_objects.push_back(static_cast<uint32_t>(cache->objects.size() - 1));
  ++cache->allocs;
  kmem_cache::Object& o = cache->objects.back();
  void* p = object_address(cache, o);
  std::memset(p, 0x5a, cache->size);
  DIOSIM_TRACE_CHANGE("kmem_cache_alloc", "dio",
                      {arg("dio", cache->name + "#" + std::to_string(o.ordinal))});
  return p;
}

void* object_address(const kmem_cache* cache, const kmem_cache::Object& o) {
  auto raw = reinterpret_cast<uintptr_t>(o.memory.get());
  const uintptr_t a = cache->align ? cache->align : 1;
  return reinterpret_cast<void*>((raw + a - 1) / a * a);
}

const kmem_cache::Object* slab_find(const void* addr, kmem_cache** cache_out) {
  Kernel& k = K();
  const auto a = reinterpret_cast<uintptr_t>(addr);
  for (const auto& c : k.caches)
    for (const auto& o : c->objects) {
      const auto base = reinterpret_cast<uintptr_t>(object_address(c.get(), o));
      if (a >= base && a < base + c->size) {
        if (cache_out) *cache_out = c.get();
        return &o;
      }
    }
  return nullptr;
}

SlabLocation slab_locate(const void* addr) {
  // The last hit, revalidated on every use: indices, not pointers (objects move when the
  // vector grows), and a bounds check makes a stale entry from an earlier Kernel harmless.
  struct LastHit {
    uint32_t cache_index = 0;
    size_t object_index = 0;
  };
  static thread_local LastHit last;
  Kernel& k = K();
  const auto a = reinterpret_cast<uintptr_t>(addr);
  auto locate = [&](uint32_t ci, size_t oi) -> SlabLocation {
    const kmem_cache* c = k.caches[ci].get();
    const kmem_cache::Object& o = c->objects[oi];
    const auto base = reinterpret_cast<uintptr_t>(object_address(c, o));
    if (a < base || a >= base + c->size) return {};
    return {c, &o, ci, a - base};
  };
  if (last.cache_index < k.caches.size() &&
      last.object_index < k.caches[last.cache_index]->objects.size()) {
    SlabLocation hit = locate(last.cache_index, last.object_index);
    if (hit.object) return hit;
  }
  kmem_cache* c = nullptr;
  const kmem_cache::Object* o = slab_find(addr, &c);
  if (!o) return {};
  for (uint32_t ci = 0; ci < k.caches.size(); ++ci)
    if (k.caches[ci].get() == c) {
      last = {ci, static_cast<size_t>(o - c->objects.data())};
      return locate(last.cache_index, last.object_index);
    }
  return {};
}

uint64_t slab_object_id(const SlabLocation& where) {
  return where.object ? (uint64_t{where.cache_index} << 24) | where.object->ordinal : 0;
}

std::string slab_object_name(const void* addr) {
  kmem_cache* c = nullptr;
  const kmem_cache::Object* o = slab_find(addr, &c);
  return o ? c->name + "#" + std::to_string(o->ordinal) : std::string();
}

void slab_check_access(const void* addr, const char* what) {
  kmem_cache* c = nullptr;
  const kmem_cache::Object* o = slab_find(addr, &c);
  if (o && !o->live)
    violation("use-after-free", std::string(what) + " touches " + c->name + "#" +
                                    std::to_string(o->ordinal) + " after kmem_cache_free");
}

void kmem_cache_free(kmem_cache* cache, void* obj) {
  kmem_cache* owner = nullptr;
  auto* o = const_cast<kmem_cache::Object*>(slab_find(obj, &owner));
  if (!o || owner != cache || object_address(cache, *o) != obj)
    violation("bad-free", "kmem_cache_free of an address that is not a " + cache->name + " object");
  // The name is built only when a message or a trace needs it (this runs every execution).
  const uint32_t ordinal = o->ordinal;
  auto name = [&] { return cache->name + "#" + std::to_string(ordinal); };
  if (!o->live) violation("double-free", "kmem_cache_free of " + name() + ", already freed");
  // Announce, then act: a context still using the object may run before it is freed.
  yield_point(engine::StepOp::free, ::kern::obj(engine::ObjectKind::dio, ordinal),
              "kmem_cache_free", "dio", [&] { return ::kern::TraceArgs{arg("dio", name())}; });
  // Other contexts ran (and may have grown cache->objects): find the object again.
  o = const_cast<kmem_cache::Object*>(slab_find(obj, &owner));
  if (!o->live) violation("double-free", "kmem_cache_free of " + name() + ", already freed");
  o->live = false;
  const auto index = static_cast<uint32_t>(o - cache->objects.data());
  std::erase(cache->live_objects, index);
  ++cache->frees;
  // The memory stays (quarantine); its race history goes: a later access is a use after free.
  K().race.on_free(obj, static_cast<const std::byte*>(obj) + cache->size);
}

} // namespace kern
