// SPDX-License-Identifier: GPL-2.0-only
// The reference model for several files (scenario "files"): one statement per file, from the
// file's view of the scenario (scenario_files.hpp). Rule R-FILES (docs/SEMANTICS.md): files
// share only the disk's free space (one allocator), user memory, the AIO contexts and the
// barriers. Their i_size, block maps, page caches and inode locks are separate, and a disk
// block belongs to one file, so an op on file A cannot change what an op on file B reads,
// writes or returns -- unless the disk may run out (which allocation meets ENOSPC depends on
// how the files' allocations interleave: R-FILES-SPACE), a fault is placed by a run-wide count
// (the nth allocation, the nth bio, a sector whose owner depends on allocation order:
// R-FILES-ORDER), or an op on B uses user memory a read of A fills (R-FILES-MEMORY). Those
// cases withdraw the statement: the file's ops and contents are not checked, the run is not
// exact.
#include "model/reference/reference.hpp"
#include "sim/scenario/scenario_files.hpp"

#include <algorithm>

namespace diosim::model {

namespace {

using scenario::FsModel;
using scenario::OpKind;

// Disk blocks the allocator may hand out at the start: from first_free_block on, less
// used_blocks (merged, since runs may overlap).
uint64_t free_blocks(const scenario::ScenarioSpec& spec) {
  const uint64_t start = spec.fs.first_free_block, end = spec.geometry.disk_blocks;
  if (start >= end) return 0;
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (const scenario::DiskRun& u : spec.fs.used_blocks)
    runs.emplace_back(std::max(u.disk_block, start), std::min(u.disk_block + u.blocks, end));
  std::sort(runs.begin(), runs.end());
  uint64_t used = 0, covered = start;
  for (const auto& [b, e] : runs) {
    const uint64_t from = std::max(b, covered);
    if (e > from) used += e - from, covered = e;
  }
  return end - start - used;
}

// An upper bound on the blocks file `file`'s ops can allocate, whatever the interleaving: each
// write or preallocation allocates at most the blocks it covers (freed blocks are never handed
// out again, so a block is allocated once), ext2 adds indirect blocks, vfat whole clusters.
uint64_t demand_blocks(const scenario::ScenarioSpec& spec, size_t file) {
  const uint64_t bs = spec.geometry.fs_block_size;
  const uint64_t cb =
      spec.fs.model == FsModel::vfat && spec.fs.cluster_size ? spec.fs.cluster_size / bs : 1;
  uint64_t total = 0;
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops) {
      if (!scenario::op_has_file(op) || scenario::file_of(spec, t, op) != file) continue;
      uint64_t first = 0, end = 0; // bytes the op may allocate under
      if (op.kind == OpKind::pwrite) {
        uint64_t len = 0;
        for (const scenario::IoVec& v : op.iov)
          len += v.len;
        first = op.append ? 0 : op.offset; // an append lands anywhere: count a spare block
        end = op.append ? len + bs : op.offset + len;
      } else if ((op.kind == OpKind::fallocate && !op.punch_hole) ||
                 (op.kind == OpKind::ftruncate && spec.fs.model == FsModel::vfat)) {
        first = op.kind == OpKind::fallocate ? op.offset : 0; // vfat: fat_cont_expand fills
        end = op.kind == OpKind::fallocate ? op.offset + op.length : op.length;
      }
      if (end <= first) continue;
      uint64_t blocks = (end + bs - 1) / bs - first / bs;
      if (spec.fs.model == FsModel::ext2) blocks += blocks / (bs / 4) + 3; // indirect blocks
      if (cb > 1) blocks = (blocks / cb + 2) * cb;                         // whole clusters
      total += blocks;
    }
  return total;
}

// The file's statement withdrawn: nothing about its ops or contents is checked.
void withdraw(ExpectedRun& run, const std::string& rule, const std::string& why) {
  for (ExpectedOp& e : run.ops) {
    e = ExpectedOp();
    e.rules = {rule};
  }
  run.file.alternatives.clear();
  run.file.free = {{0, run.file.size}};
  run.allowed_final_i_size.clear();
  run.exact = false;
  run.why_not_exact += (run.why_not_exact.empty() ? "" : "; ") + why;
}

// Why a fault of the scenario is placed by a run-wide count or by disk position; empty: none.
std::string order_dependent_faults(const scenario::ScenarioSpec& spec) {
  if (!spec.alloc_failures.empty())
    return "alloc_failures count allocations across all files (R-FILES-ORDER)";
  if (!spec.disk.errors.empty())
    return "disk errors fall on bios or sectors whose file depends on how the files' I/O and "
           "allocations interleave (R-FILES-ORDER)";
  return ""; // get_block_error names a file block: the same rule holds in every file's view
}

// Whether an op on file `file` uses user memory that a read of another file fills: the user
// buffers are shared, so the bytes such an op sees (a write's source, a read's final buffer)
// depend on the other file, which the file's view does not hold (R-FILES-MEMORY).
bool memory_coupled(const scenario::ScenarioSpec& spec, size_t file) {
  struct Use {
    size_t file;
    bool read;
    const scenario::IoVec* v;
  };
  std::vector<Use> uses;
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops)
      if (op.kind == OpKind::pread || op.kind == OpKind::pwrite)
        for (const scenario::IoVec& v : op.iov)
          uses.push_back({scenario::file_of(spec, t, op), op.kind == OpKind::pread, &v});
  for (const Use& a : uses)
    for (const Use& b : uses)
      if (a.file == file && b.file != file && b.read && a.v->buffer == b.v->buffer &&
          a.v->offset < b.v->offset + b.v->len && b.v->offset < a.v->offset + a.v->len)
        return true;
  return false;
}

// Whether a buffer maps one file and an op on another file uses it: the op faults the mapped
// file's pages in (and a read into a shared mapping dirties them), which the other file's view
// does not see, and what the buffer shows depends on the mapped file (R-MMAP-BUF-OTHER-FILE).
bool mapping_coupled(const scenario::ScenarioSpec& spec, size_t file) {
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops)
      for (const scenario::IoVec& v : op.iov)
        for (const scenario::Buffer& b : spec.buffers) {
          if (b.name != v.buffer || !b.mmap) continue;
          const size_t mapped = scenario::file_index(spec, b.mmap->file);
          const size_t used = scenario::file_of(spec, t, op);
          if (mapped != used && (mapped == file || used == file)) return true;
        }
  return false;
}

} // namespace

std::vector<FileReference> reference_outcomes(const scenario::ScenarioSpec& spec) {
  std::vector<FileReference> out;
  uint64_t demand = 0;
  for (size_t k = 0; k < scenario::file_count(spec); ++k)
    demand += demand_blocks(spec, k);
  const uint64_t free = free_blocks(spec);
  const std::string order = order_dependent_faults(spec);
  for (size_t k = 0; k < scenario::file_count(spec); ++k) {
    FileReference r;
    scenario::FileView v = scenario::file_view(spec, k, true);
    r.view = std::move(v.spec);
    r.op_of = std::move(v.op_of);
    r.expected = reference_outcome(r.view);
    if (spec.files.empty()) {
      // one file: the model as it always was
    } else if (demand > free) {
      withdraw(r.expected, "R-FILES-SPACE",
               "the files may need up to " + std::to_string(demand) + " blocks but " +
                   std::to_string(free) +
                   " are free: which allocation meets ENOSPC depends on how they interleave "
                   "(R-FILES-SPACE)");
    } else if (!order.empty()) {
      withdraw(r.expected, "R-FILES-ORDER", order);
    } else if (mapping_coupled(spec, k)) {
      withdraw(r.expected, "R-MMAP-BUF-OTHER-FILE",
               "a buffer maps one file and an operation on another file uses it "
               "(R-MMAP-BUF-OTHER-FILE)");
    } else if (memory_coupled(spec, k)) {
      withdraw(r.expected, "R-FILES-MEMORY",
               "an operation on " + scenario::file_name(spec, k) +
                   " uses user memory a read of another file fills (R-FILES-MEMORY)");
    }
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace diosim::model
