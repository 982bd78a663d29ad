// SPDX-License-Identifier: GPL-2.0-only
// The one place every nondeterministic decision goes through.
//
// Owns: the Chooser interface, the Decision it is asked (which context is running, and per
// option what that option will do next and on what), and the choosers the engine ships: seeded
// random, replay from a schedule token, and a recorder that wraps any chooser and writes the
// token.
// Invariants:
//   1. A run is a pure function of (scenario, seed, the values the Chooser returned).
//   2. A decision with one option is never asked (and never recorded), so tokens stay short and
//      replay does not depend on how many forced moves a run makes.
//   3. Option lists are in a fixed order: contexts by id, then events by id.
#pragma once

#include "sim/engine/footprint.hpp"
#include "sim/engine/prng.hpp"
#include "sim/engine/schedule_token.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace diosim::engine {

enum class DecisionKind : uint8_t {
  next_step,  // which option (runnable context or deliverable event) goes next
  fault,      // which outcome a fault point takes (option 0 is always "no fault")
  latency_ns, // a duration drawn from [lo, hi]
};

// What a yield point does, for the explorer's dependency analysis and for replay checks.
enum class StepOp : uint8_t {
  acquire, // lock acquire
  release, // lock release
  wake,    // wake another context
  sleep,   // block until woken
  submit,  // hand an object to another context or device
  free,    // free an object
  hook,    // call into the world (get_block, end_io, ki_complete ...)
  deliver, // an event delivered (bio completion)
  observe, // a read of shared state another context can change
  read,    // a read of an instrumented shared field outside any lock
  write,   // a write (or read-modify-write) of an instrumented shared field outside any lock
  start,   // a context's first step
};

const char* step_op_name(StepOp op);

// The fault points an explorer may choose at (enabled per scenario).
enum class FaultSite : uint8_t { bio_status, get_block, user_page };

// One option of a next_step decision. `id` is a context id or an event id, by `is_event`; `op`
// and `object` say what the option will do when chosen (for an event: deliver it).
struct DecisionOption {
  uint32_t id = 0;
  bool is_event = false;
  StepOp op = StepOp::start;
  ObjectRef object;
};

struct Decision {
  DecisionKind kind = DecisionKind::next_step;
  uint64_t step = 0;
  uint32_t running = 0;                    // next_step: context that yielded, 0 when none
  std::span<const DecisionOption> options; // next_step only, size >= 2 (see option_count)
  // next_step: the number of options. Equals options.size(), except for a chooser whose
  // reads_options() is false: then options may be left empty (listing a thousand runnable
  // contexts per step costs more than the whole step) and only the count is given.
  size_t option_count = 0;
  // next_step: the option at `index` (< option_count), listed or not. A chooser that needs only
  // the option it picked (to record it) asks for that one instead of reading the list.
  DecisionOption option(size_t index) const {
    return options.empty() ? nth_option(option_source, index) : options[index];
  }
  const void* option_source = nullptr;                         // set by the scheduler
  DecisionOption (*nth_option)(const void*, size_t) = nullptr; // used when options is empty
  FaultSite site = FaultSite::bio_status;                      // fault only
  uint32_t fault_options = 0;                                  // fault only, >= 2
  uint64_t lo = 0, hi = 0;                                     // latency_ns only, lo < hi
};

class Chooser {
public:
  virtual ~Chooser() = default;
  // next_step: an index into options; fault: an option index; latency_ns: a value in [lo, hi].
  virtual uint64_t decide(const Decision& decision) = 0;
  // False when decide() looks only at Decision::option_count and at Decision::option(i) for a
  // few indexes, never at the whole list.
  virtual bool reads_options() const { return true; }
};

// Seeded uniform choice among options and uniform latency draws.
class RandomChooser final : public Chooser {
public:
  explicit RandomChooser(uint64_t seed) : prng_(seed) {}
  uint64_t decide(const Decision& d) override {
    if (d.kind == DecisionKind::next_step)
      return prng_.below(d.option_count ? d.option_count : d.options.size());
    if (d.kind == DecisionKind::fault) return prng_.below(d.fault_options);
    return prng_.uniform(d.lo, d.hi);
  }
  bool reads_options() const override { return false; }

private:
  Prng prng_;
};

// A replayed token ran out, or asked for something the recorded run did not. The message names
// the step and what differed.
class ReplayDivergence : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Thrown by a chooser that gives up on the current execution (e.g. every option is in an
// explorer's sleep set): the run stops at once, with no finding.
struct AbandonExecution {};

// The token entry for the value a chooser returned, and back.
ScheduleToken::Entry token_entry(const Decision& d, uint64_t value);
// Throws ReplayDivergence (naming `decision_index`) when `e` does not fit `d`.
uint64_t value_of_entry(const Decision& d, const ScheduleToken::Entry& e, size_t decision_index);

class ReplayChooser final : public Chooser {
public:
  explicit ReplayChooser(ScheduleToken token) : token_(std::move(token)) {}
  uint64_t decide(const Decision& d) override;
  // Throws ReplayDivergence when recorded decisions were left over.
  void finish() const;

private:
  ScheduleToken token_;
  size_t next_ = 0;
};

// Wraps another chooser and records every decision into a token.
class RecordingChooser final : public Chooser {
public:
  explicit RecordingChooser(Chooser& inner) : inner_(inner) {}
  uint64_t decide(const Decision& d) override {
    const uint64_t value = inner_.decide(d);
    const ScheduleToken::Entry e = token_entry(d, value);
    token_.push(e.kind, e.value);
    return value;
  }
  // token_entry needs only the chosen option.
  bool reads_options() const override { return inner_.reads_options(); }
  const ScheduleToken& token() const { return token_; }
  void clear() { token_.clear(); }

private:
  Chooser& inner_;
  ScheduleToken token_;
};

} // namespace diosim::engine
