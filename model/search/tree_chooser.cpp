// SPDX-License-Identifier: GPL-2.0-only
#include "model/search/tree_chooser.hpp"

#include "model/check/session.hpp"
#include "sim/engine/violation.hpp"

namespace diosim::model {

using engine::DecisionKind;

std::vector<uint32_t> exploration_order(const TreeNode& node) {
  std::vector<uint32_t> order;
  order.reserve(node.actors.size());
  for (uint32_t i = 0; i < node.actors.size(); ++i)
    if (node.running != 0 && node.actors[i] == node.running) order.push_back(i);
  for (uint32_t i = 0; i < node.actors.size(); ++i)
    if (node.running == 0 || node.actors[i] != node.running) order.push_back(i);
  return order;
}

bool option_allowed(const TreeNode& node, uint32_t option, int bound) {
  return bound < 0 || !node.is_preemption(option) ||
         node.preemptions_before < static_cast<uint32_t>(bound);
}

namespace {

ActorKey actor_of(const engine::DecisionOption& o) {
  return o.is_event ? engine::Transition::kEventBit | o.id : o.id;
}

bool asleep(const std::vector<SleepEntry>& sleep, ActorKey a) {
  for (const SleepEntry& s : sleep)
    if (s.actor == a) return true;
  return false;
}

} // namespace

uint64_t TreeChooser::replay(const engine::Decision& d, const TreeNode& node) const {
  const size_t n = d.kind == DecisionKind::next_step ? d.options.size()
                   : d.kind == DecisionKind::fault   ? d.fault_options
                                                     : 1;
  if (node.kind != d.kind || (d.kind != DecisionKind::latency_ns && node.actors.size() != n))
    throw engine::InternalError("explorer replay of decision " + std::to_string(next_ - 1) +
                                " met a different decision: the run is not deterministic");
  if (d.kind == DecisionKind::latency_ns) return node.latency;
  if (d.kind == DecisionKind::next_step &&
      node.actors[node.chosen] != actor_of(d.options[node.chosen]))
    throw engine::InternalError("explorer replay of decision " + std::to_string(next_ - 1) +
                                " offers other contexts: the run is not deterministic");
  return node.chosen;
}

// Sleep set of a new step node: what slept (or was explored) at the previous step node and is
// independent of every transition run since.
std::vector<SleepEntry> TreeChooser::sleep_for_new_node() const {
  std::vector<SleepEntry> out;
  if (!transitions_) return out;
  const TreeNode* parent = nullptr;
  for (size_t k = path_.size(); k-- > 0;)
    if (path_[k].kind == DecisionKind::next_step) {
      parent = &path_[k];
      break;
    }
  if (!parent) return out;
  const ActorKey chosen = parent->actors[parent->chosen];
  auto keep = [&](const SleepEntry& e) {
    if (e.actor == chosen) return;
    for (size_t t = parent->transition_index; t < transitions_->size(); ++t) {
      const engine::Transition& tr = (*transitions_)[t];
      if (tr.actor == e.actor || tr.footprint.conflicts_with(e.footprint)) return;
    }
    out.push_back(e);
  };
  for (const SleepEntry& e : parent->sleep)
    keep(e);
  for (const SleepEntry& e : parent->done)
    keep(e);
  return out;
}

void TreeChooser::extend(const engine::Decision& d) {
  TreeNode node;
  node.kind = d.kind;
  if (!path_.empty()) node.preemptions_before = path_.back().preemptions_after();
  if (d.kind == DecisionKind::latency_ns) {
    node.latency = d.lo;
    path_.push_back(std::move(node));
    return;
  }
  if (d.kind == DecisionKind::fault) {
    for (uint32_t i = 0; i < d.fault_options; ++i)
      node.actors.push_back(i);
  } else {
    for (const engine::DecisionOption& o : d.options)
      node.actors.push_back(actor_of(o));
    node.running = d.running;
    node.transition_index = transitions_ ? static_cast<uint32_t>(transitions_->size()) : 0;
    if (dpor_) node.sleep = sleep_for_new_node();
  }
  node.tried.assign(node.actors.size(), 0);
  node.backtrack.assign(node.actors.size(), 0);
  bool any_allowed = false, found = false;
  for (uint32_t i : exploration_order(node)) {
    if (!option_allowed(node, i, bound_)) continue;
    any_allowed = true;
    if (dpor_ && asleep(node.sleep, node.actors[i])) continue;
    node.chosen = i;
    found = true;
    break;
  }
  DIOSIM_INTERNAL_ASSERT(any_allowed, "no option within the preemption bound");
  path_.push_back(std::move(node));
  if (!found) throw engine::AbandonExecution{}; // every option is asleep: redundant
  TreeNode& n = path_.back();
  n.tried[n.chosen] = 1;
  n.backtrack[n.chosen] = 1;
  if (n.kind == DecisionKind::fault) std::fill(n.backtrack.begin(), n.backtrack.end(), 1);
}

void TreeChooser::reset() {
  next_ = 0;
  avoided_ = -1;
  if (avoid_) still_matching_.assign(avoid_->size(), 1);
}

// After decision k was taken: an execution that has now taken every decision of a crash prefix
// would crash next; it ends here as a leaf (invariant 4).
void TreeChooser::check_crash_prefixes(size_t k) {
  const engine::ScheduleToken::Entry taken = token_entry(path_[k]);
  for (size_t i = 0; i < avoid_->size(); ++i) {
    const engine::ScheduleToken& prefix = (*avoid_)[i];
    if (!still_matching_[i]) continue;
    if (k >= prefix.size() || !(prefix[k] == taken)) {
      still_matching_[i] = 0;
      continue;
    }
    if (k + 1 < prefix.size()) continue;
    DIOSIM_INTERNAL_ASSERT(k + 1 == path_.size(), "a crash prefix ends inside a replayed prefix");
    avoided_ = static_cast<int>(i);
    throw engine::AbandonExecution{};
  }
}

uint64_t TreeChooser::decide(const engine::Decision& d) {
  transitions_ = Session::live_transitions();
  const size_t k = next_++;
  uint64_t value;
  if (k < path_.size()) {
    value = replay(d, path_[k]);
  } else {
    extend(d);
    const TreeNode& node = path_.back();
    value = d.kind == DecisionKind::latency_ns ? node.latency : node.chosen;
  }
  if (avoid_ && !avoid_->empty()) check_crash_prefixes(k);
  return value;
}

engine::ScheduleToken TreeChooser::token_so_far() const {
  engine::ScheduleToken token;
  for (size_t k = 0; k < next_ && k < path_.size(); ++k) {
    const engine::ScheduleToken::Entry e = token_entry(path_[k]);
    token.push(e.kind, e.value);
  }
  return token;
}

bool next_branch(std::vector<TreeNode>& path, bool dpor, int bound, size_t root) {
  while (path.size() > root) {
    TreeNode& node = path.back();
    if (node.kind != DecisionKind::latency_ns) {
      for (uint32_t i : exploration_order(node)) {
        if (node.tried[i] || !option_allowed(node, i, bound)) continue;
        const bool wanted = node.kind == DecisionKind::fault || !dpor || node.backtrack[i];
        if (!wanted || (dpor && asleep(node.sleep, node.actors[i]))) continue;
        if (dpor && node.kind == DecisionKind::next_step)
          node.done.push_back({node.actors[node.chosen], node.chosen_footprint});
        node.chosen = i;
        node.tried[i] = 1;
        return true;
      }
    }
    path.pop_back();
  }
  return false;
}

engine::ScheduleToken::Entry token_entry(const TreeNode& n) {
  if (n.kind == DecisionKind::latency_ns) return {engine::ChoiceKind::latency, n.latency};
  if (n.kind == DecisionKind::fault) return {engine::ChoiceKind::fault, n.chosen};
  const ActorKey a = n.actors[n.chosen];
  const bool event = a & engine::Transition::kEventBit;
  return {event ? engine::ChoiceKind::event : engine::ChoiceKind::context,
          a & ~engine::Transition::kEventBit};
}

engine::ScheduleToken path_token(const std::vector<TreeNode>& path) {
  engine::ScheduleToken token;
  for (const TreeNode& n : path) {
    const engine::ScheduleToken::Entry e = token_entry(n);
    token.push(e.kind, e.value);
  }
  return token;
}

} // namespace diosim::model
