// SPDX-License-Identifier: GPL-2.0-only
// The port of Linux fs/direct-io.c to the simulated kernel, and nothing else.
// Reference revision e6b9d8eddb1772d99a676a906d42865293934edd; AT(N) marks fs/direct-io.c:N.
// Derived from fs/direct-io.c, Copyright (C) 2002, Linus Torvalds, and its other authors.
//
// Invariants the code relies on:
//   1. dio->refcount is 1 (the submitter's reference) plus the number of bios in flight,
//      until drop_refcount() gives up the submitter's reference.
//   2. A bio holds a reference on its dio from dio_bio_submit() until its end_io callback
//      (dio_bio_end_io / dio_bio_end_aio) drops it under bio_lock.
//   3. Only the holder of the last reference calls dio_complete(): the submitter when
//      drop_refcount() returns 0, otherwise the last bio's end_io (directly or via the
//      dio-done workqueue).
//   4. A dio is freed exactly once: in dio_complete(), or at fail_dio before any bio exists.
//   5. bio_list, refcount and waiter change only under bio_lock; a completion that leaves
//      refcount at 1 wakes the waiter while still holding the lock, so no wake-up is lost.
//
// Port notes: C casts become static_cast; `private` is a C++ keyword, so the field is
// `private_`; DIO_PAGES and the reap threshold are tunables; dio_cache is per thread.
// Mixed-sign comparisons carry an explicit cast to the type C's usual arithmetic
// conversions pick (same meaning, no -Wsign-compare). Unbraced if/else/while bodies got
// braces so each statement can carry its AT(N); else-if chains became else { if }.
// A loop whose test runs again marks it once more at the end of its body (/* loop test */).

#include "sim/dio/direct_io.hpp"
#include "sim/kernel/kernel.hpp"
#include "sim/kernel/shared_field.hpp"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#define DIO_PAGES (::kern::K().tun.dio_pages)
#define current (::kern::get_current())

namespace kern {

// fs/direct-io.c:53-54: flags for dio_complete()
#define DIO_COMPLETE_ASYNC		0x01	/* async IO */
#define DIO_COMPLETE_INVALIDATE		0x02	/* may invalidate page cache */

// fs/direct-io.c:70-114: submission-path state, lives on the submitter's stack
struct dio_submit {
	struct bio *bio;		/* bio being built */
	unsigned blkbits;		/* constant */
	unsigned blkfactor;		/* log2(fs block / dio block), constant */
	unsigned start_zero_done;	/* leading partial-block zeroing done */
	int pages_in_io;		/* rough count of pages left to do */
	sector_t block_in_file;		/* file cursor, in dio blocks */
	unsigned blocks_available;	/* mapped blocks left at block_in_file */
	int reap_counter;		/* rate limit for dio_bio_reap */
	sector_t final_block_in_request;/* constant */
	int boundary;			/* previous block ends a boundary */
	get_block_t *get_block;		/* fs block mapper */

	loff_t logical_offset_in_bio;	/* file offset of the bio's first block */
	sector_t final_block_in_bio;	/* last block in bio + 1 */
	sector_t next_block_for_io;	/* next disk block, in dio blocks */

	/* the deferred page chunk (dio_send_cur_page & co.) */
	struct page *cur_page;		/* page */
	unsigned cur_page_offset;	/* byte offset in it */
	unsigned cur_page_len;		/* byte length */
	sector_t cur_page_block;	/* disk block it starts at */
	loff_t cur_page_fs_offset;	/* file offset */

	struct iov_iter *iter;
	/* page queue (dio_refill_pages / dio_get_page) */
	unsigned head;			/* next page to use */
	unsigned tail;			/* one past last valid page */
	size_t from, to;
};

// fs/direct-io.c:117-151: state shared by the submitter and bio completion.
// alignas(64) stands for ____cacheline_aligned_in_smp; pages[] is sized for the largest
// DIO_PAGES tunable. shared_field<T, "name"> is exactly a T whose every access is checked
// (use after free, data race) and may be a scheduling point: the fields that completion
// (irq) or the dio workqueue read or write while the submitter may still run.
struct alignas(64) dio {
	int flags;			/* constant */
	blk_opf_t opf;			/* request op and flags */
	struct gendisk *bio_disk;
	struct inode *inode;
	loff_t i_size;			/* i_size at submission */
	dio_iodone_t *end_io;		/* fs completion hook */

	void *private_;			/* kernel: `private`; from map_bh.b_private */

	/* completion state */
	spinlock_t bio_lock;		/* guards the fields below */
	shared_field<int, "page_errors"> page_errors;	/* first get_user_pages error */
	shared_field<int, "is_async"> is_async;		/* AIO? */
	shared_field<bool, "defer_completion"> defer_completion; /* complete AIO from the workqueue? */
	shared_field<bool, "should_dirty"> should_dirty;	/* dirty pages on completion? */
	shared_field<int, "io_error"> io_error;		/* bio error */
	shared_field<unsigned long, "refcount"> refcount;	/* submitter + bios in flight */
	shared_field<struct bio *, "bio_list"> bio_list; /* completed bios, linked via bi_private */
	shared_field<struct task_struct *, "waiter"> waiter; /* sleeping submitter, or NULL */

	/* AIO */
	struct kiocb *iocb;
	shared_field<ssize_t, "result"> result;		/* bytes mapped so far */

	/* pages[] and anything after it is left uninitialised by the allocator path */
	union {
		struct page *pages[kDioPagesMax];	/* page queue */
		struct work_struct complete_work;/* deferred AIO completion */
	};
};

// fs/direct-io.c:153. thread_local: several runs may execute at once, one per thread.
static thread_local kmem_cache *dio_cache;

// fs/direct-io.c:158-161: pages queued and not yet used
static inline unsigned dio_pages_present(struct dio_submit *sdio)
{
	AT(160); return sdio->tail - sdio->head;
}

// fs/direct-io.c:166-200: pin the next batch of user pages
static inline int dio_refill_pages(struct dio *dio, struct dio_submit *sdio)
{
	AT(168); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	ssize_t ret;

	AT(171); ret = iov_iter_get_pages2(sdio->iter, dio->pages, LONG_MAX, DIO_PAGES,
				&sdio->from);

	AT(174); if (ret < 0 && sdio->blocks_available && dio_op == REQ_OP_WRITE) {
		AT(175); struct page *page = ZERO_PAGE(0);
		/* fault with mapped blocks left: write zeroes into them so no stale data leaks */
		AT(181); if (dio->page_errors == 0) {
			AT(182); dio->page_errors = ret;
		}
		AT(183); get_page(page);
		AT(184); dio->pages[0] = page;
		AT(185); sdio->head = 0;
		AT(186); sdio->tail = 1;
		AT(187); sdio->from = 0;
		AT(188); sdio->to = PAGE_SIZE;
		AT(189); return 0;
	}

	AT(192); if (ret >= 0) {
		AT(193); ret += sdio->from;
		AT(194); sdio->head = 0;
		AT(195); sdio->tail = (ret + PAGE_SIZE - 1) / PAGE_SIZE;
		AT(196); sdio->to = ((ret - 1) & (PAGE_SIZE - 1)) + 1;
		AT(197); return 0;
	}
	AT(199); return ret;
}

// fs/direct-io.c:208-220: next user page, refilling the queue; ERR_PTR on error
static inline struct page *dio_get_page(struct dio *dio,
					struct dio_submit *sdio)
{
	AT(211); if (dio_pages_present(sdio) == 0) {
		int ret;

		AT(214); ret = dio_refill_pages(dio, sdio);
		AT(215); if (ret) {
			AT(216); return ERR_PTR(ret);
		}
		AT(217); BUG_ON(dio_pages_present(sdio) == 0);
	}
	AT(219); return dio->pages[sdio->head];
}

// fs/direct-io.c:233-314: all bios done: compute the result, call end_io, free the dio
static ssize_t dio_complete(struct dio *dio, ssize_t ret, unsigned int flags)
{
	AT(235); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	AT(236); loff_t offset = dio->iocb->ki_pos;
	AT(237); ssize_t transferred = 0;
	int err;

	/* -EIOCBQUEUED from a submitter that lost the race to the last bio is no error */
	AT(246); if (ret == -EIOCBQUEUED) {
		AT(247); ret = 0;
	}

	AT(249); if (dio->result) {
		AT(250); transferred = dio->result;

		/* short read at EOF */
		AT(253); if (dio_op == REQ_OP_READ &&
		    ((offset + transferred) > dio->i_size)) {
			AT(255); transferred = dio->i_size - offset;
		}
		/* partial progress beats -EFAULT */
		AT(257); if (unlikely(ret == -EFAULT) && transferred) {
			AT(258); ret = 0;
		}
	}

	AT(261); if (ret == 0) {
		AT(262); ret = dio->page_errors;
	}
	AT(263); if (ret == 0) {
		AT(264); ret = dio->io_error;
	}
	AT(265); if (ret == 0) {
		AT(266); ret = transferred;
	}

	AT(268); if (dio->end_io) {
		// XXX: ki_pos??
		AT(270); err = dio->end_io(dio->iocb, offset, ret, dio->private_);
		AT(271); if (err) {
			AT(272); ret = err;
		}
	}

	/* drop cached pages over a written range; after end_io (unwritten extent conversion) */
	AT(287); if (flags & DIO_COMPLETE_INVALIDATE &&
	    ret > 0 && dio_op == REQ_OP_WRITE &&
	    dio->inode->i_mapping->nrpages) {
		AT(290); err = invalidate_inode_pages2_range(dio->inode->i_mapping,
					offset >> PAGE_SHIFT,
					(offset + ret - 1) >> PAGE_SHIFT);
		AT(293); if (err) {
			AT(294); dio_warn_stale_pagecache(dio->iocb->ki_filp);
		}
	}

	AT(297); inode_dio_end(dio->inode);

	AT(299); if (flags & DIO_COMPLETE_ASYNC) {
		/* the submitter advanced ki_pos only for sync I/O */
		AT(305); dio->iocb->ki_pos += transferred;

		AT(307); if (ret > 0 && dio_op == REQ_OP_WRITE) {
			AT(308); ret = generic_write_sync(dio->iocb, ret);
		}
		AT(309); dio->iocb->ki_complete(dio->iocb, ret);
	}

	AT(312); kmem_cache_free(dio_cache, dio);
	AT(313); return ret;
}

// fs/direct-io.c:316-321: workqueue side of a deferred AIO completion
static void dio_aio_complete_work(struct work_struct *work)
{
	AT(318); struct dio *dio = container_of(work, struct dio, complete_work);

	AT(320); dio_complete(dio, 0, DIO_COMPLETE_ASYNC | DIO_COMPLETE_INVALIDATE);
}

// fs/direct-io.c:323
static blk_status_t dio_bio_complete(struct dio *dio, struct bio *bio);

// fs/direct-io.c:328-366: bi_end_io for AIO; the last reference completes the dio
static void dio_bio_end_aio(struct bio *bio)
{
	AT(330); struct dio *dio = static_cast<struct dio *>(bio->bi_private);
	AT(331); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	unsigned long remaining;
	unsigned long flags;
	AT(334); bool defer_completion = false;

	/* release the bio */
	AT(337); dio_bio_complete(dio, bio);

	AT(339); spin_lock_irqsave(&dio->bio_lock, flags);
	AT(340); remaining = --dio->refcount;
	AT(341); if (remaining == 1 && dio->waiter) {
		AT(342); wake_up_process(dio->waiter);
	}
	AT(343); spin_unlock_irqrestore(&dio->bio_lock, flags);

	AT(345); if (remaining == 0) {
		/* defer if asked, or for a write over cached pages (they must be invalidated) */
		AT(354); if (dio->result) {
			AT(355); defer_completion = dio->defer_completion ||
					   (dio_op == REQ_OP_WRITE &&
					    dio->inode->i_mapping->nrpages);
		}
		AT(358); if (defer_completion) {
			AT(359); INIT_WORK(&dio->complete_work, dio_aio_complete_work);
			AT(360); queue_work(dio->inode->i_sb->s_dio_done_wq,
				   &dio->complete_work);
		} else {
			AT(363); dio_complete(dio, 0, DIO_COMPLETE_ASYNC);
		}
	}
}

// fs/direct-io.c:375-386: bi_end_io for sync I/O: push the bio on dio->bio_list (via
// bi_private) and wake the submitter when only its reference is left
static void dio_bio_end_io(struct bio *bio)
{
	AT(377); struct dio *dio = static_cast<struct dio *>(bio->bi_private);
	unsigned long flags;

	AT(380); spin_lock_irqsave(&dio->bio_lock, flags);
	AT(381); bio->bi_private = dio->bio_list;
	AT(382); dio->bio_list = bio;
	AT(383); if (--dio->refcount == 1 && dio->waiter) {
		AT(384); wake_up_process(dio->waiter);
	}
	AT(385); spin_unlock_irqrestore(&dio->bio_lock, flags);
}

// fs/direct-io.c:388-407: start a new bio at first_sector
static inline void
dio_bio_alloc(struct dio *dio, struct dio_submit *sdio,
	      struct block_device *bdev,
	      sector_t first_sector, int nr_vecs)
{
	struct bio *bio;

	/* cannot fail: may sleep, and nr_vecs is valid */
	AT(399); bio = bio_alloc(bdev, nr_vecs, dio->opf, GFP_KERNEL);
	AT(400); bio->bi_iter.bi_sector = first_sector;
	AT(401); if (dio->is_async) {
		AT(402); bio->bi_end_io = dio_bio_end_aio;
	} else {
		AT(404); bio->bi_end_io = dio_bio_end_io;
	}
	AT(405); sdio->bio = bio;
	AT(406); sdio->logical_offset_in_bio = sdio->cur_page_fs_offset;
}

// fs/direct-io.c:416-438: submit sdio->bio; it takes a dio reference until end_io.
// AIO reads dirty their pages up front; completion redirties any written back meanwhile.
static inline void dio_bio_submit(struct dio *dio, struct dio_submit *sdio)
{
	AT(418); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	AT(419); struct bio *bio = sdio->bio;
	unsigned long flags;

	AT(422); bio->bi_private = dio;

	AT(424); spin_lock_irqsave(&dio->bio_lock, flags);
	AT(425); dio->refcount++;
	AT(426); spin_unlock_irqrestore(&dio->bio_lock, flags);

	AT(428); if (dio->is_async && dio_op == REQ_OP_READ && dio->should_dirty) {
		AT(429); bio_set_pages_dirty(bio);
	}

	AT(431); dio->bio_disk = bio->bi_bdev->bd_disk;

	AT(433); submit_bio(bio);

	AT(435); sdio->bio = NULL;
	AT(436); sdio->boundary = 0;
	AT(437); sdio->logical_offset_in_bio = 0;
}

// fs/direct-io.c:443-447: unpin the pages still queued
static inline void dio_cleanup(struct dio *dio, struct dio_submit *sdio)
{
	AT(445); while (sdio->head < sdio->tail) {
		AT(446); put_page(dio->pages[sdio->head++]);
		AT(445);	/* loop test */
	}
}

// fs/direct-io.c:455-483: wait for a completed bio and unlink it; NULL when none is left.
// Call only after the last submit, holding a reference.
static struct bio *dio_await_one(struct dio *dio)
{
	unsigned long flags;
	AT(458); struct bio *bio = NULL;

	AT(460); spin_lock_irqsave(&dio->bio_lock, flags);

	/* sleep while bios are in flight and none is queued; the waker holds bio_lock,
	 * so setting the state after the test is safe */
	AT(468); while (dio->refcount > 1 && dio->bio_list == NULL) {
		AT(469); __set_current_state(TASK_UNINTERRUPTIBLE);
		AT(470); dio->waiter = current;
		AT(471); spin_unlock_irqrestore(&dio->bio_lock, flags);
		AT(472); blk_io_schedule();
		/* woken as TASK_RUNNING */
		AT(474); spin_lock_irqsave(&dio->bio_lock, flags);
		AT(475); dio->waiter = NULL;
		AT(468);	/* loop test */
	}
	AT(477); if (dio->bio_list) {
		AT(478); bio = dio->bio_list;
		AT(479); dio->bio_list = static_cast<struct bio *>(bio->bi_private);
	}
	AT(481); spin_unlock_irqrestore(&dio->bio_lock, flags);
	AT(482); return bio;
}

// fs/direct-io.c:488-508: record a bio's error and release it (no locks held)
static blk_status_t dio_bio_complete(struct dio *dio, struct bio *bio)
{
	AT(490); blk_status_t err = bio->bi_status;
	AT(491); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	AT(492); bool should_dirty = dio_op == REQ_OP_READ && dio->should_dirty;

	AT(494); if (err) {
		AT(495); if (err == BLK_STS_AGAIN && (bio->bi_opf & REQ_NOWAIT)) {
			AT(496); dio->io_error = -EAGAIN;
		} else {
			AT(498); dio->io_error = -EIO;
		}
	}

	AT(501); if (dio->is_async && should_dirty) {
		AT(502); bio_check_pages_dirty(bio);	/* takes over the bio */
	} else {
		AT(504); bio_release_pages(bio, should_dirty);
		AT(505); bio_put(bio);
	}
	AT(507); return err;
}

// fs/direct-io.c:517-525: reap every bio after the last submit; errors go to io_error
static void dio_await_completion(struct dio *dio)
{
	struct bio *bio;
	do {
		AT(521); bio = dio_await_one(dio);
		AT(522); if (bio) {
			AT(523); dio_bio_complete(dio, bio);
		}
		AT(524);	/* loop test */
	} while (bio);
}

// fs/direct-io.c:534-555: every reap_threshold new bios, release the completed ones
// (bounds memory and pinned pages for large requests)
static inline int dio_bio_reap(struct dio *dio, struct dio_submit *sdio)
{
	AT(536); int ret = 0;

	AT(538); if (sdio->reap_counter++ >= K().tun.reap_threshold) {
		AT(539); while (dio->bio_list) {
			unsigned long flags;
			struct bio *bio;
			int ret2;

			AT(544); spin_lock_irqsave(&dio->bio_lock, flags);
			AT(545); bio = dio->bio_list;
			AT(546); dio->bio_list = static_cast<struct bio *>(bio->bi_private);
			AT(547); spin_unlock_irqrestore(&dio->bio_lock, flags);
			AT(548); ret2 = blk_status_to_errno(dio_bio_complete(dio, bio));
			AT(549); if (ret == 0) {
				AT(550); ret = ret2;
			}
			AT(539);	/* loop test */
		}
		AT(552); sdio->reap_counter = 0;
	}
	AT(554); return ret;
}

// fs/direct-io.c:557-567: complete from the workqueue; create it if needed
static int dio_set_defer_completion(struct dio *dio)
{
	AT(559); struct super_block *sb = dio->inode->i_sb;

	AT(561); if (dio->defer_completion) {
		AT(562); return 0;
	}
	AT(563); dio->defer_completion = true;
	AT(564); if (!sb->s_dio_done_wq) {
		AT(565); return sb_init_dio_done_wq(sb);
	}
	AT(566); return 0;
}

// fs/direct-io.c:592-647: ask the fs to map blocks from block_in_file on. It may map many
// contiguous blocks (b_size), must flag new ones, and maps holes one block per call here.
static int get_more_blocks(struct dio *dio, struct dio_submit *sdio,
			   struct buffer_head *map_bh)
{
	AT(595); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	int ret;
	sector_t fs_startblk;	/* file offset, fs blocks */
	sector_t fs_endblk;	/* file offset, fs blocks */
	unsigned long fs_count;	/* fs blocks wanted */
	int create;
	AT(601); unsigned int i_blkbits = sdio->blkbits + sdio->blkfactor;
	loff_t i_size;

	/* a pending fault is returned once the mapped blocks are used up */
	AT(608); ret = dio->page_errors;
	AT(609); if (ret == 0) {
		AT(610); BUG_ON(sdio->block_in_file >= sdio->final_block_in_request);
		AT(611); fs_startblk = sdio->block_in_file >> sdio->blkfactor;
		AT(612); fs_endblk = (sdio->final_block_in_request - 1) >>
					sdio->blkfactor;
		AT(614); fs_count = fs_endblk - fs_startblk + 1;

		AT(616); map_bh->b_state = 0;
		AT(617); map_bh->b_size = fs_count << i_blkbits;

		/* DIO_SKIP_HOLES: no allocation inside i_size, only overwrites; an unmapped
		 * result makes the caller fall back to buffered I/O */
		AT(630); create = dio_op == REQ_OP_WRITE;
		AT(631); if (dio->flags & DIO_SKIP_HOLES) {
			AT(632); i_size = i_size_read(dio->inode);
			AT(633); if (i_size && fs_startblk <= static_cast<sector_t>((i_size - 1) >> i_blkbits)) {
				AT(634); create = 0;
			}
		}

		AT(637); ret = (*sdio->get_block)(dio->inode, fs_startblk,
						map_bh, create);

		/* kept for end_io */
		AT(641); dio->private_ = map_bh->b_private;

		AT(643); if (ret == 0 && buffer_defer_completion(map_bh)) {
			AT(644); ret = dio_set_defer_completion(dio);
		}
	}
	AT(646); return ret;
}

// fs/direct-io.c:652-668: reap, then allocate a bio starting at start_sector
static inline int dio_new_bio(struct dio *dio, struct dio_submit *sdio,
		sector_t start_sector, struct buffer_head *map_bh)
{
	sector_t sector;
	int ret, nr_pages;

	AT(658); ret = dio_bio_reap(dio, sdio);
	AT(659); if (ret) {
		AT(660); goto out;
	}
	AT(661); sector = start_sector << (sdio->blkbits - 9);
	AT(662); nr_pages = bio_max_segs(sdio->pages_in_io);
	AT(663); BUG_ON(nr_pages <= 0);
	AT(664); dio_bio_alloc(dio, sdio, map_bh->b_bdev, sector, nr_pages);
	AT(665); sdio->boundary = 0;
out:
	AT(667); return ret;
}

// fs/direct-io.c:677-697: add the cur_page chunk to the bio and take a page ref.
// 0 on success, 1 when the bio is full.
static inline int dio_bio_add_page(struct dio_submit *sdio)
{
	int ret;

	AT(681); ret = bio_add_page(sdio->bio, sdio->cur_page,
			sdio->cur_page_len, sdio->cur_page_offset);
	AT(683); if (static_cast<unsigned>(ret) == sdio->cur_page_len) {
		/* one page fewer to do, if this chunk reaches the page end */
		AT(687); if ((sdio->cur_page_len + sdio->cur_page_offset) == PAGE_SIZE) {
			AT(688); sdio->pages_in_io--;
		}
		AT(689); get_page(sdio->cur_page);
		AT(690); sdio->final_block_in_bio = sdio->cur_page_block +
			(sdio->cur_page_len >> sdio->blkbits);
		AT(692); ret = 0;
	} else {
		AT(694); ret = 1;
	}
	AT(696); return ret;
}

// fs/direct-io.c:709-754: put the deferred cur_page chunk into a bio, submitting the
// current bio first when not contiguous on disk or in the file. The caller drops cur_page.
static inline int dio_send_cur_page(struct dio *dio, struct dio_submit *sdio,
		struct buffer_head *map_bh)
{
	AT(712); int ret = 0;

	AT(714); if (sdio->bio) {
		AT(715); loff_t cur_offset = sdio->cur_page_fs_offset;
		AT(716); loff_t bio_next_offset = sdio->logical_offset_in_bio +
			sdio->bio->bi_iter.bi_size;

		/* a bio must be contiguous on disk and in the file (btrfs needs the latter) */
		AT(733); if (sdio->final_block_in_bio != sdio->cur_page_block ||
		    cur_offset != bio_next_offset) {
			AT(735); dio_bio_submit(dio, sdio);
		}
	}

	AT(738); if (sdio->bio == NULL) {
		AT(739); ret = dio_new_bio(dio, sdio, sdio->cur_page_block, map_bh);
		AT(740); if (ret) {
			AT(741); goto out;
		}
	}

	AT(744); if (dio_bio_add_page(sdio) != 0) {
		AT(745); dio_bio_submit(dio, sdio);
		AT(746); ret = dio_new_bio(dio, sdio, sdio->cur_page_block, map_bh);
		AT(747); if (ret == 0) {
			AT(748); ret = dio_bio_add_page(sdio);
			AT(749); BUG_ON(ret != 0);
		}
	}
out:
	AT(753); return ret;
}

// fs/direct-io.c:773-830: queue a (page, offset, len, blocknr) chunk: grow cur_page when
// contiguous, else send the old cur_page and make this one current. Boundary: send now.
static inline int
submit_page_section(struct dio *dio, struct dio_submit *sdio, struct page *page,
		    unsigned offset, unsigned len, sector_t blocknr,
		    struct buffer_head *map_bh)
{
	AT(778); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	AT(779); int ret = 0;
	AT(780); int boundary = sdio->boundary;	/* read before dio_send_cur_page clears it */

	AT(782); if (dio_op == REQ_OP_WRITE) {
		/* reads are accounted in submit_bio() */
		AT(786); task_io_account_write(len);
	}

	/* extend cur_page? */
	AT(792); if (sdio->cur_page == page &&
	    sdio->cur_page_offset + sdio->cur_page_len == offset &&
	    sdio->cur_page_block +
	    (sdio->cur_page_len >> sdio->blkbits) == blocknr) {
		AT(796); sdio->cur_page_len += len;
		AT(797); goto out;
	}

	/* send the previous deferred page */
	AT(803); if (sdio->cur_page) {
		AT(804); ret = dio_send_cur_page(dio, sdio, map_bh);
		AT(805); put_page(sdio->cur_page);
		AT(806); sdio->cur_page = NULL;
		AT(807); if (ret) {
			AT(808); return ret;
		}
	}

	AT(811); get_page(page);		/* ref held by the dio */
	AT(812); sdio->cur_page = page;
	AT(813); sdio->cur_page_offset = offset;
	AT(814); sdio->cur_page_len = len;
	AT(815); sdio->cur_page_block = blocknr;
	AT(816); sdio->cur_page_fs_offset = sdio->block_in_file << sdio->blkbits;
out:
	/* at a boundary, submit now to save a metadata seek */
	AT(822); if (boundary) {
		AT(823); ret = dio_send_cur_page(dio, sdio, map_bh);
		AT(824); if (sdio->bio) {
			AT(825); dio_bio_submit(dio, sdio);
		}
		AT(826); put_page(sdio->cur_page);
		AT(827); sdio->cur_page = NULL;
	}
	AT(829); return ret;
}

// fs/direct-io.c:841-874: zero the unwritten part of a newly allocated fs block at the
// start (end == 0) or end (end == 1) of a sub-block-aligned request
static inline void dio_zero_block(struct dio *dio, struct dio_submit *sdio,
		int end, struct buffer_head *map_bh)
{
	unsigned dio_blocks_per_fs_block;
	unsigned this_chunk_blocks;	/* dio blocks */
	unsigned this_chunk_bytes;
	struct page *page;

	AT(849); sdio->start_zero_done = 1;
	AT(850); if (!sdio->blkfactor || !buffer_new(map_bh)) {
		AT(851); return;
	}

	AT(853); dio_blocks_per_fs_block = 1 << sdio->blkfactor;
	AT(854); this_chunk_blocks = sdio->block_in_file & (dio_blocks_per_fs_block - 1);

	AT(856); if (!this_chunk_blocks) {
		AT(857); return;
	}

	/* the head or the tail of the fs block */
	AT(863); if (end) {
		AT(864); this_chunk_blocks = dio_blocks_per_fs_block - this_chunk_blocks;
	}

	AT(866); this_chunk_bytes = this_chunk_blocks << sdio->blkbits;

	AT(868); page = ZERO_PAGE(0);
	AT(869); if (submit_page_section(dio, sdio, page, 0, this_chunk_bytes,
				sdio->next_block_for_io, map_bh)) {
		AT(871); return;
	}

	AT(873); sdio->next_block_for_io += this_chunk_blocks;
}

// fs/direct-io.c:892-1045: walk user pages and file blocks together, feeding
// (page, offset, len, block) chunks to submit_page_section(). get_block may map more than
// a page at once (b_size), which keeps fine-aligned blockdev I/O page-sized.
static int do_direct_IO(struct dio *dio, struct dio_submit *sdio,
			struct buffer_head *map_bh)
{
	AT(895); const enum req_op dio_op = static_cast<enum req_op>(dio->opf & REQ_OP_MASK);
	AT(896); const unsigned blkbits = sdio->blkbits;
	AT(897); const unsigned i_blkbits = blkbits + sdio->blkfactor;
	AT(898); int ret = 0;

	AT(900); while (sdio->block_in_file < sdio->final_block_in_request) {
		struct page *page;
		size_t from, to;

		AT(904); page = dio_get_page(dio, sdio);
		AT(905); if (IS_ERR(page)) {
			AT(906); ret = PTR_ERR(page);
			AT(907); goto out;
		}
		AT(909); from = sdio->head ? 0 : sdio->from;
		AT(910); to = (sdio->head == sdio->tail - 1) ? sdio->to : PAGE_SIZE;
		AT(911); sdio->head++;

		AT(913); while (from < to) {
			unsigned this_chunk_bytes;	/* bytes mapped */
			unsigned this_chunk_blocks;	/* blocks */
			unsigned u;

			AT(918); if (sdio->blocks_available == 0) {
				/* map more disk */
				unsigned long blkmask;
				unsigned long dio_remainder;

				AT(925); ret = get_more_blocks(dio, sdio, map_bh);
				AT(926); if (ret) {
					AT(927); put_page(page);
					AT(928); goto out;
				}
				AT(930); if (!buffer_mapped(map_bh)) {
					AT(931); goto do_holes;
				}

				AT(933); sdio->blocks_available =
						map_bh->b_size >> blkbits;
				AT(935); sdio->next_block_for_io =
					map_bh->b_blocknr << sdio->blkfactor;
				AT(937); if (buffer_new(map_bh)) {
					AT(938); clean_bdev_aliases(
						map_bh->b_bdev,
						map_bh->b_blocknr,
						map_bh->b_size >> i_blkbits);
				}

				AT(944); if (!sdio->blkfactor) {
					AT(945); goto do_holes;
				}

				AT(947); blkmask = (1 << sdio->blkfactor) - 1;
				AT(948); dio_remainder = (sdio->block_in_file & blkmask);

				/* I/O starting inside an fs block: a read skips ahead; a write
				 * to a new block keeps the head so it gets zeroed on disk */
				AT(961); if (!buffer_new(map_bh)) {
					AT(962); sdio->next_block_for_io += dio_remainder;
				}
				AT(963); sdio->blocks_available -= dio_remainder;
			}
do_holes:
			/* holes */
			AT(967); if (!buffer_mapped(map_bh)) {
				loff_t i_size_aligned;

				/* writes into holes fall back to buffered I/O */
				AT(971); if (dio_op == REQ_OP_WRITE) {
					AT(972); put_page(page);
					AT(973); return -ENOTBLK;
				}

				/* a partial last block counts as a block */
				AT(980); i_size_aligned = ALIGN(i_size_read(dio->inode),
							1 << blkbits);
				AT(982); if (sdio->block_in_file >=
						static_cast<sector_t>(i_size_aligned >> blkbits)) {
					/* EOF */
					AT(985); put_page(page);
					AT(986); goto out;
				}
				AT(988); zero_user(page, from, 1 << blkbits);
				AT(989); sdio->block_in_file++;
				AT(990); from += 1 << blkbits;
				AT(991); dio->result += 1 << blkbits;
				AT(992); goto next_block;
			}

			/* sub-fs-block alignment: maybe zero the head of this block */
			AT(1000); if (unlikely(sdio->blkfactor && !sdio->start_zero_done)) {
				AT(1001); dio_zero_block(dio, sdio, 0, map_bh);
			}

			/* how much disk fits in this page */
			AT(1007); this_chunk_blocks = sdio->blocks_available;
			AT(1008); u = (to - from) >> blkbits;
			AT(1009); if (this_chunk_blocks > u) {
				AT(1010); this_chunk_blocks = u;
			}
			AT(1011); u = sdio->final_block_in_request - sdio->block_in_file;
			AT(1012); if (this_chunk_blocks > u) {
				AT(1013); this_chunk_blocks = u;
			}
			AT(1014); this_chunk_bytes = this_chunk_blocks << blkbits;
			AT(1015); BUG_ON(this_chunk_bytes == 0);

			AT(1017); if (this_chunk_blocks == sdio->blocks_available) {
				AT(1018); sdio->boundary = buffer_boundary(map_bh);
			}
			AT(1019); ret = submit_page_section(dio, sdio, page,
						  from,
						  this_chunk_bytes,
						  sdio->next_block_for_io,
						  map_bh);
			AT(1024); if (ret) {
				AT(1025); put_page(page);
				AT(1026); goto out;
			}
			AT(1028); sdio->next_block_for_io += this_chunk_blocks;

			AT(1030); sdio->block_in_file += this_chunk_blocks;
			AT(1031); from += this_chunk_bytes;
			AT(1032); dio->result += this_chunk_bytes;
			AT(1033); sdio->blocks_available -= this_chunk_blocks;
next_block:
			AT(1035); BUG_ON(sdio->block_in_file > sdio->final_block_in_request);
			AT(1036); if (sdio->block_in_file == sdio->final_block_in_request) {
				AT(1037); break;
			}
			AT(913);	/* loop test */
		}

		/* drop the get_user_pages reference */
		AT(1041); put_page(page);
		AT(900);	/* loop test */
	}
out:
	AT(1044); return ret;
}

// fs/direct-io.c:1047-1067: drop the submitter's reference under bio_lock (so completions
// can decide to wake it atomically); 0 means we hold the last one and must complete
static inline int drop_refcount(struct dio *dio)
{
	int ret2;
	unsigned long flags;

	AT(1063); spin_lock_irqsave(&dio->bio_lock, flags);
	AT(1064); ret2 = --dio->refcount;
	AT(1065); spin_unlock_irqrestore(&dio->bio_lock, flags);
	AT(1066); return ret2;
}

// fs/direct-io.c:1094-1309: the entry point a filesystem's ->direct_IO calls.
// DIO_LOCKING: reads take and drop i_rwsem here; writes come in holding it. i_dio_count
// is raised for the duration so truncate can wait.
ssize_t __blockdev_direct_IO(struct kiocb *iocb, struct inode *inode,
		struct block_device *bdev, struct iov_iter *iter,
		get_block_t get_block, dio_iodone_t end_io,
		int flags)
{
	AT(1099); unsigned i_blkbits = READ_ONCE(inode->i_blkbits);
	AT(1100); unsigned blkbits = i_blkbits;
	AT(1101); unsigned blocksize_mask = (1 << blkbits) - 1;
	AT(1102); ssize_t retval = -EINVAL;
	AT(1103); const size_t count = iov_iter_count(iter);
	AT(1104); loff_t offset = iocb->ki_pos;
	AT(1105); const loff_t end = offset + count;
	struct dio *dio;
	AT(1107); struct dio_submit sdio = { };	/* kernel: { 0, } (all zero) */
	AT(1108); struct buffer_head map_bh = { 0, };
	struct blk_plug plug;
	AT(1110); unsigned long align = offset | iov_iter_alignment(iter);

	/* zero-length read */
	AT(1118); if (iov_iter_rw(iter) == READ && !count) {
		AT(1119); return 0;
	}

	AT(1121); dio = static_cast<struct dio *>(kmem_cache_alloc(dio_cache, GFP_KERNEL));
	AT(1122); if (!dio) {
		AT(1123); return -ENOMEM;
	}
	/* clear only the fields before pages[] (zeroing pages[] is measurably slow) */
	AT(1129); memset(static_cast<void *>(dio), 0, offsetof(struct dio, pages));

	AT(1131); dio->flags = flags;
	AT(1132); if (dio->flags & DIO_LOCKING && iov_iter_rw(iter) == READ) {
		/* dropped after block lookup below */
		AT(1134); inode_lock(inode);
	}

	/* i_size sampled: reads at or past EOF return 0 */
	AT(1138); dio->i_size = i_size_read(inode);
	AT(1139); if (iov_iter_rw(iter) == READ && offset >= dio->i_size) {
		AT(1140); retval = 0;
		AT(1141); goto fail_dio;
	}

	AT(1144); if (align & blocksize_mask) {
		AT(1145); if (bdev) {
			AT(1146); blkbits = blksize_bits(bdev_logical_block_size(bdev));
		}
		AT(1147); blocksize_mask = (1 << blkbits) - 1;
		AT(1148); if (align & blocksize_mask) {
			AT(1149); goto fail_dio;
		}
	}

	AT(1152); if (dio->flags & DIO_LOCKING && iov_iter_rw(iter) == READ) {
		AT(1153); struct address_space *mapping = iocb->ki_filp->f_mapping;

		AT(1155); retval = filemap_write_and_wait_range(mapping, offset, end - 1);
		AT(1156); if (retval) {
			AT(1157); goto fail_dio;
		}
	}

	/* extending writes wait for the data even under AIO, so i_size never covers
	 * unwritten blocks */
	AT(1166); if (is_sync_kiocb(iocb)) {
		AT(1167); dio->is_async = false;
	} else {
		AT(1168); if (iov_iter_rw(iter) == WRITE && end > i_size_read(inode)) {
			AT(1169); dio->is_async = false;
		} else {
			AT(1171); dio->is_async = true;
		}
	}

	AT(1173); dio->inode = inode;
	AT(1174); if (iov_iter_rw(iter) == WRITE) {
		AT(1175); dio->opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
		AT(1176); if (iocb->ki_flags & IOCB_NOWAIT) {
			AT(1177); dio->opf |= REQ_NOWAIT;
		}
	} else {
		AT(1179); dio->opf = REQ_OP_READ;
	}

	/* AIO O_(D)SYNC writes complete from the workqueue so they can fsync */
	AT(1186); if (dio->is_async && iov_iter_rw(iter) == WRITE) {
		AT(1187); retval = 0;
		AT(1188); if (iocb_is_dsync(iocb)) {
			AT(1189); retval = dio_set_defer_completion(dio);
		} else {
			AT(1190); if (!dio->inode->i_sb->s_dio_done_wq) {
				/* completion may need deferring later (racing buffered
				 * read); the workqueue must exist now */
				AT(1196); retval = sb_init_dio_done_wq(dio->inode->i_sb);
			}
		}
		AT(1198); if (retval) {
			AT(1199); goto fail_dio;
		}
	}

	/* dropped in dio_complete */
	AT(1205); inode_dio_begin(inode);

	AT(1207); retval = 0;
	AT(1208); sdio.blkbits = blkbits;
	AT(1209); sdio.blkfactor = i_blkbits - blkbits;
	AT(1210); sdio.block_in_file = offset >> blkbits;

	AT(1212); sdio.get_block = get_block;
	AT(1213); dio->end_io = end_io;
	AT(1214); sdio.final_block_in_bio = -1;
	AT(1215); sdio.next_block_for_io = -1;

	AT(1217); dio->iocb = iocb;

	AT(1219); spin_lock_init(&dio->bio_lock);
	AT(1220); dio->refcount = 1;

	AT(1222); dio->should_dirty = user_backed_iter(iter) && iov_iter_rw(iter) == READ;
	AT(1223); sdio.iter = iter;
	AT(1224); sdio.final_block_in_request = end >> blkbits;

	/* unaligned buffers may need two extra pages for head and tail zeroing */
	AT(1230); if (unlikely(sdio.blkfactor)) {
		AT(1231); sdio.pages_in_io = 2;
	}

	AT(1233); sdio.pages_in_io += iov_iter_npages(iter, INT_MAX);

	AT(1235); blk_start_plug(&plug);

	AT(1237); retval = do_direct_IO(dio, &sdio, &map_bh);
	AT(1238); if (retval) {
		AT(1239); dio_cleanup(dio, &sdio);
	}

	AT(1241); if (retval == -ENOTBLK) {
		/* the caller does the rest with buffered I/O */
		AT(1246); retval = 0;
	}
	/* zero the tail of a partly written new fs block */
	AT(1252); dio_zero_block(dio, &sdio, 1, &map_bh);

	AT(1254); if (sdio.cur_page) {
		ssize_t ret2;

		AT(1257); ret2 = dio_send_cur_page(dio, &sdio, &map_bh);
		AT(1258); if (retval == 0) {
			AT(1259); retval = ret2;
		}
		AT(1260); put_page(sdio.cur_page);
		AT(1261); sdio.cur_page = NULL;
	}
	AT(1263); if (sdio.bio) {
		AT(1264); dio_bio_submit(dio, &sdio);
	}

	AT(1266); blk_finish_plug(&plug);

	/* a short I/O (EOF) may leave pinned pages queued */
	AT(1272); dio_cleanup(dio, &sdio);

	/* lookups are done: a DIO_LOCKING read can drop i_rwsem */
	AT(1279); if (iov_iter_rw(iter) == READ && (dio->flags & DIO_LOCKING)) {
		AT(1280); inode_unlock(dio->inode);
	}

	/* bios stay in flight only for a queued AIO (partial read or full write);
	 * this is the one place -EIOCBQUEUED comes from */
	AT(1289); BUG_ON(retval == -EIOCBQUEUED);
	AT(1290); if (dio->is_async && retval == 0 && dio->result &&
	    (iov_iter_rw(iter) == READ || static_cast<size_t>(dio->result) == count)) {
		AT(1292); retval = -EIOCBQUEUED;
	} else {
		AT(1294); dio_await_completion(dio);
	}

	AT(1296); if (drop_refcount(dio) == 0) {
		AT(1297); retval = dio_complete(dio, retval, DIO_COMPLETE_INVALIDATE);
	} else {
		AT(1299); BUG_ON(retval != -EIOCBQUEUED);
	}

	AT(1301); return retval;

fail_dio:
	AT(1304); if (dio->flags & DIO_LOCKING && iov_iter_rw(iter) == READ) {
		AT(1305); inode_unlock(inode);
	}

	AT(1307); kmem_cache_free(dio_cache, dio);
	AT(1308); return retval;
}
// fs/direct-io.c:1310 EXPORT_SYMBOL: not needed; the header declares it.

// diosim additions, defined at the end of the file.
static void dio_inspect(const void *obj, FieldView &out);
static bool assert_dio_state(const void *obj, std::string &why);

// fs/direct-io.c:1312-1316 (module_init). Not static: the world calls it once per run.
// No AT markers: it runs outside any simulated context.
int dio_init(void)
{
	dio_cache = KMEM_CACHE(dio, SLAB_PANIC);
	dio_cache->inspect = dio_inspect;
	dio_cache->check = assert_dio_state;
	return 0;
}

// ---------------------------------------------------------------------------------------
// diosim additions (not in fs/direct-io.c): the slab inspector and assert_dio_state that
// the runtime calls on every live struct dio after each step.

// struct dio must stay standard-layout: container_of() on complete_work uses offsetof.
static_assert(std::is_standard_layout_v<struct dio>, "struct dio must be standard-layout");

// New slab objects are filled with 0x5a until the memset at line 1129 (sim/kernel/slab.hpp).
static constexpr unsigned long kSlabPoison = 0x5a5a5a5a5a5a5a5aUL;
// A bio_list longer than this is a cycle, not a queue.
static constexpr int64_t kBioListWalkMax = 1 << 20;

static void dio_inspect(const void *obj, FieldView &out)
{
	const struct dio *d = static_cast<const struct dio *>(obj);
	const bool poisoned = d->refcount.peek() == kSlabPoison;
	int64_t bio_list_len = 0;

	if (!poisoned)
		for (const struct bio *b = d->bio_list.peek(); b && bio_list_len < kBioListWalkMax;
		     b = static_cast<const struct bio *>(b->bi_private))
			bio_list_len++;
	out.add("refcount", static_cast<int64_t>(d->refcount.peek()));
	out.add("bio_list_len", bio_list_len);
	out.add("waiter", d->waiter.peek() ? 1 : 0);
	out.add("is_async", d->is_async.peek());
	out.add("defer_completion", d->defer_completion.peek());
	out.add("result", d->result.peek());
	out.add("io_error", d->io_error.peek());
	out.add("page_errors", d->page_errors.peek());
	out.add("should_dirty", d->should_dirty.peek());
}

// assert_dio_state: false, with both operands in `why`, when the dio is inconsistent.
static bool assert_dio_state(const void *obj, std::string &why)
{
	const struct dio *d = static_cast<const struct dio *>(obj);

	if (d->refcount.peek() == kSlabPoison)
		return true;	/* allocated, not yet initialised (no step in between today) */
	if (d->refcount.peek() > (1UL << 40)) {
		why = "dio->refcount underflowed: refcount = " + std::to_string(d->refcount.peek()) +
		      " > 1<<40 = " + std::to_string(1UL << 40);
		return false;
	}
	if (d->result.peek() < 0) {
		why = "dio->result negative: result = " + std::to_string(d->result.peek()) + " < 0";
		return false;
	}
	return true;
}

} // namespace kern
