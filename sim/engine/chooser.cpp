// SPDX-License-Identifier: GPL-2.0-only
#include "sim/engine/chooser.hpp"

namespace diosim::engine {

const char* step_op_name(StepOp op) {
  switch (op) {
  case StepOp::acquire:
    return "acquire";
  case StepOp::release:
    return "release";
  case StepOp::wake:
    return "wake";
  case StepOp::sleep:
    return "sleep";
  case StepOp::submit:
    return "submit";
  case StepOp::free:
    return "free";
  case StepOp::hook:
    return "hook";
  case StepOp::deliver:
    return "deliver";
  case StepOp::observe:
    return "observe";
  case StepOp::read:
    return "read";
  case StepOp::write:
    return "write";
  case StepOp::start:
    return "start";
  }
  return "?";
}

ScheduleToken::Entry token_entry(const Decision& d, uint64_t value) {
  switch (d.kind) {
  case DecisionKind::next_step: {
    const DecisionOption o = d.option(value);
    return {o.is_event ? ChoiceKind::event : ChoiceKind::context, o.id};
  }
  case DecisionKind::fault:
    return {ChoiceKind::fault, value};
  case DecisionKind::latency_ns:
    return {ChoiceKind::latency, value};
  }
  return {};
}

namespace {

const char* kind_text(ChoiceKind k) {
  switch (k) {
  case ChoiceKind::context:
    return "a context";
  case ChoiceKind::event:
    return "an event";
  case ChoiceKind::fault:
    return "a fault choice";
  case ChoiceKind::latency:
    return "a latency";
  }
  return "?";
}

ChoiceKind wanted_kind(const Decision& d) {
  if (d.kind == DecisionKind::fault) return ChoiceKind::fault;
  if (d.kind == DecisionKind::latency_ns) return ChoiceKind::latency;
  return ChoiceKind::context; // or event: both answer a next_step decision
}

std::string options_text(const Decision& d) {
  std::string out;
  for (const DecisionOption& o : d.options)
    out += (out.empty() ? "" : ", ") + std::string(o.is_event ? "event " : "context ") +
           std::to_string(o.id);
  return out;
}

} // namespace

uint64_t value_of_entry(const Decision& d, const ScheduleToken::Entry& e, size_t index) {
  const std::string where = "replay diverged at step " + std::to_string(d.step) + ", decision " +
                            std::to_string(index) + ": ";
  const ChoiceKind want = wanted_kind(d);
  const bool step_entry = e.kind == ChoiceKind::context || e.kind == ChoiceKind::event;
  if (want == ChoiceKind::context ? !step_entry : e.kind != want)
    throw ReplayDivergence(where + "the token has " + kind_text(e.kind) + ", the run asks for " +
                           kind_text(want));
  if (d.kind == DecisionKind::next_step) {
    for (size_t i = 0; i < d.options.size(); ++i)
      if (d.options[i].id == e.value && d.options[i].is_event == (e.kind == ChoiceKind::event))
        return i;
    throw ReplayDivergence(where + "the token picks " + kind_text(e.kind) + " " +
                           std::to_string(e.value) + ", the run offers " + options_text(d));
  }
  if (d.kind == DecisionKind::fault && e.value >= d.fault_options)
    throw ReplayDivergence(where + "fault option " + std::to_string(e.value) + " of " +
                           std::to_string(d.fault_options));
  if (d.kind == DecisionKind::latency_ns && (e.value < d.lo || e.value > d.hi))
    throw ReplayDivergence(where + "latency " + std::to_string(e.value) + " outside [" +
                           std::to_string(d.lo) + ", " + std::to_string(d.hi) + "]");
  return e.value;
}

uint64_t ReplayChooser::decide(const Decision& d) {
  if (next_ >= token_.size())
    throw ReplayDivergence("replay diverged at step " + std::to_string(d.step) +
                           ": the token has " + std::to_string(token_.size()) +
                           " decisions and the run asks for another");
  const size_t index = next_++;
  return value_of_entry(d, token_[index], index);
}

void ReplayChooser::finish() const {
  if (next_ != token_.size())
    throw ReplayDivergence("replay diverged: the run ended after " + std::to_string(next_) +
                           " of the token's " + std::to_string(token_.size()) + " decisions");
}

} // namespace diosim::engine
