// SPDX-License-Identifier: GPL-2.0-only
#include "sim/kernel/runtime.hpp"

#include "sim/kernel/bio.hpp"
#include "sim/kernel/irq.hpp"
#include "sim/kernel/page.hpp"
#include "sim/kernel/sched.hpp"
#include "sim/kernel/slab.hpp"
#include "sim/kernel/workqueue.hpp"

#include <algorithm>

namespace kern {

static std::string direct_io_line(int line) {
  return "fs/direct-io.c:" + std::to_string(line);
}

Kernel::Kernel(Tunables tunables, engine::Scheduler& scheduler) : tun(tunables), sched(scheduler) {
  page_shift = static_cast<unsigned>(__builtin_ctz(tun.page_size));
  sched.set_line_namer(&direct_io_line);
  if (sched.tracer()) sched.tracer()->set_source_name("fs/direct-io.c");
  if (sched.tracer() && sched.tracer()->enabled()) tracer = sched.tracer();
  KernelScope scope(*this);
  zero_page = alloc_zero_page();
  race.set_enabled(true); // every primitive reports its ordering edges (spinlock, sched, bio, wq)
  irq_init(*this);
}

Kernel::~Kernel() = default;

const char* alloc_site_name(AllocSite site) {
  switch (site) {
  case AllocSite::dio_slab:
    return "dio";
  case AllocSite::dio_done_wq:
    return "dio_done_wq";
  case AllocSite::fs_block:
    return "fs_block";
  }
  return "dio";
}

bool alloc_fails(AllocSite site) {
  Kernel& k = K();
  const auto s = static_cast<size_t>(site);
  const uint64_t nth = ++k.faults.calls[s];
  const std::vector<uint64_t>& planned = k.faults.fail_nth[s];
  // Which call is the nth depends on the order of the calls, whatever file they are for.
  if (!planned.empty() || k.faults.explore[s]) note_shared(SharedObject::fault_plan, true);
  bool fail = std::find(planned.begin(), planned.end(), nth) != planned.end();
  // The engine's FaultSite names only the older fault points; nothing reads Decision::site, so
  // allocation sites borrow get_block's label (the token records the option alone).
  if (!fail && k.faults.explore[s])
    fail = k.sched.choose_fault(engine::FaultSite::get_block, 2) == 1;
  if (!fail) return false;
  ++k.faults.fired;
  DIOSIM_TRACE_CHANGE("alloc_failure", "fault",
                      {arg("site", alloc_site_name(site)), arg("nth", static_cast<int64_t>(nth)),
                       arg("ret", -ENOMEM)});
  return true;
}

task_struct* Kernel::task_of(engine::Context* ctx) {
  if (!ctx->kernel) {
    tasks_.push_back(std::make_unique<task_struct>());
    tasks_.back()->ctx = ctx;
    ctx->kernel = tasks_.back().get();
  }
  return static_cast<task_struct*>(ctx->kernel);
}

void Kernel::wake_lock_waiters(uint32_t lock_id) {
  // One pass that keeps the other locks' waiters in order: waking n waiters costs O(n), not
  // O(n^2) (a thousand tasks queued on the inode lock).
  size_t kept = 0;
  for (size_t i = 0; i < lock_waiters.size(); ++i) {
    if (lock_waiters[i].first == lock_id)
      sched.wake(lock_waiters[i].second);
    else
      lock_waiters[kept++] = lock_waiters[i];
  }
  lock_waiters.resize(kept);
}

engine::TraceEvent& Kernel::emit(char ph, const char* name, const char* cat) {
  engine::TraceEvent e;
  e.ph = ph;
  e.name = name;
  e.cat = cat;
  e.pid = engine::TracePid::contexts;
  const engine::Context* c = sched.current();
  e.tid = c ? c->id : 0;
  e.ts_ns = sched.now_ns();
  e.step = sched.step();
  e.src_line = c ? c->src_line : 0;
  return tracer->add(std::move(e));
}

void Kernel::counter(const std::string& name, const char* series, int64_t value) {
  engine::TraceEvent e;
  e.ph = 'C';
  e.name = name;
  e.pid = engine::TracePid::objects;
  e.tid = 0;
  e.ts_ns = sched.now_ns();
  e.step = sched.step();
  e.args.push_back(arg(series, value));
  tracer->add(std::move(e));
}

void Kernel::observe_objects() {
  for (const auto& cache : caches) {
    if (!cache->inspect) continue;
    for (const uint32_t index : cache->live_objects) {
      kmem_cache::Object& obj = cache->objects[index];
      const void* p = object_address(cache.get(), obj);
      if (cache->check) {
        std::string why;
        if (!cache->check(p, why))
          violation("assert_dio_state",
                    cache->name + "#" + std::to_string(obj.ordinal) + ": " + why);
      }
      if (!tracer) continue;
      FieldView now;
      cache->inspect(p, now);
      const std::string oname = cache->name + "#" + std::to_string(obj.ordinal);
      for (int i = 0; i < now.count; ++i) {
        const bool known = i < obj.last_view.count;
        // The first view reports every field (a full snapshot); later ones what changed.
        if (known && obj.last_view.values[i] == now.values[i]) continue;
        auto& e = emit('i', "dio_state", "dio");
        e.args.push_back(arg("dio", oname));
        e.args.push_back(arg("field", now.names[i]));
        e.args.push_back(arg("before", known ? obj.last_view.values[i] : int64_t{0}));
        e.args.push_back(arg("after", now.values[i]));
        if (std::string_view(now.names[i]) == "refcount") counter(oname, "refcount", now.values[i]);
      }
      obj.last_view = now;
    }
  }
}

std::string page_name(const page* p) {
  if (p->is_zero_page) return "ZERO_PAGE";
  return "page#" + std::to_string(p->id);
}

void Kernel::emit_step_slice(const char* name, const char* cat, TraceArgs args) {
  auto& e = emit('X', name, cat);
  e.dur_ns = sched.step_cost_ns();
  e.args = std::move(args);
  const uint32_t self = e.tid;
  for (size_t i = 0; i < flow_in.size();) {
    if (flow_in[i].first != self) {
      ++i;
      continue;
    }
    auto& f = emit('f', "flow", "flow");
    f.id = flow_in[i].second;
    flow_in.erase(flow_in.begin() + static_cast<long>(i));
  }
  if (!flow_out.empty()) {
    auto& s = emit('s', "flow", "flow");
    s.id = std::move(flow_out);
    flow_out.clear();
  }
}

void trace_flow_start(const std::string& id) {
  Kernel& k = K();
  if (k.tracer) k.flow_out = id;
}

void trace_flow_end(const std::string& id, engine::Context* to) {
  Kernel& k = K();
  if (k.tracer) k.flow_in.emplace_back(to->id, id);
}

void trace_flow(const std::string& id, engine::Context* to) {
  trace_flow_start(id);
  trace_flow_end(id, to);
}

void yield_point(engine::StepOp op, engine::ObjectRef object, const char* name, const char* cat) {
  yield_point(op, object, name, cat, [] { return TraceArgs{}; });
}

void trace_change(const char* name, const char* cat, TraceArgs args) {
  Kernel& k = K();
  if (!k.tracer) return;
  auto& e = k.emit('i', name, cat);
  e.args = std::move(args);
}

void violation(const char* invariant, const std::string& message) {
  Kernel& k = K();
  if (k.tracer) {
    auto& e = k.emit('i', "violation", "check");
    e.scope = 'g';
    e.args.push_back(arg("invariant", invariant));
    e.args.push_back(arg("why", message));
  }
  k.sched.fail({invariant, current_line(), message});
}

void might_sleep(const char* what) {
  engine::Context* c = K().sched.current();
  if (c->kind == engine::ContextKind::irq)
    violation("might-sleep-in-irq",
              std::string(what) + " may sleep but runs in irq context (" + c->name + ")");
  const task_struct* t = get_current();
  if (t->locks_held > 0)
    violation("sleep-while-atomic", std::string(what) + " may sleep but " + c->name + " holds " +
                                        std::to_string(t->locks_held) + " spin lock(s)");
}

const char* errno_name(long e) {
  switch (static_cast<int>(-e)) {
  case EPERM:
    return "-EPERM";
  case EIO:
    return "-EIO";
  case EAGAIN:
    return "-EAGAIN";
  case ENOMEM:
    return "-ENOMEM";
  case EFAULT:
    return "-EFAULT";
  case ENOTBLK:
    return "-ENOTBLK";
  case EBUSY:
    return "-EBUSY";
  case EINVAL:
    return "-EINVAL";
  case EFBIG:
    return "-EFBIG";
  case ENOSPC:
    return "-ENOSPC";
  case EOPNOTSUPP:
    return "-EOPNOTSUPP";
  case EIOCBQUEUED:
    return "-EIOCBQUEUED";
  default:
    return nullptr;
  }
}

} // namespace kern
