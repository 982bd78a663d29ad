// SPDX-License-Identifier: GPL-2.0-only
// RapidCheck generators for whole, valid scenarios (docs/SCENARIOS.md), for property tests
// (tests/properties_test.cpp) and `diosim fuzz` (model/search/fuzz.hpp).
//
// Owns: what a random scenario looks like. A scenario is generated as a few "raw" parts made of
// plain shrinkable numbers and choices (the tasks, the disk, the filesystem, the file, the
// buffers, the geometry, the mode and seed), and assembled by a pure function that places
// everything so that every rule of sim/scenario/scenario.cpp holds by construction: extents laid
// out one after another on the file and on the disk, buffers 1 MiB apart and sized to the iovecs
// that use them, unmapped pages inside their buffer, error sectors on the disk, fields that only
// one filesystem model accepts dropped for the others. Also generated: vfat files (clusters
// covering i_size), ocfs2 with and without unwritten extents, serialised unaligned AIO,
// fragmented free space (used_blocks), allocation failures, cached pages whose writeback fails,
// explore fault points, and task control: a barrier every task reaches once, reaps that take N
// events (never more than the task has submitted and not yet reaped, so none waits forever), and
// a reaper task that shares task0's AIO context and takes its events one at a time (task0 then
// does not reap), and (more_ops) the fd, inode and mmap ops inserted at random places in the
// tasks. `repeat` blocks need no generator: the parser expands them into plain ops.
//
// Shrinking: every choice shrinks towards its first alternative, which is the kernel default
// or the simplest case (ext2, timed mode, no flags, aligned sizes); lists shrink by dropping
// elements (fewer tasks, fewer operations, fewer iovecs, fewer extents, fewer error rules) and
// then element by element; byte counts shrink through 4 KiB multiples first, then 512-byte
// multiples, then single bytes, so a shrunk counterexample is as aligned as it can be and still
// as small as it can be. The parts are independent of each other (byte counts do not depend on
// the geometry; assemble places them), so every part, the geometry included, keeps shrinking
// towards its defaults at every step.
//
// Thread safety: the generators use no RapidCheck implicit parameters (no gen::exec, no `*gen`),
// so a Gen built on one thread and Shrinkables drawn from it may be used on other threads as
// long as each Shrinkable is used by one thread at a time.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace diosim::model {

struct GenOptions {
  unsigned max_tasks = 3;  // 1 .. 3
  unsigned max_ops = 4;    // operations per task, 1 .. 8
  bool disk_errors = true; // may generate disk.errors rules
  // Insert a reap before any operation that overlaps (in file pages or user-buffer pages) an
  // AIO operation of the same task that may still be in flight, so that with one task and no
  // disk error rules nothing the run returns can depend on timing.
  bool serialize_overlapping_aio = false;
  std::optional<scenario::Mode> mode; // force the mode (default: timed or explore)
  // Features that can be switched off (all on by default).
  bool set_private = true;      // filesystem.set_private
  bool small_disks = true;      // disks that end just past the layout, so allocation hits ENOSPC
  bool write_faults = true;     // unmapped pages in buffers a pwrite uses (else only reads fault)
  bool nowait = true;           // RWF_NOWAIT operations
  bool dirty_pages = true;      // dirty pages in the initial page cache
  bool busy_pages = true;       // busy (uninvalidatable) pages in the initial page cache
  bool extents_past_eof = true; // extents reaching past i_size (preallocated blocks)
  bool sub_page_blocks = true;  // fs blocks smaller than a page (else fs_block_size == page_size)
  // Iovecs of one read that point at the same user bytes. Their bios race to fill those bytes,
  // so what the buffer holds afterwards depends on completion order; when false, a segment that
  // would alias an earlier one of its read is moved past everything its buffer holds so far.
  bool aliasing_reads = true;
  // "explore_faults": fault points decided by the run's chooser (in a seeded run, at random), so
  // results then depend on the seed.
  bool explore_faults = true;
  bool alloc_failures = true;   // "alloc_failures" (-ENOMEM at the nth allocation of a site)
  bool writeback_errors = true; // cached pages whose writeback fails
  bool task_control = true;     // barriers, reaps of N events, a reaper sharing an AIO context
  // A second, empty file ("files": "file2") that the second task's ops act on, in about one
  // case in four with two tasks or more (decided from the drawn seed, so switching it off
  // leaves every other case as it was).
  bool two_files = true;
  // The ops beyond pread/pwrite/reap: fcntl O_DIRECT toggles (so buffered read/write/readv/
  // writev), ftruncate, fallocate (KEEP_SIZE, PUNCH_HOLE), fsync/fdatasync, close, io_cancel,
  // io_destroy, chattr +S/-S, mmap_read/mmap_write, and fds opened without O_DIRECT or with
  // O_APPEND. Drawn as a raw part of their own (the last), so switching them off leaves every
  // other case as it was.
  bool more_ops = true;
};

// A whole scenario; passes parse_scenario after to_json. Name "generated", no expectations.
rc::Gen<scenario::ScenarioSpec> gen_scenario(const GenOptions& options = {});

// The geometry alone: page / fs block / logical block sizes from a few configurations (the
// kernel's first) and tiny tunables (dio_pages, bio_max_vecs, reap_threshold, plug_limit
// each either the default or 1 .. 4). disk_blocks is left at its default.
rc::Gen<scenario::Geometry> gen_geometry();

// Building blocks (exposed for tests).
// An index drawn with the given weights; shrinks towards 0.
rc::Gen<size_t> gen_choice(std::vector<unsigned> weights);
// A uniform integer in [lo, hi]; shrinks towards lo. Ignores the generation size.
rc::Gen<uint64_t> gen_uniform(uint64_t lo, uint64_t hi);
// True with probability percent/100; shrinks to false.
rc::Gen<bool> gen_flag(unsigned percent);
// A byte count in [0, max_bytes]: mostly whole 4 KiB, sometimes whole KiB, 512-byte sectors,
// odd bytes, or zero (weights in that order). Shrinks towards 0 through whole 4 KiB, then
// sectors, then bytes.
rc::Gen<uint64_t> gen_bytes(uint64_t max_bytes,
                            std::vector<unsigned> weights = {60, 15, 10, 10, 5});

// The shrinks gen_bytes uses for `value` (aligned candidates first), exposed for tests.
rc::Seq<uint64_t> shrink_bytes(uint64_t value, uint64_t block);

} // namespace diosim::model
