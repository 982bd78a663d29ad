// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/page.hpp"

#include "sim/kernel/mm.hpp"
#include "sim/kernel/sched.hpp"

#include <algorithm>
#include <cstring>

namespace kern {

page* alloc_sim_page(uint8_t fill, int baseline) {
  Kernel& k = K();
  auto p = std::make_unique<page>();
  p->id = k.next_page_id++;
  p->_refcount = baseline;
  p->baseline = baseline;
  // new[] without (): the memset is the only initialisation the bytes need.
  p->owned_data.reset(new uint8_t[k.tun.page_size]);
  p->data = p->owned_data.get();
  std::memset(p->data, fill, k.tun.page_size);
  k.pages.push_back(std::move(p));
  return k.pages.back().get();
}

page* alloc_zero_page() {
  // Nothing writes ZERO_PAGE (zero_user refuses, the disk skips it on reads), so every run can
  // share one buffer of the largest page size instead of zeroing a page of its own.
  static const uint8_t zeros[65536] = {};
  Kernel& k = K();
  if (k.tun.page_size > sizeof zeros) {
    page* own = alloc_sim_page(0, 1);
    own->is_zero_page = true;
    return own;
  }
  auto p = std::make_unique<page>();
  p->id = k.next_page_id++;
  p->_refcount = p->baseline = 1;
  p->is_zero_page = true;
  p->data = const_cast<uint8_t*>(zeros);
  k.pages.push_back(std::move(p));
  return k.pages.back().get();
}

page* adopt_sim_page(std::unique_ptr<page> p) {
  std::vector<std::unique_ptr<page>>& pages = K().pages;
  auto at =
      std::upper_bound(pages.begin(), pages.end(), p->id,
                       [](uint32_t id, const std::unique_ptr<page>& q) { return id < q->id; });
  return pages.insert(at, std::move(p))->get();
}

static void trace_ref(const char* what, const page* p, int before) {
  Kernel& k = K();
  if (!k.tracer) return;
  DIOSIM_TRACE_CHANGE(
      what, "page",
      {arg("page", page_name(p)), arg("ref.before", before), arg("ref.after", p->_refcount)});
  k.counter(page_name(p), "ref", p->_refcount);
}

void get_page(page* p) {
  note_access(obj(engine::ObjectKind::page, p->id), true);
  const int before = p->_refcount++;
  trace_ref("get_page", p, before);
}

void put_page(page* p) {
  note_access(obj(engine::ObjectKind::page, p->id), true);
  if (p->_refcount <= 0)
    violation("page-refcount-underflow",
              "put_page(" + page_name(p) + ") with refcount " + std::to_string(p->_refcount));
  const int before = p->_refcount--;
  trace_ref("put_page", p, before);
}

void set_page_dirty_lock(page* p) {
  note_access(obj(engine::ObjectKind::page, p->id), true);
  if (p->dirty) return;
  p->dirty = true;
  DIOSIM_TRACE_CHANGE("set_page_dirty", "page", {arg("page", page_name(p))});
}

void zero_user(page* p, unsigned start, unsigned size) {
  if (p->is_zero_page) violation("zero-page-written", "zero_user on ZERO_PAGE");
  if (start + size > K().tun.page_size)
    violation("zero_user-out-of-page", "zero_user(" + page_name(p) + ", " + std::to_string(start) +
                                           ", " + std::to_string(size) + ") crosses the page end");
  std::memset(p->data + start, 0, size);
  DIOSIM_TRACE_CHANGE("zero_user", "page",
                      {arg("page", page_name(p)), arg("offset", start), arg("len", size)});
}

long get_user_pages_fast(uint64_t start, int nr_pages, bool write, page** pages) {
  task_struct* t = get_current();
  might_sleep("get_user_pages_fast");
  yield_point(engine::StepOp::hook, obj(engine::ObjectKind::user_page, start / PAGE_SIZE),
              "get_user_pages_fast", "page", [&] {
                return ::kern::TraceArgs{arg("addr", static_cast<int64_t>(start)),
                                         arg("nr_pages", nr_pages)};
              });
  int got = 0;
  for (; got < nr_pages; ++got) {
    page* p =
        t->mm ? t->mm->lookup(start + static_cast<uint64_t>(got) * PAGE_SIZE, write) : nullptr;
    // A fault point of the explorer: this mapped page faults anyway (e.g. reclaimed).
    if (p && K().tun.explore_user_page_faults &&
        K().sched.choose_fault(engine::FaultSite::user_page, 2) == 1)
      p = nullptr;
    if (!p) {
      DIOSIM_TRACE_CHANGE(
          "page_fault", "page",
          {arg("addr", static_cast<int64_t>(start + static_cast<uint64_t>(got) * PAGE_SIZE))});
      break;
    }
    get_page(p);
    pages[got] = p;
  }
  return got ? got : -EFAULT;
}

} // namespace kern
