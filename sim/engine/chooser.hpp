// SPDX-License-Identifier: GPL-2.0-only
// The one place every nondeterministic decision goes through.
//
// Owns: the Chooser interface and the three choosers the engine ships: seeded random (timed and
// random-schedule runs), replay from a schedule token, and a recorder that wraps any chooser and
// writes the token.
// Invariants:
//   1. A run is a pure function of (scenario, seed, the values the Chooser returned).
//   2. A decision with one option is never asked (and never recorded), so tokens stay short and
//      replay does not depend on how many forced moves a run makes.
#pragma once

#include "sim/engine/prng.hpp"
#include "sim/engine/schedule_token.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace diosim::engine {

enum class DecisionKind : uint8_t {
  next_step,  // which option (runnable context or deliverable event) goes next
  latency_ns, // a duration drawn from [lo, hi]
};

// One option of a next_step decision. `id` is a context id or an event id, by `is_event`.
struct DecisionOption {
  uint32_t id = 0;
  bool is_event = false;
};

struct Decision {
  DecisionKind kind = DecisionKind::next_step;
  uint64_t step = 0;
  std::span<const DecisionOption> options; // next_step only, size >= 2
  uint64_t lo = 0, hi = 0;                 // latency_ns only, lo < hi
};

class Chooser {
public:
  virtual ~Chooser() = default;
  // next_step: an index into options; latency_ns: a value in [lo, hi].
  virtual uint64_t decide(const Decision& decision) = 0;
};

// Seeded uniform choice among options and uniform latency draws.
class RandomChooser final : public Chooser {
public:
  explicit RandomChooser(uint64_t seed) : prng_(seed) {}
  uint64_t decide(const Decision& d) override {
    if (d.kind == DecisionKind::next_step) return prng_.below(d.options.size());
    return prng_.uniform(d.lo, d.hi);
  }

private:
  Prng prng_;
};

// A replayed token ran out, or asked for something the recorded run did not. The message names
// the step and what differed.
class ReplayDivergence : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

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
    token_.push(d.kind == DecisionKind::latency_ns, value);
    return value;
  }
  const ScheduleToken& token() const { return token_; }
  void clear() { token_.clear(); }

private:
  Chooser& inner_;
  ScheduleToken token_;
};

} // namespace diosim::engine
