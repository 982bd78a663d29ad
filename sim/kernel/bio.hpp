// SPDX-License-Identifier: GPL-2.0-only
// struct bio and the block-layer calls direct-io.c makes.
//
// Invariants:
//   1. Every bio allocated is put exactly once more than it is got: a put of a freed bio is a
//      finding ("bio-double-put"); a bio never freed shows at the end of the run.
//   2. bio_add_page merges a segment contiguous with the last bvec on the same page, fails (0)
//      when bi_vcnt == bi_max_vecs, and never exceeds bi_max_vecs.
//   3. A plugged bio is not dispatched before blk_finish_plug, the plug limit, or the task
//      sleeping.
#pragma once

#include "sim/kernel/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kern {

struct page;
struct bio;
struct gendisk;

// Request operation and flags (blk_types.h values).
enum req_op : uint32_t { REQ_OP_READ = 0, REQ_OP_WRITE = 1 };
constexpr blk_opf_t REQ_OP_MASK = 0xff;
constexpr blk_opf_t REQ_SYNC = 1u << 11;
constexpr blk_opf_t REQ_IDLE = 1u << 15;
constexpr blk_opf_t REQ_NOWAIT = 1u << 21;

constexpr blk_status_t BLK_STS_OK = 0;
constexpr blk_status_t BLK_STS_IOERR = 10;
constexpr blk_status_t BLK_STS_AGAIN = 12;
int blk_status_to_errno(blk_status_t status);

struct bio_vec {
  page* bv_page = nullptr;
  unsigned bv_len = 0;
  unsigned bv_offset = 0;
};

struct bvec_iter {
  sector_t bi_sector = 0;
  unsigned bi_size = 0;
};

struct block_device {
  gendisk* bd_disk = nullptr;
  unsigned logical_block_size = 512;
};

// The device driver interface the world's disk implements.
struct blk_driver {
  virtual ~blk_driver() = default;
  virtual void queue_bio(bio* b) = 0; // called when a bio leaves the plug / submit path
};

struct gendisk {
  const char* disk_name = "simdisk";
  blk_driver* driver = nullptr;
};

using bio_end_io_t = void(bio*);

struct bio {
  uint32_t id = 0;
  blk_opf_t bi_opf = 0;
  blk_status_t bi_status = BLK_STS_OK;
  bvec_iter bi_iter;
  unsigned short bi_vcnt = 0;
  unsigned short bi_max_vecs = 0;
  std::vector<bio_vec> bi_io_vec; // capacity bi_max_vecs
  bio_end_io_t* bi_end_io = nullptr;
  void* bi_private = nullptr;
  block_device* bi_bdev = nullptr;
  int __bi_cnt = 1;
  bool freed = false;
  bio* plug_next = nullptr; // link on the submitting task's plug list
};

unsigned short bio_max_segs(unsigned nr_segs);
bio* bio_alloc(block_device* bdev, unsigned short nr_vecs, blk_opf_t opf, gfp_t gfp);
int bio_add_page(bio* b, page* pg, unsigned len, unsigned offset);
void bio_put(bio* b);
void submit_bio(bio* b);
void bio_endio(bio* b); // runs bi_end_io; the world's completion context calls it
void bio_release_pages(bio* b, bool mark_dirty);
void bio_set_pages_dirty(bio* b);
void bio_check_pages_dirty(bio* b);
// "WS", "R" ... as blktrace prints it.
const char* bio_rwbs(const bio* b);
std::string bio_name(const bio* b);

constexpr unsigned kBlkPlugFlushSize = 128 * 1024; // BLK_PLUG_FLUSH_SIZE

struct blk_plug {
  bio* head = nullptr;
  bio* tail = nullptr;
  unsigned rq_count = 0;
};
void blk_start_plug(blk_plug* plug);
void blk_finish_plug(blk_plug* plug);
void blk_flush_plug(blk_plug* plug, bool from_schedule);

inline unsigned bdev_logical_block_size(const block_device* bdev) {
  return bdev->logical_block_size;
}
inline unsigned blksize_bits(unsigned size) {
  return static_cast<unsigned>(__builtin_ctz(size));
}

} // namespace kern
