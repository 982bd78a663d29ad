// SPDX-License-Identifier: GPL-2.0-only
// bio life cycle and plugging, following block/bio.c and block/blk-core.c of Linux 6.1.
#include "sim/kernel/bio.hpp"

#include "sim/kernel/page.hpp"
#include "sim/kernel/race_windows.hpp"
#include "sim/kernel/sched.hpp"

#include <algorithm>

namespace kern {

int blk_status_to_errno(blk_status_t status) {
  switch (status) {
  case BLK_STS_OK:
    return 0;
  case BLK_STS_AGAIN:
    return -EAGAIN;
  default:
    return -EIO;
  }
}

const char* bio_rwbs(const bio* b) {
  if ((b->bi_opf & REQ_OP_MASK) == REQ_OP_WRITE) return (b->bi_opf & REQ_SYNC) ? "WS" : "W";
  return (b->bi_opf & REQ_SYNC) ? "RS" : "R";
}

std::string bio_name(const bio* b) {
  return "bio#" + std::to_string(b->id);
}

// An event on the block lane, part of the bio's async slice (id2.local = bio#N).
static void trace_bio(char ph, const char* name, const bio* b) {
  Kernel& k = K();
  if (!k.tracer) return;
  auto& e = k.emit(ph, name, "bio");
  e.pid = engine::TracePid::block;
  e.tid = 1;
  e.id = bio_name(b);
  e.args.push_back(arg("bio", bio_name(b)));
  e.args.push_back(arg("rwbs", bio_rwbs(b)));
  e.args.push_back(arg("sector", static_cast<int64_t>(b->bi_iter.bi_sector)));
  e.args.push_back(arg("nr_sectors", static_cast<int64_t>(b->bi_iter.bi_size >> 9)));
}

unsigned short bio_max_segs(unsigned nr_segs) {
  return static_cast<unsigned short>(std::min(nr_segs, K().tun.bio_max_vecs));
}

bio* bio_alloc(block_device* bdev, unsigned short nr_vecs, blk_opf_t opf, gfp_t gfp) {
  Kernel& k = K();
  if (gfp == GFP_KERNEL) might_sleep("bio_alloc(GFP_KERNEL)");
  if (nr_vecs > k.tun.bio_max_vecs)
    violation("bio_alloc-failed", "bio_alloc with " + std::to_string(nr_vecs) +
                                      " vecs > BIO_MAX_VECS " + std::to_string(k.tun.bio_max_vecs));
  auto b = std::make_unique<bio>();
  b->id = k.next_bio_id++;
  b->bi_bdev = bdev;
  b->bi_opf = opf;
  b->bi_max_vecs = nr_vecs;
  b->bi_io_vec.reserve(nr_vecs);
  k.bios.push_back(std::move(b));
  ++k.bios_allocated;
  bio* out = k.bios.back().get();
  if (k.tracer) {
    DIOSIM_TRACE_CHANGE(
        "bio_alloc", "bio",
        {arg("bio", bio_name(out)), arg("nr_vecs", nr_vecs), arg("rwbs", bio_rwbs(out))});
    k.counter("bios", "allocated", static_cast<int64_t>(k.bios_allocated - k.bios_freed));
  }
  return out;
}

int bio_add_page(bio* b, page* pg, unsigned len, unsigned offset) {
  if (b->freed) violation("bio-use-after-free", "bio_add_page on freed " + bio_name(b));
  // __bio_try_merge_page: extend the last bvec when the new piece continues it on the same page.
  if (b->bi_vcnt > 0) {
    bio_vec& bv = b->bi_io_vec[b->bi_vcnt - 1];
    if (bv.bv_page == pg && bv.bv_offset + bv.bv_len == offset) {
      bv.bv_len += len;
      b->bi_iter.bi_size += len;
      DIOSIM_TRACE_CHANGE("bio_add_page", "bio",
                          {arg("bio", bio_name(b)), arg("page", page_name(pg)), arg("merged", 1),
                           arg("len", len), arg("bi_size", b->bi_iter.bi_size)});
      return static_cast<int>(len);
    }
  }
  if (b->bi_vcnt >= b->bi_max_vecs) return 0; // bio_full
  b->bi_io_vec.push_back({pg, len, offset});
  b->bi_vcnt++;
  b->bi_iter.bi_size += len;
  DIOSIM_TRACE_CHANGE("bio_add_page", "bio",
                      {arg("bio", bio_name(b)), arg("page", page_name(pg)), arg("offset", offset),
                       arg("len", len), arg("bi_vcnt", b->bi_vcnt),
                       arg("bi_size", b->bi_iter.bi_size)});
  return static_cast<int>(len);
}

void bio_put(bio* b) {
  Kernel& k = K();
  if (b->freed) violation("bio-double-put", "bio_put of already freed " + bio_name(b));
  if (--b->__bi_cnt > 0) return;
  b->freed = true;
  ++k.bios_freed;
  if (k.tracer) {
    trace_bio('e', "bio", b);
    DIOSIM_TRACE_CHANGE("bio_put", "bio", {arg("bio", bio_name(b))});
    k.counter("bios", "allocated", static_cast<int64_t>(k.bios_allocated - k.bios_freed));
  }
}

static void dispatch(bio* b) {
  note_access(obj(engine::ObjectKind::bio, b->id), true);
  K().race.on_send(K().sched.current()->id, obj(engine::ObjectKind::bio, b->id));
  blk_driver* drv = b->bi_bdev->bd_disk->driver;
  drv->queue_bio(b);
}

void blk_flush_plug(blk_plug* plug, bool from_schedule) {
  if (!plug->head) return;
  if (K().tracer)
    DIOSIM_TRACE_CHANGE(
        "U", "bio", {arg("nr_bios", plug->rq_count), arg("from_schedule", from_schedule ? 1 : 0)});
  bio* b = plug->head;
  plug->head = plug->tail = nullptr;
  plug->rq_count = 0;
  while (b) {
    bio* next = b->plug_next;
    b->plug_next = nullptr;
    dispatch(b);
    b = next;
  }
}

// blk_add_rq_to_plug (Linux 6.1): a plug holding plug_limit requests, or whose last request is
// at least BLK_PLUG_FLUSH_SIZE bytes, is flushed before the new request joins it.
static bool add_to_plug(blk_plug* plug, bio* b) {
  bool flushed = false;
  if (plug->rq_count >= K().tun.plug_limit ||
      (plug->tail && plug->tail->bi_iter.bi_size >= kBlkPlugFlushSize)) {
    blk_flush_plug(plug, false);
    flushed = true;
  }
  if (plug->tail)
    plug->tail->plug_next = b;
  else
    plug->head = b;
  plug->tail = b;
  plug->rq_count++;
  return flushed;
}

void submit_bio(bio* b) {
  Kernel& k = K();
  if (b->freed) violation("bio-use-after-free", "submit_bio of freed " + bio_name(b));
  task_struct* t = get_current();
  if (k.tracer) {
    trace_bio('b', "bio", b);
    trace_bio('n', "Q", b);
  }
  trace_flow_start(bio_name(b));
  // Announce, then act: the bio reaches the plug or the device after this step.
  yield_point(
      engine::StepOp::submit, obj(engine::ObjectKind::bio, b->id), "submit_bio", "bio", [&] {
        return ::kern::TraceArgs{arg("bio", bio_name(b)), arg("rwbs", bio_rwbs(b)),
                                 arg("sector", static_cast<int64_t>(b->bi_iter.bi_sector)),
                                 arg("nr_sectors", static_cast<int64_t>(b->bi_iter.bi_size >> 9)),
                                 arg("plugged", t->plug ? 1 : 0)};
      });
  const bool dispatched = t->plug ? add_to_plug(t->plug, b) : (dispatch(b), true);
  // Something reached the device inside submit_bio: its completion may run on another CPU
  // before submit_bio returns.
  if (dispatched)
    yield_point(engine::StepOp::observe, obj(engine::ObjectKind::bio, b->id),
                "submit_bio:dispatched", "bio");
}

void bio_endio(bio* b) {
  if (b->freed) violation("bio-use-after-free", "bio_endio of freed " + bio_name(b));
  yield_point(engine::StepOp::hook, obj(engine::ObjectKind::bio, b->id), "bio_endio", "bio", [&] {
    return ::kern::TraceArgs{arg("bio", bio_name(b)), arg("status", b->bi_status)};
  });
  K().race.on_receive(K().sched.current()->id, obj(engine::ObjectKind::bio, b->id));
  for (const engine::Context& c : K().sched.contexts())
    if (c.kind == engine::ContextKind::task && c.state != engine::RunState::done &&
        c.src_line >= 892 && c.src_line <= 1045)
      race_window_hit(RaceWindow::completion_while_mapping);
  b->bi_end_io(b);
}

void bio_release_pages(bio* b, bool mark_dirty) {
  for (unsigned i = 0; i < b->bi_vcnt; ++i) {
    page* p = b->bi_io_vec[i].bv_page;
    if (mark_dirty && !PageCompound(p)) set_page_dirty_lock(p);
    put_page(p);
  }
}

void bio_set_pages_dirty(bio* b) {
  for (unsigned i = 0; i < b->bi_vcnt; ++i)
    if (!PageCompound(b->bi_io_vec[i].bv_page)) set_page_dirty_lock(b->bi_io_vec[i].bv_page);
}

// Linux defers to a workqueue when a page was cleaned meanwhile (redirty, then release). User
// pages are never written back in the simulation, so that case reduces to redirty-and-release
// done here.
void bio_check_pages_dirty(bio* b) {
  bio_release_pages(b, true);
  bio_put(b);
}

void blk_start_plug(blk_plug* plug) {
  *plug = blk_plug{};
  task_struct* t = get_current();
  if (!t->plug) t->plug = plug;
  DIOSIM_TRACE_CHANGE("blk_start_plug", "bio", {});
}

void blk_finish_plug(blk_plug* plug) {
  task_struct* t = get_current();
  if (plug == t->plug) {
    blk_flush_plug(plug, false);
    t->plug = nullptr;
  }
}

} // namespace kern
