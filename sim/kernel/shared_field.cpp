// SPDX-License-Identifier: GPL-2.0-only
// shared_access(): what every shared_field access does before it acts (see shared_field.hpp).
//
// Order matters: (1) a freed object is reported as use-after-free before anything else looks
// at it; (2) the race check sees the access before the scheduler may switch away, so the
// report names the racing line, not a later one; (3) the step lets the scheduler interleave
// other contexts between two lock-free accesses (the window a real race needs).
#include "sim/kernel/shared_field.hpp"

#include <string_view>

#include "sim/kernel/runtime.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/slab.hpp"

#include <string>

namespace kern {

namespace {

thread_local SharedAccessObserver g_observer = nullptr;

std::string context_name(uint32_t id) {
  const auto& contexts = K().sched.contexts();
  return id >= 1 && id <= contexts.size() ? contexts[id - 1].name : std::string();
}

std::string field_text(const SlabLocation& where, const char* field_name) {
  if (!where.object) return field_name;
  return where.cache->name + "#" + std::to_string(where.object->ordinal) + "." + field_name;
}

// The footprint object of a field: its slab object and its byte offset inside it (the field
// index). Fields outside slabs (none in the port) share one conservative id.
engine::ObjectRef field_ref(const SlabLocation& where) {
  if (!where.object) return {engine::ObjectKind::field, 0};
  DIOSIM_INTERNAL_ASSERT(where.offset < 256, "shared field at byte " +
                                                 std::to_string(where.offset) + " of " +
                                                 where.cache->name + ": index needs > 8 bits");
  return {engine::ObjectKind::field, (slab_object_id(where) << 8) | where.offset};
}

} // namespace

const char* access_kind_name(AccessKind kind) {
  switch (kind) {
  case AccessKind::read:
    return "read";
  case AccessKind::write:
    return "write";
  case AccessKind::read_modify_write:
    return "read-modify-write";
  }
  return "?";
}

void set_shared_access_observer(SharedAccessObserver observer) {
  g_observer = observer;
}

void shared_access(const void* field_address, const char* field_name, AccessKind kind) {
  if (g_observer) g_observer(field_address, field_name, kind);
  Kernel* k = g_kernel;
  if (!k) return; // a bare shared_field (unit tests): plain memory
  const SlabLocation where = slab_locate(field_address);
  if (where.object && !where.object->live)
    violation("use-after-free", std::string(access_kind_name(kind)) + " of " +
                                    field_text(where, field_name) + " after kmem_cache_free");
  engine::Context* ctx = k->sched.current();
  if (!ctx) return; // set-up code outside any context: nothing to order or schedule
  // Announce, then act: outside any lock another context may run before this access.
  const kmem_cache::Object* objects = where.object ? where.cache->objects.data() : nullptr;
  const size_t count = where.object ? where.cache->objects.size() : 0;
  shared_step(field_ref(where), kind != AccessKind::read, ctx->src_line);
  // Other contexts may have run and allocated (the slab's object vector moves): look again
  // only then. An address outside every object stays outside (slab memory is never reused).
  const bool moved = where.object && (where.cache->objects.data() != objects ||
                                      where.cache->objects.size() != count);
  const SlabLocation now = moved ? slab_locate(field_address) : where;
  if (now.object && !now.object->live)
    violation("use-after-free", std::string(access_kind_name(kind)) + " of " +
                                    field_text(now, field_name) + " after kmem_cache_free");
  if (k->race.enabled()) {
    const FieldDesc desc{now.object ? now.cache->name.c_str() : "",
                         now.object ? now.object->ordinal : 0, field_name};
    if (auto race = k->race.on_access(ctx->id, field_address, desc, kind, ctx->src_line,
                                      get_current()->locks_held)) {
      if (!accepted_race(*race)) violation("data-race", race->describe(&context_name));
      ++k->accepted_races;
    }
  }
}

void shared_step(engine::ObjectRef ref, bool write, int src_line) {
  Kernel& k = K();
  if (get_current()->locks_held == 0)
    yield_point(write ? engine::StepOp::write : engine::StepOp::read, ref,
                write ? "shared_write" : "shared_read", "mem",
                [&] { return ::kern::TraceArgs{arg("line", src_line)}; });
  k.sched.note_access(ref, write);
}

// fs/direct-io.c has one data race by design, which KCSAN would also report: dio_bio_reap's
// `while (dio->bio_list)` (line 539) peeks at the list without bio_lock while a completion
// links a bio in under it (line 382). Only the submitter removes bios, so a stale answer only
// delays the reap; the kernel would mark it data_race(). Everything else is a finding.
bool accepted_race(const RaceReport& r) {
  const bool bio_list = std::string_view(r.field.field) == "bio_list";
  const auto peek = [](const RaceAccess& a) {
    return a.src_line == 539 && a.kind == AccessKind::read;
  };
  return bio_list && (peek(r.earlier) || peek(r.later));
}

} // namespace kern
