// SPDX-License-Identifier: GPL-2.0-only
#include "model/check/session.hpp"

#include "model/check/expectations.hpp"
#include "model/check/invariants.hpp"
#include "sim/dio/direct_io.hpp"
#include "sim/world/world.hpp"

#include <cstring>

namespace diosim::model {
namespace {

kern::Tunables tunables_of(const scenario::ScenarioSpec& spec) {
  kern::Tunables tun;
  tun.page_size = spec.geometry.page_size;
  tun.dio_pages = spec.geometry.dio_pages;
  tun.bio_max_vecs = spec.geometry.bio_max_vecs;
  tun.reap_threshold = spec.geometry.reap_threshold;
  tun.plug_limit = spec.geometry.plug_limit;
  tun.cpus = spec.geometry.cpus;
  tun.explore_user_page_faults = spec.explore_faults.user_page_fault;
  return tun;
}

// FNV-1a, folded over the values that make up a terminal state.
struct Hash {
  uint64_t h = 1469598103934665603ull;
  void add(uint64_t v) {
    for (int i = 0; i < 8; ++i, v >>= 8) {
      h ^= v & 0xff;
      h *= 1099511628211ull;
    }
  }
  // One word a step (FNV-style mixing of words).
  void add_word(uint64_t w) {
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 29;
  }
  // Bytes in four independent lanes of words, folded at the end: file images and op data are
  // hashed every execution, and four lanes let the multiplies overlap.
  void add_bytes(const uint8_t* p, size_t n) {
    uint64_t lane[4] = {h, h ^ 0x9e3779b97f4a7c15ull, h ^ 0xc2b2ae3d27d4eb4full,
                        h ^ 0x165667b19e3779f9ull};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
      for (int k = 0; k < 4; ++k) {
        uint64_t w;
        std::memcpy(&w, p + i + 8 * static_cast<size_t>(k), 8);
        lane[k] = (lane[k] ^ w) * 1099511628211ull;
        lane[k] ^= lane[k] >> 29;
      }
    h = lane[0];
    for (int k = 1; k < 4; ++k)
      add_word(lane[k]);
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      add_word(w);
    }
    for (; i < n; ++i)
      h = (h ^ p[i]) * 1099511628211ull;
  }
  // Bytes that all hold one value hash as that value (a memcmp is cheaper than hashing them):
  // a filled buffer or block costs a compare, and equal bytes still hash equal.
  void add_content(const uint8_t* p, size_t n) {
    if (n && p[0] == p[n - 1] && std::memcmp(p, p + 1, n - 1) == 0)
      add_word(0x100u | p[0]);
    else
      add_bytes(p, n);
  }
  void add(const std::vector<uint8_t>& bytes) {
    add(bytes.size());
    add_content(bytes.data(), bytes.size());
  }
};

} // namespace

uint64_t final_file_end(const scenario::ScenarioSpec& spec, int64_t i_size) {
  uint64_t end = static_cast<uint64_t>(std::max<int64_t>(i_size, spec.i_size));
  for (const scenario::Task& t : spec.tasks)
    for (const scenario::Operation& op : t.ops) {
      uint64_t len = 0;
      for (const scenario::IoVec& v : op.iov)
        len += v.len;
      end = std::max(end, op.offset + len);
    }
  const uint64_t bs = spec.geometry.fs_block_size;
  for (const scenario::Extent& e : spec.extents)
    end = std::max(end, (e.file_block + e.blocks) * bs);
  return (end + bs - 1) / bs * bs;
}

FileImage final_file_image(const world::World& w, uint64_t end, size_t file) {
  FileImage image;
  image.size = end;
  image.pieces.reserve(8); // one allocation for a typical file, not one per doubling
  w.visit_file(
      0, end,
      [&](uint64_t pos, uint64_t n, const uint8_t* bytes, uint8_t fill,
          const std::shared_ptr<const void>& keep) {
        if (bytes)
          image.add_bytes(pos, n, bytes, keep);
        else
          image.add_fill(pos, n, fill);
      },
      file);
  return image;
}

thread_local const std::vector<engine::Transition>* Session::live_ = nullptr;

Session::Session(scenario::ScenarioSpec spec, bool check_model)
    : spec_(std::move(spec)), tunables_(tunables_of(spec_)), check_model_(check_model) {
  if (spec_.schedule) {
    std::string error;
    pinned_ = engine::ScheduleToken::parse(*spec_.schedule, &error);
    if (!pinned_) throw scenario::ScenarioError(spec_.path + ": /schedule: " + error);
  }
  if (check_model_ && spec_.files.empty()) expected_ = reference_outcome(spec_);
  if (check_model_ && !spec_.files.empty()) file_refs_ = reference_outcomes(spec_);
  initial_disk_ = std::make_shared<const world::DiskImage>(world::DiskImage::initial(spec_));
  initial_memory_ = std::make_shared<const world::UserMemoryImage>(spec_);
  file_views_ = std::make_shared<const world::FileViews>(world::build_file_views(spec_));
}

void Session::judge(const engine::Scheduler& sched, const kern::Kernel& kernel,
                    const world::World& w, ExecSummary& out) const {
  out.violation = check_end_of_run(kernel, w);
  if (out.violation) return;
  // An explored fault (a bio error, a get_block error, a user page fault chosen during the run)
  // is not in the scenario, so neither the scenario's expectations nor the reference model,
  // which know only the scenario, apply: such executions are judged by the invariants alone.
  if (sched.faults_injected() > 0) return;
  out.failed_expectations = check_expectations(spec_, w, kernel.bios_allocated);
  if (!expected_ && file_refs_.empty()) return;
  std::vector<std::string> mismatches;
  if (expected_) {
    std::vector<ActualOp> actual;
    actual.reserve(w.outcomes().size());
    for (const world::OpOutcome& o : w.outcomes())
      actual.push_back({o.ret, o.submit_ret, o.data, o.i_size_after});
    const FileImage file = final_file_image(w, expected_->file.size);
    mismatches = compare_with_reference(spec_, *expected_, actual, file, w.inode().i_size);
  } else {
    mismatches = compare_files(w);
  }
  if (mismatches.empty()) return;
  std::string msg;
  for (const std::string& m : mismatches)
    msg += (msg.empty() ? "" : "\n  ") + m;
  out.violation = engine::Violation{"reference-model", 0, msg, sched.step(), 0};
}

std::vector<std::string> Session::compare_files(const world::World& w) const {
  std::vector<std::string> out;
  for (size_t k = 0; k < file_refs_.size(); ++k) {
    const FileReference& r = file_refs_[k];
    std::vector<ActualOp> actual;
    actual.reserve(r.op_of.size());
    for (size_t i : r.op_of) {
      const world::OpOutcome& o = w.outcomes()[i];
      actual.push_back({o.ret, o.submit_ret, o.data, o.i_size_after});
    }
    const FileImage file = final_file_image(w, r.expected.file.size, k);
    for (std::string& m :
         compare_with_reference(r.view, r.expected, actual, file, w.inode(k).i_size))
      out.push_back(k ? scenario::file_name(spec_, k) + ": " + m : m);
  }
  return out;
}

namespace {

// The file's bytes [0, end) (holes read as zero), hashed sparsely: the length, then the offset
// and bytes of every mapped block that is not all zero. Equal images hash equal (a zero block
// reads like a hole), and the cost follows the mapped blocks, never the offsets.
void add_file_image(Hash& h, const world::World& w, uint64_t end, uint64_t block_bytes,
                    size_t file = 0) {
  h.add(end);
  thread_local std::vector<uint8_t> block;
  block.resize(block_bytes);
  for (const auto& [file_block, disk_block] : w.fs(file).block_map()) {
    if (file_block * block_bytes >= end) break;
    const uint64_t pos = static_cast<uint64_t>(disk_block) * block_bytes;
    if (const std::optional<uint8_t> v = w.disk().image().uniform(pos, block_bytes)) {
      if (*v == 0) continue; // reads like a hole
      h.add_word(file_block * block_bytes);
      h.add_word(0x100u | *v);
      continue;
    }
    w.disk().read(pos, block.data(), block_bytes);
    if (block[0] == 0 && std::memcmp(block.data(), block.data() + 1, block_bytes - 1) == 0)
      continue;
    h.add_word(file_block * block_bytes);
    h.add_content(block.data(), block_bytes);
  }
}

uint64_t outcome_hash(const scenario::ScenarioSpec& spec, const world::World& w,
                      const ExecSummary& s) {
  Hash h;
  for (const world::OpOutcome& o : w.outcomes()) {
    h.add(static_cast<uint64_t>(o.ret));
    h.add(o.submit_ret ? static_cast<uint64_t>(*o.submit_ret) : 0x5eed5eed5eed5eedull);
    h.add(o.data.digest());
    h.add(static_cast<uint64_t>(o.i_size_after));
  }
  h.add(static_cast<uint64_t>(w.inode().i_size));
  add_file_image(h, w, final_file_end(spec, w.inode().i_size), spec.geometry.fs_block_size);
  for (size_t k = 1; k < w.file_count(); ++k) { // several files: each one's size and bytes
    h.add(static_cast<uint64_t>(w.inode(k).i_size));
    add_file_image(h, w, final_file_end(spec, w.inode(k).i_size), spec.geometry.fs_block_size, k);
  }
  for (char c : s.failure_kind())
    h.add(static_cast<uint64_t>(c));
  return h.h;
}

} // namespace

ExecSummary Session::execute(engine::Chooser& chooser, const ExecOptions& options,
                             const Inspect& inspect, engine::Tracer* tracer) {
  ExecSummary out;
  engine::Scheduler::Config config;
  config.mode =
      spec_.mode == scenario::Mode::explore ? engine::SchedMode::choice : engine::SchedMode::timed;
  config.step_cost_ns = spec_.step_cost_ns;
  config.record_steps = options.record_steps;
  config.record_transitions = options.record_transitions;
  engine::Scheduler sched(config, chooser, tracer);
  kern::Kernel kernel(tunables_, sched);
  kern::KernelScope scope(kernel);
  kern::dio_init();
  world::World world(spec_, sched, initial_disk_.get(), initial_memory_.get(), file_views_.get());
  world.start();
  live_ = &sched.transitions();
  try {
    sched.run();
  } catch (const engine::InternalError& e) {
    out.internal_error = e.what();
  }
  live_ = nullptr;
  if (sched.internal_error()) out.internal_error = *sched.internal_error();
  if (sched.divergence()) out.divergence = *sched.divergence();
  out.abandoned = sched.abandoned();
  out.violation = sched.violation();
  if (out.violation)
    for (const engine::Context& c : sched.contexts())
      if (c.id == out.violation->context_id) out.violation_context = c.name;
  if (!out.violation && !out.internal_error && !out.divergence && !out.abandoned)
    judge(sched, kernel, world, out);
  out.steps = sched.step();
  out.decisions = sched.decisions();
  out.race_windows = kernel.race_window_bits;
  if (!out.internal_error && !out.abandoned) out.outcome_hash = outcome_hash(spec_, world, out);
  if (inspect) inspect(sched, kernel, world, out);
  // Unwind unfinished fibers while the world and kernel they reference still exist.
  sched.destroy_contexts();
  return out;
}

} // namespace diosim::model
