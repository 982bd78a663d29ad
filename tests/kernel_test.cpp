// SPDX-License-Identifier: GPL-2.0-only
// Unit tests of the kernel shim primitives the port relies on.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <map>
#include <vector>

using namespace diosim;
using diosim::test::Harness;

namespace {

struct TestMemory final : kern::mm_struct {
  std::map<uint64_t, kern::page*> pages;
  kern::page* lookup(uint64_t addr, bool) override {
    auto it = pages.find(addr);
    return it == pages.end() ? nullptr : it->second;
  }
  void map(uint64_t addr, int n) {
    for (int i = 0; i < n; ++i)
      pages[addr + 4096u * i] = kern::alloc_sim_page('u', 1);
  }
};

struct TestDriver final : kern::blk_driver {
  std::vector<kern::bio*> queued;
  void queue_bio(kern::bio* b) override { queued.push_back(b); }
};

struct BlockSetup {
  TestDriver driver;
  kern::gendisk disk;
  kern::block_device bdev;
  BlockSetup() {
    disk.driver = &driver;
    bdev.bd_disk = &disk;
  }
};

} // namespace

TEST_CASE("iov_iter_alignment ORs every segment's address and length") {
  Harness h;
  kern::iovec iov[3] = {{0x10000, 4096}, {0x20200, 512}, {0x30000, 0}};
  kern::iov_iter it;
  kern::iov_iter_init(&it, kern::READ, iov, 3, 4608);
  CHECK(kern::iov_iter_alignment(&it) == (0x10000ul | 4096 | 0x20200 | 512));
  CHECK(kern::iov_iter_npages(&it, 100) == 2);
  kern::iovec odd[1] = {{0x10100, 8192}};
  kern::iov_iter_init(&it, kern::READ, odd, 1, 8192);
  CHECK(kern::iov_iter_npages(&it, 100) == 3); // straddles three pages
  CHECK(kern::iov_iter_npages(&it, 2) == 2);   // capped
}

TEST_CASE("iov_iter_get_pages2: current segment only, maxpages, partial on fault, -EFAULT first") {
  Harness h;
  TestMemory mem;
  mem.map(0x100000, 2); // pages 0x100000, 0x101000
  mem.map(0x200000, 1);
  // 0x102000 unmapped: a fault after two pages.
  long got = 0, got2 = 0, got3 = 0;
  size_t start = 0, start2 = 0;
  kern::page* pages[8]{};
  h.task("t", [&] {
    kern::get_current()->mm = &mem;
    kern::iovec iov[2] = {{0x100200, 3 * 4096}, {0x200000, 4096}};
    kern::iov_iter it;
    kern::iov_iter_init(&it, kern::READ, iov, 2, 4 * 4096);
    got = kern::iov_iter_get_pages2(&it, pages, LONG_MAX, 64, &start);
    // Partial: two pages pinned, the third faults.
    CHECK(it.count == 4 * 4096 - static_cast<size_t>(got));
    for (kern::page* p : {pages[0], pages[1]})
      kern::put_page(p);
    // Next call starts at the faulting page of the same segment: -EFAULT.
    got2 = kern::iov_iter_get_pages2(&it, pages, LONG_MAX, 64, &start2);
    // maxpages caps the pin count.
    kern::iovec one[1] = {{0x100000, 2 * 4096}};
    kern::iov_iter_init(&it, kern::WRITE, one, 1, 2 * 4096);
    got3 = kern::iov_iter_get_pages2(&it, pages, LONG_MAX, 1, &start2);
    kern::put_page(pages[0]);
  });
  CHECK(h.run() == "");
  CHECK(start == 0x200);
  CHECK(got == 2 * 4096 - 0x200);
  CHECK(got2 == -EFAULT);
  CHECK(got3 == 4096);
  for (auto& [addr, p] : mem.pages)
    CHECK(p->_refcount == 1);
}

TEST_CASE("bio_add_page merges on the same page, fails when full; bio_max_segs caps") {
  kern::Tunables tun;
  tun.bio_max_vecs = 4;
  Harness h(1, engine::SchedMode::timed, tun);
  BlockSetup blk;
  h.task("t", [&] {
    kern::page* a = kern::alloc_sim_page(0, 1);
    kern::page* b = kern::alloc_sim_page(0, 1);
    CHECK(kern::bio_max_segs(100) == 4);
    kern::bio* bio = kern::bio_alloc(&blk.bdev, 2, kern::REQ_OP_WRITE, kern::GFP_KERNEL);
    CHECK(kern::bio_add_page(bio, a, 512, 0) == 512);
    CHECK(kern::bio_add_page(bio, a, 512, 512) == 512); // contiguous, same page: merged
    CHECK(bio->bi_vcnt == 1);
    CHECK(bio->bi_iter.bi_size == 1024);
    CHECK(kern::bio_add_page(bio, a, 512, 2048) == 512); // same page, not contiguous
    CHECK(bio->bi_vcnt == 2);
    CHECK(kern::bio_add_page(bio, b, 512, 0) == 0); // full
    kern::bio_put(bio);
  });
  CHECK(h.run() == "");
  CHECK(h.kernel.bios_freed == 1);
}

TEST_CASE("bio_put of a freed bio is a finding") {
  Harness h;
  BlockSetup blk;
  h.task("t", [&] {
    kern::bio* bio = kern::bio_alloc(&blk.bdev, 1, kern::REQ_OP_READ, kern::GFP_KERNEL);
    kern::bio_put(bio);
    kern::bio_put(bio);
  });
  CHECK(h.run() == "bio-double-put");
}

TEST_CASE("plug holds bios until blk_finish_plug, the plug limit, or sleeping") {
  kern::Tunables tun;
  tun.plug_limit = 3;
  Harness h(1, engine::SchedMode::timed, tun);
  BlockSetup blk;
  std::vector<size_t> seen;
  h.task("t", [&] {
    kern::blk_plug plug;
    kern::blk_start_plug(&plug);
    for (int i = 0; i < 3; ++i)
      kern::submit_bio(kern::bio_alloc(&blk.bdev, 1, kern::REQ_OP_WRITE, kern::GFP_KERNEL));
    seen.push_back(blk.driver.queued.size()); // 0: all plugged
    kern::submit_bio(kern::bio_alloc(&blk.bdev, 1, kern::REQ_OP_WRITE, kern::GFP_KERNEL));
    seen.push_back(blk.driver.queued.size()); // 3: the full plug was flushed first
    kern::__set_current_state(kern::TASK_RUNNING);
    kern::blk_io_schedule();                  // sleeping (here: not really) flushes the plug
    seen.push_back(blk.driver.queued.size()); // 4
    kern::submit_bio(kern::bio_alloc(&blk.bdev, 1, kern::REQ_OP_WRITE, kern::GFP_KERNEL));
    seen.push_back(blk.driver.queued.size()); // 4
    kern::blk_finish_plug(&plug);
    seen.push_back(blk.driver.queued.size()); // 5
    for (kern::bio* b : blk.driver.queued)
      kern::bio_put(b);
  });
  CHECK(h.run() == "");
  CHECK(seen == std::vector<size_t>{0, 3, 4, 4, 5});
}

TEST_CASE("slab: a lock inside a freed object is use-after-free; a second free is double-free") {
  struct Obj {
    int x;
    kern::spinlock_t lock;
  };
  {
    Harness h;
    h.task("t", [&] {
      kern::kmem_cache* c = KMEM_CACHE(Obj, kern::SLAB_PANIC);
      auto* o = static_cast<Obj*>(kern::kmem_cache_alloc(c, kern::GFP_KERNEL));
      kern::spin_lock_init(&o->lock);
      kern::kmem_cache_free(c, o);
      unsigned long flags;
      kern::spin_lock_irqsave(&o->lock, flags);
    });
    CHECK(h.run() == "use-after-free");
    CHECK(h.sched.violation()->message.find("Obj#1") != std::string::npos);
  }
  {
    Harness h;
    h.task("t", [&] {
      kern::kmem_cache* c = KMEM_CACHE(Obj, kern::SLAB_PANIC);
      void* o = kern::kmem_cache_alloc(c, kern::GFP_KERNEL);
      kern::kmem_cache_free(c, o);
      kern::kmem_cache_free(c, o);
    });
    CHECK(h.run() == "double-free");
  }
}

TEST_CASE("spin locks exclude, and unlocking a lock you do not hold is a finding") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Harness h(seed);
    kern::spinlock_t lock;
    int inside = 0, max_inside = 0;
    kern::spin_lock_init(&lock);
    for (int t = 0; t < 3; ++t)
      h.task("t" + std::to_string(t), [&] {
        unsigned long flags;
        kern::spin_lock_irqsave(&lock, flags);
        max_inside = std::max(max_inside, ++inside);
        kern::yield_point(engine::StepOp::observe, {}, "inside", "test");
        --inside;
        kern::spin_unlock_irqrestore(&lock, flags);
      });
    CHECK(h.run() == "");
    CHECK(max_inside == 1);
  }
  Harness h;
  kern::spinlock_t lock;
  h.task("t", [&] {
    kern::spin_lock_init(&lock);
    kern::spin_unlock(&lock);
  });
  CHECK(h.run() == "lock-balance");
}

TEST_CASE("sleep and wake: a wake before the sleep is not lost; a wake after it resumes") {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Harness h(seed);
    kern::task_struct* sleeper = nullptr;
    bool flag = false, done = false;
    h.task("sleeper", [&] {
      sleeper = kern::get_current();
      for (;;) {
        kern::__set_current_state(kern::TASK_UNINTERRUPTIBLE);
        if (flag) break;
        kern::blk_io_schedule();
      }
      kern::__set_current_state(kern::TASK_RUNNING);
      done = true;
    });
    h.irq("waker", [&] {
      while (!sleeper)
        kern::yield_point(engine::StepOp::observe, {}, "spin", "test");
      flag = true;
      kern::wake_up_process(sleeper);
    });
    CHECK(h.run() == "");
    CHECK(done);
  }
}

TEST_CASE("might_sleep: sleeping calls in irq context are findings") {
  Harness h;
  kern::inode ino;
  h.irq("irq", [&] { kern::inode_lock(&ino); });
  CHECK(h.run() == "might-sleep-in-irq");
}

TEST_CASE("put_page below zero is a finding with the page named") {
  Harness h;
  h.task("t", [&] {
    kern::page* p = kern::alloc_sim_page(0, 0);
    kern::put_page(p);
  });
  CHECK(h.run() == "page-refcount-underflow");
  CHECK(h.sched.violation()->message.find("page#") != std::string::npos);
}

TEST_CASE("workqueue: work runs in a worker context, queued once at a time") {
  Harness h;
  static int ran = 0;
  static engine::ContextKind kind = engine::ContextKind::task;
  ran = 0;
  kern::work_struct w;
  bool second = true;
  h.task("t", [&] {
    kern::workqueue_struct* wq = kern::alloc_workqueue("test");
    kern::INIT_WORK(&w, [](kern::work_struct*) {
      ++ran;
      kind = kern::K().sched.current()->kind;
    });
    CHECK(kern::queue_work(wq, &w));
    second = kern::queue_work(wq, &w); // may or may not have run yet: either way no double queue
  });
  CHECK(h.run() == "");
  CHECK(ran == (second ? 2 : 1));
  CHECK(kind == engine::ContextKind::worker);
}
