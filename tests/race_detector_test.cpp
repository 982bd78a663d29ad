// SPDX-License-Identifier: GPL-2.0-only
// Unit tests of the happens-before race detector and of shared_field (layout, operators, the
// announce-then-act hook, use after free through a slab object).
#include "harness.hpp"
#include "sim/kernel/race_detector.hpp"
#include "sim/kernel/shared_field.hpp"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <vector>

using namespace diosim;
using diosim::test::Harness;
using kern::AccessKind;
using kern::RaceDetector;

namespace {

const kern::FieldDesc kRefcount{"dio", 1, "refcount"};
const engine::ObjectRef kBio1{engine::ObjectKind::bio, 1};
int g_field = 0; // a stand-in field address

// One access by `ctx` at `line`; true when it was reported as a race.
bool access(RaceDetector& d, uint32_t ctx, AccessKind kind, int line, int locks = 0) {
  return d.on_access(ctx, &g_field, kRefcount, kind, line, locks).has_value();
}

} // namespace

TEST_CASE("race detector: accesses under a common lock never race") {
  RaceDetector d;
  d.on_acquire(1, 7);
  CHECK_FALSE(access(d, 1, AccessKind::read_modify_write, 425, 1));
  d.on_release(1, 7);
  d.on_acquire(2, 7);
  CHECK_FALSE(access(d, 2, AccessKind::read_modify_write, 340, 1));
  CHECK_FALSE(access(d, 2, AccessKind::read, 341, 1));
  d.on_release(2, 7);
  d.on_acquire(1, 7);
  CHECK_FALSE(access(d, 1, AccessKind::write, 470, 1));
  d.on_release(1, 7);
}

TEST_CASE("race detector: an access after the release is not covered by the lock") {
  RaceDetector d;
  d.on_acquire(1, 7);
  CHECK_FALSE(access(d, 1, AccessKind::read_modify_write, 425, 1));
  d.on_release(1, 7);
  CHECK_FALSE(access(d, 1, AccessKind::write, 1220, 0)); // after the unlock
  d.on_acquire(2, 7);
  CHECK(access(d, 2, AccessKind::read, 341, 1));
}

TEST_CASE("race detector: send/receive and spawn order accesses") {
  RaceDetector d;
  CHECK_FALSE(access(d, 1, AccessKind::write, 1171));
  d.on_send(1, kBio1);    // submit_bio
  d.on_receive(3, kBio1); // the irq context that runs the completion
  CHECK_FALSE(access(d, 3, AccessKind::read, 501));
  // The same channel of another kind is another channel.
  d.on_receive(4, engine::ObjectRef{engine::ObjectKind::waitq, 1});
  CHECK(access(d, 4, AccessKind::read, 501));

  RaceDetector s;
  CHECK_FALSE(access(s, 1, AccessKind::write, 1220));
  s.on_spawn(1, 2);
  CHECK_FALSE(access(s, 2, AccessKind::read_modify_write, 340));
}

TEST_CASE("race detector: unordered write-write reports both accesses (negative control)") {
  RaceDetector d;
  CHECK_FALSE(access(d, 2, AccessKind::read_modify_write, 340));
  auto r = d.on_access(3, &g_field, kRefcount, AccessKind::read_modify_write, 383, 0);
  REQUIRE(r.has_value()); // fails if the detector were a no-op
  CHECK(r->earlier.context_id == 2);
  CHECK(r->earlier.src_line == 340);
  CHECK(r->later.context_id == 3);
  CHECK(r->later.src_line == 383);
  const std::string text = r->describe();
  CHECK(text.find("dio#1.refcount") == 0);
  CHECK(text.find("read-modify-write by ctx#3 at fs/direct-io.c:383") != std::string::npos);
  CHECK(text.find("read-modify-write by ctx#2 at fs/direct-io.c:340") != std::string::npos);
}

TEST_CASE("race detector: unordered read-write races both ways; reads alone never do") {
  RaceDetector rw;
  CHECK_FALSE(access(rw, 1, AccessKind::read, 539));
  auto r = rw.on_access(2, &g_field, kRefcount, AccessKind::write, 382, 1);
  REQUIRE(r.has_value());
  CHECK(r->earlier.kind == AccessKind::read);
  CHECK(r->later.locks_held == 1);
  CHECK(r->describe().find("(1 lock held)") != std::string::npos);

  RaceDetector wr;
  CHECK_FALSE(access(wr, 2, AccessKind::write, 382));
  CHECK(access(wr, 1, AccessKind::read, 539));

  RaceDetector reads;
  for (uint32_t ctx = 1; ctx <= 100; ++ctx) // more contexts than one machine word has bits
    CHECK_FALSE(access(reads, ctx, AccessKind::read, 249));
}

TEST_CASE("race detector: plain writes are atomic by default (KCSAN), strict mode reports") {
  RaceDetector kcsan; // two AIO completions storing io_error (fs/direct-io.c:498)
  CHECK_FALSE(access(kcsan, 3, AccessKind::write, 498));
  CHECK_FALSE(access(kcsan, 4, AccessKind::write, 498));
  CHECK(access(kcsan, 5, AccessKind::read, 264));            // the unordered reader still races
  CHECK(access(kcsan, 6, AccessKind::read_modify_write, 1)); // and so does an RMW

  RaceDetector strict(RaceDetector::Options{.plain_writes_atomic = false});
  CHECK_FALSE(access(strict, 3, AccessKind::write, 498));
  CHECK(access(strict, 4, AccessKind::write, 498));
}

TEST_CASE("race detector: a freed object's history is forgotten") {
  RaceDetector d;
  int object[4] = {};
  const kern::FieldDesc f{"dio", 2, "io_error"};
  CHECK_FALSE(d.on_access(1, &object[1], f, AccessKind::write, 498, 0));
  CHECK(d.shadowed_fields() == 1);
  d.on_free(&object[0], &object[4]);
  CHECK(d.shadowed_fields() == 0);
  CHECK_FALSE(d.on_access(2, &object[1], f, AccessKind::read, 264, 0));
  d.on_free(&object[2], &object[4]); // a range that does not hold it keeps it
  CHECK(d.shadowed_fields() == 1);
}

TEST_CASE("race detector: a context id beyond kMaxContexts is an internal error") {
  RaceDetector d;
  CHECK_THROWS_AS(access(d, RaceDetector::kMaxContexts + 1, AccessKind::read, 1),
                  engine::InternalError);
  CHECK_THROWS_AS(access(d, 0, AccessKind::read, 1), engine::InternalError);
}

// ---------------------------------------------------------------------------------------
// shared_field

namespace {

template <typename T> constexpr bool same_as_t() {
  using F = kern::shared_field<T, "f">;
  return sizeof(F) == sizeof(T) && alignof(F) == alignof(T) && std::is_trivially_copyable_v<F> &&
         std::is_standard_layout_v<F>;
}
static_assert(same_as_t<int>() && same_as_t<bool>() && same_as_t<unsigned long>() &&
              same_as_t<long>() && same_as_t<void*>());

struct Seen {
  AccessKind kind;
  long value_at_announce; // the field's value when announced: announce, then act
};
std::vector<Seen> g_seen;
const long* g_watched = nullptr;

void record(const void* address, const char* name, AccessKind kind) {
  g_seen.push_back({kind, address == g_watched ? *g_watched : -1});
}

struct Observe {
  explicit Observe(const void* field) {
    g_watched = static_cast<const long*>(field);
    g_seen.clear();
    kern::set_shared_access_observer(&record);
  }
  ~Observe() { kern::set_shared_access_observer(nullptr); }
};

} // namespace

TEST_CASE("shared_field: operators return C's values and announce each access before it acts") {
  kern::shared_field<long, "result"> f{};
  Observe o(&f);
  CHECK((f = 5) == 5);
  CHECK(++f == 6);
  CHECK(f++ == 6);
  CHECK(--f == 6);
  CHECK(f-- == 6);
  CHECK((f += 1 << 3) == 13);
  CHECK((f -= 3) == 10);
  CHECK(f > 9); // comparison through the conversion
  CHECK(f == 10L);
  CHECK(f.peek() == 10); // not announced
  using K = AccessKind;
  const std::vector<K> kinds{K::write,
                             K::read_modify_write,
                             K::read_modify_write,
                             K::read_modify_write,
                             K::read_modify_write,
                             K::read_modify_write,
                             K::read_modify_write,
                             K::read,
                             K::read};
  REQUIRE(g_seen.size() == kinds.size());
  const std::vector<long> before{-1, 5, 6, 7, 6, 5, 13, 10, 10};
  for (size_t i = 0; i < kinds.size(); ++i) {
    CHECK(g_seen[i].kind == kinds[i]);
    if (i > 0) CHECK(g_seen[i].value_at_announce == before[i]); // write: garbage before
  }
}

TEST_CASE("shared_field: pointer fields in boolean context, ->, and assignment from NULL") {
  struct node {
    int payload = 42;
  } n;
  kern::shared_field<node*, "bio_list"> p{};
  p = nullptr;
  CHECK_FALSE(p);
  CHECK(p == nullptr);
  p = &n;
  CHECK((p && true));
  CHECK(p->payload == 42);
  node* raw = p;
  CHECK(raw == &n);
  kern::shared_field<bool, "defer_completion"> b{};
  b = true;
  CHECK((b || false));
}

// ---------------------------------------------------------------------------------------
// shared_access inside a simulated kernel

namespace {

struct Obj {
  kern::shared_field<unsigned long, "count"> count;
  kern::shared_field<int, "flag"> flag;
};

} // namespace

TEST_CASE("shared_access: a read of a freed slab object is a use-after-free naming the field") {
  Harness h;
  kern::kmem_cache* cache = kern::kmem_cache_create("obj", sizeof(Obj), alignof(Obj), 0);
  h.task("t", [&] {
    auto* o = static_cast<Obj*>(kern::kmem_cache_alloc(cache, kern::GFP_KERNEL));
    o->count = 1;
    const kern::SlabLocation where = kern::slab_locate(&o->flag);
    CHECK(kern::slab_object_id(where) == 1);
    CHECK(where.offset == offsetof(Obj, flag));
    kern::kmem_cache_free(cache, o);
    kern::at_line(262);
    [[maybe_unused]] unsigned long stale = o->count;
  });
  CHECK(h.run() == "use-after-free");
  REQUIRE(h.sched.violation());
  CHECK(h.sched.violation()->message == "read of obj#1.count after kmem_cache_free");
  CHECK(h.sched.violation()->src_line == 262);
}

TEST_CASE("shared_access: unordered increments from two irq contexts are a data race") {
  Harness h;
  h.kernel.race.set_enabled(true);
  kern::kmem_cache* cache = kern::kmem_cache_create("obj", sizeof(Obj), alignof(Obj), 0);
  h.task("t", [&] {
    auto* o = static_cast<Obj*>(kern::kmem_cache_alloc(cache, kern::GFP_KERNEL));
    o->count = 2;
    engine::Context* self = h.sched.current();
    for (int line : {340, 383}) {
      engine::Context* irq = h.irq("irq", [o, line] {
        kern::at_line(line);
        --o->count;
      });
      h.kernel.race.on_spawn(self->id, irq->id); // the edge the scheduler will report
    }
  });
  CHECK(h.run() == "data-race");
  REQUIRE(h.sched.violation());
  const std::string& why = h.sched.violation()->message;
  CHECK(why.find("obj#1.count: read-modify-write by irq at fs/direct-io.c:") == 0);
  CHECK(why.find("fs/direct-io.c:340") != std::string::npos);
  CHECK(why.find("fs/direct-io.c:383") != std::string::npos);
}

TEST_CASE("shared_access: the same increments ordered by a channel do not race") {
  Harness h;
  h.kernel.race.set_enabled(true);
  kern::kmem_cache* cache = kern::kmem_cache_create("obj", sizeof(Obj), alignof(Obj), 0);
  const engine::ObjectRef chan{engine::ObjectKind::bio, 9};
  h.task("t", [&] {
    auto* o = static_cast<Obj*>(kern::kmem_cache_alloc(cache, kern::GFP_KERNEL));
    o->count = 2;
    engine::Context* self = h.sched.current();
    // irq2 is created by irq1 with no spawn edge: only the channel orders them (and, through
    // irq1's spawn edge, after the task's store).
    engine::Context* first = h.irq("irq1", [&h, o, chan] {
      --o->count;
      h.kernel.race.on_send(h.sched.current()->id, chan);
      h.irq("irq2", [&h, o, chan] {
        h.kernel.race.on_receive(h.sched.current()->id, chan);
        --o->count;
      });
    });
    h.kernel.race.on_spawn(self->id, first->id);
  });
  CHECK(h.run() == "");
}
