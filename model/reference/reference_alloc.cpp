// SPDX-License-Identifier: GPL-2.0-only
// Reference model: where the allocator puts new blocks (R-FS-ALLOC, R-FS-EXT2-PLACE). Placement
// decides which mappings are physically contiguous, hence the bios' shape and which sectors a
// disk error rule hits.
// R-FS-ALLOC: a disk block is free unless it lies below first_free_block, in used_blocks, or was
// ever allocated in this run (freed blocks are not handed out again). An allocation takes the
// first free block at or after its goal and the free blocks right after it. The extent and
// ocfs2 models' goal is a cursor that only grows and never wraps; ext2's (R-FS-EXT2-PLACE) is
// Linux 6.1's ext2_find_goal, wrapping to the disk's start, and the indirect blocks missing on
// the path are taken in the same run, in front of the data (ext2_alloc_blocks).
#include "model/reference/reference_detail.hpp"

#include <algorithm>
#include <iterator>

namespace diosim::model::refm {

namespace {
constexpr uint64_t kDirect = 12;

// `taken` holds disjoint runs first -> end; they stay few (allocations come in runs).
bool in_runs(const std::map<uint64_t, uint64_t>& runs, uint64_t d) {
  auto it = runs.upper_bound(d);
  return it != runs.begin() && std::prev(it)->second > d;
}

void add_run(std::map<uint64_t, uint64_t>& runs, uint64_t first, uint64_t end) {
  auto next = runs.find(end);
  if (next != runs.end()) { // merge with the run right after
    end = next->second;
    runs.erase(next);
  }
  auto it = runs.lower_bound(first);
  if (it != runs.begin() && std::prev(it)->second == first) // and with the run right before
    std::prev(it)->second = end;
  else
    runs[first] = end;
}

void remove_block(std::map<uint64_t, uint64_t>& runs, uint64_t d) {
  auto it = std::prev(runs.upper_bound(d));
  const uint64_t first = it->first, end = it->second;
  runs.erase(it);
  if (first < d) runs[first] = d;
  if (d + 1 < end) runs[d + 1] = end;
}
} // namespace

uint64_t Model::first_free() const {
  uint64_t last_used = 0;
  for (const scenario::Extent& e : spec.extents)
    last_used = std::max(last_used, e.disk_block + e.blocks);
  return spec.fs.first_free_block ? spec.fs.first_free_block : last_used;
}

bool Model::disk_free(const FileState& f, uint64_t d) const {
  if (d < first_free() || in_runs(f.taken, d)) return false;
  for (const scenario::DiskRun& u : spec.fs.used_blocks)
    if (d >= u.disk_block && d < u.disk_block + u.blocks) return false;
  return true;
}

int64_t Model::take_run(FileState& f, uint64_t goal, uint64_t count, bool wrap,
                        uint64_t* got) const {
  uint64_t d = std::max(goal, first_free());
  while (d < g.disk_blocks && !disk_free(f, d))
    ++d;
  if (d >= g.disk_blocks) {
    if (!wrap) return kENOSPC;
    for (d = first_free(); d < goal && !disk_free(f, d);)
      ++d;
    if (d >= goal) return kENOSPC;
  }
  uint64_t n = 0;
  while (n < count && d + n < g.disk_blocks && disk_free(f, d + n))
    ++n;
  add_run(f.taken, d, d + n);
  *got = n;
  return static_cast<int64_t>(d);
}

// ext2_block_to_path: the indirect blocks on a file block's path, top first, each named by the
// first file block it covers and how many it covers.
std::vector<IndKey> Model::ext2_path(uint64_t fb) const {
  const uint64_t ptrs = g.bs / 4;
  std::vector<IndKey> out;
  if (fb < kDirect) return out;
  uint64_t base = kDirect, span = ptrs, rel = fb - kDirect;
  for (; rel >= span; span *= ptrs) {
    rel -= span;
    base += span;
  }
  for (uint64_t sp = span; sp >= ptrs; sp /= ptrs)
    out.emplace_back(base + rel / sp * sp, sp);
  return out;
}

// ext2_find_goal / ext2_find_near: the sequential hint, else the nearest pointer to the left
// in the array holding the first missing slot, else that array's indirect block, else
// first_free_block (one block group; an indirect block placed off the model counts as that).
uint64_t Model::ext2_goal(const FileState& f, uint64_t fb, const std::vector<IndKey>& path,
                          size_t missing) const {
  if (f.last_physical != 0 && fb == f.last_logical + 1) return f.last_physical + 1;
  const uint64_t ff = first_free();
  auto at = [&](int64_t d) { return d < 0 ? ff : static_cast<uint64_t>(d); };
  if (missing == path.size()) {
    for (uint64_t b = fb; b-- > (path.empty() ? 0 : path.back().first);)
      if (auto it = f.map.find(b); it != f.map.end()) return at(it->second);
    return path.empty() ? ff : at(f.indirect.at(path.back()));
  }
  const IndKey want = path[missing];
  if (missing > 0) {
    for (uint64_t s = want.first; s > path[missing - 1].first;)
      if (auto it = f.indirect.find({s -= want.second, want.second}); it != f.indirect.end())
        return at(it->second);
    return at(f.indirect.at(path[missing - 1]));
  }
  for (const auto& [key, d] : f.indirect)
    if (key.second * (g.bs / 4) == want.second && key.first + key.second == want.first)
      return at(d);
  for (uint64_t b = kDirect; b-- > 0;)
    if (auto it = f.map.find(b); it != f.map.end()) return at(it->second);
  return ff;
}

// The first disk block of a run of at most `want` new blocks for file block `fb` (all holes);
// maps them (content: the stale pattern) and sets *got.
int64_t Model::allocate(FileState& f, uint64_t fb, uint64_t want, uint64_t* got) const {
  if (spec.fs.model == scenario::FsModel::vfat) return vfat_allocate(f, fb, want, got);
  int64_t data = kENOSPC;
  if (spec.fs.model != scenario::FsModel::ext2) {
    data = take_run(f, f.next_free, want, false, got);
    if (data < 0) return data;
    f.next_free = static_cast<uint64_t>(data) + *got;
  } else {
    const std::vector<IndKey> path = ext2_path(fb);
    size_t missing = 0;
    while (missing < path.size() && f.indirect.count(path[missing]))
      ++missing;
    const uint64_t goal = ext2_goal(f, fb, path, missing);
    std::vector<uint64_t> ind;
    uint64_t target = path.size() - missing + want, n = 0;
    while (data < 0) {
      int64_t cur = take_run(f, goal, target, true, &n);
      if (cur < 0) {
        for (uint64_t d : ind)
          remove_block(f.taken, d);
        return cur;
      }
      target -= n;
      for (; ind.size() < path.size() - missing && n; --n)
        ind.push_back(static_cast<uint64_t>(cur++));
      if (n) data = cur;
    }
    for (size_t i = 0; i < ind.size(); ++i)
      f.indirect[path[missing + i]] = static_cast<int64_t>(ind[i]);
    *got = n;
    f.last_logical = fb + n - 1;
    f.last_physical = static_cast<uint64_t>(data) + n - 1;
  }
  for (uint64_t i = 0; i < *got; ++i) {
    f.map[fb + i] = data + static_cast<int64_t>(i);
    f.content[fb + i] = Cells(g.bs, g.stale);
    if (f.alloc_uncertain) f.disk_uncertain.insert(fb + i);
  }
  return data;
}

// ------------------------------------------------------------------------ R-FS-VFAT
// fat_bmap maps at most to a cluster's end and never past the block holding i_size (create:
// mmu_private). Allocation (the buffered path) takes a whole cluster-aligned free cluster
// next-fit from the cursor, wrapping to first_free_block; mmu_private grows by the blocks asked
// for; a cluster's blocks at or past mmu_private stay in `reserve` (read as a hole; taken as
// new blocks later). Truncation frees the clusters wholly past the size.

uint64_t Model::vfat_cb() const {
  return spec.fs.cluster_size ? spec.fs.cluster_size / g.bs : 1;
}

uint64_t Model::vfat_limit(const FileState& f, uint64_t fb, bool create) const {
  uint64_t last = (static_cast<uint64_t>(f.i_size) + g.bs - 1) / g.bs;
  if (fb >= last && create) last = (f.mmu_private + g.bs - 1) / g.bs;
  if (fb >= last) return 0;
  return std::min(vfat_cb() - fb % vfat_cb(), last - fb);
}

void Model::vfat_settle(FileState& f, uint64_t fb) const {
  const uint64_t cb = vfat_cb(), first = fb / cb * cb;
  const uint64_t init = (f.mmu_private + g.bs - 1) / g.bs;
  for (uint64_t b = first; b < first + cb; ++b) {
    // The disk keeps its bytes while a block waits in `reserve` (allocating a cluster writes
    // nothing): an extent's data past mmu_private is still there when the block is taken.
    if (b < init) {
      if (auto it = f.reserve.find(b); it != f.reserve.end()) {
        f.map[b] = it->second;
        auto c = f.reserve_content.find(b);
        f.content[b] = c != f.reserve_content.end() ? c->second : Cow<Cells>(Cells(g.bs, g.stale));
        if (c != f.reserve_content.end()) f.reserve_content.erase(c);
        f.reserve.erase(it);
      }
    } else if (auto it = f.map.find(b); it != f.map.end()) {
      f.reserve[b] = it->second;
      f.map.erase(it);
      if (auto c = f.content.find(b); c != f.content.end()) {
        f.reserve_content.insert_or_assign(b, c->second);
        f.content.erase(c);
      }
    }
  }
}

int64_t Model::vfat_allocate(FileState& f, uint64_t fb, uint64_t want, uint64_t* got) const {
  const uint64_t cb = vfat_cb(), first = fb / cb * cb;
  if (!f.reserve.count(fb)) {
    auto cluster_free = [&](uint64_t d) {
      for (uint64_t i = 0; i < cb; ++i)
        if (!disk_free(f, d + i)) return false;
      return true;
    };
    const uint64_t lo = (first_free() + cb - 1) / cb * cb;
    const uint64_t cursor = std::max(lo, (f.next_free + cb - 1) / cb * cb);
    uint64_t d = cursor;
    while (d + cb <= g.disk_blocks && !cluster_free(d))
      d += cb;
    if (d + cb > g.disk_blocks)
      for (d = lo; d < cursor && !cluster_free(d);)
        d += cb;
    if (d + cb > g.disk_blocks || (d >= cursor && !cluster_free(d))) return kENOSPC;
    uint64_t n = 0;
    take_run(f, d, cb, false, &n);
    for (uint64_t i = 0; i < cb; ++i)
      f.reserve[first + i] = static_cast<int64_t>(d + i);
    f.next_free = d + cb;
  }
  *got = std::min(want, first + cb - fb);
  f.mmu_private = std::max(f.mmu_private, (fb + *got) * g.bs);
  vfat_settle(f, fb);
  for (uint64_t i = 0; i < *got; ++i)
    if (f.alloc_uncertain) f.disk_uncertain.insert(fb + i);
  return f.map.at(fb);
}

void Model::vfat_truncate(FileState& f, int64_t size) const {
  const uint64_t cb = vfat_cb();
  const uint64_t keep = (static_cast<uint64_t>(size) + cb * g.bs - 1) / (cb * g.bs) * cb;
  f.map.erase(f.map.lower_bound(keep), f.map.end());
  f.content.erase(f.content.lower_bound(keep), f.content.end());
  f.reserve.erase(f.reserve.lower_bound(keep), f.reserve.end());
  f.reserve_content.erase(f.reserve_content.lower_bound(keep), f.reserve_content.end());
  f.mmu_private = std::min(f.mmu_private, static_cast<uint64_t>(size));
  if (keep) vfat_settle(f, keep - 1);
}

} // namespace diosim::model::refm
