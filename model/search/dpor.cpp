// SPDX-License-Identifier: GPL-2.0-only
// Race analysis of one execution for DPOR: happens-before by vector clocks over the
// transition sequence (program order plus every dependent pair in trace order), and a
// backtrack point wherever two dependent transitions of different actors are not already
// ordered through other transitions (Flanagan & Godefroid 2005).
#include "model/search/tree_chooser.hpp"

#include <unordered_map>

namespace diosim::model {
namespace {

struct ObjectState {
  int last_write = -1;
  std::vector<int> reads; // since last_write
};

uint64_t key_of(const engine::ObjectRef& o) {
  return (static_cast<uint64_t>(o.kind) << 56) ^ o.id;
}

// The transitions j depends on (its immediate dependent predecessors), updating the shadow.
void dependencies(const engine::Transition& tj, int j,
                  std::unordered_map<uint64_t, ObjectState>& objects, std::vector<int>& all_writers,
                  std::vector<int>& out) {
  out.clear();
  out.insert(out.end(), all_writers.begin(), all_writers.end());
  if (tj.footprint.all()) {
    for (int i = 0; i < j; ++i)
      out.push_back(i); // conflicts with everything before it
    all_writers.push_back(j);
    return;
  }
  for (int a = 0; a < tj.footprint.size(); ++a) {
    const engine::Access& acc = tj.footprint[a];
    ObjectState& s = objects[key_of(acc.object)];
    if (s.last_write >= 0) out.push_back(s.last_write);
    if (acc.write) {
      out.insert(out.end(), s.reads.begin(), s.reads.end());
      s.last_write = j;
      s.reads.clear();
    } else {
      s.reads.push_back(j);
    }
  }
}

void add_backtrack(TreeNode& node, ActorKey actor) {
  for (size_t k = 0; k < node.actors.size(); ++k)
    if (node.actors[k] == actor) {
      node.backtrack[k] = 1;
      return;
    }
  std::fill(node.backtrack.begin(), node.backtrack.end(), 1); // not enabled there: all
}

} // namespace

void analyse_execution(std::vector<TreeNode>& path, const std::vector<engine::Transition>& trans,
                       bool dpor, size_t root) {
  for (TreeNode& n : path)
    if (n.kind == engine::DecisionKind::next_step && n.transition_index < trans.size())
      n.chosen_footprint = trans[n.transition_index].footprint;
  if (!dpor) return;
  const int n = static_cast<int>(trans.size());
  std::unordered_map<ActorKey, size_t> actor_index;
  for (const engine::Transition& t : trans)
    actor_index.emplace(t.actor, actor_index.size());
  const size_t width = actor_index.size();
  std::vector<std::vector<uint32_t>> clock(static_cast<size_t>(n));
  std::vector<int> last_of_actor(width, -1);
  std::unordered_map<uint64_t, ObjectState> objects;
  std::vector<int> all_writers, deps;
  for (int j = 0; j < n; ++j) {
    const engine::Transition& tj = trans[static_cast<size_t>(j)];
    const size_t aj = actor_index[tj.actor];
    const int prev = last_of_actor[aj];
    std::vector<uint32_t> c =
        prev >= 0 ? clock[static_cast<size_t>(prev)] : std::vector<uint32_t>(width, 0);
    dependencies(tj, j, objects, all_writers, deps);
    const std::vector<uint32_t> before = c; // what j's actor knew before j
    for (int i : deps) {
      const engine::Transition& ti = trans[static_cast<size_t>(i)];
      if (ti.actor == tj.actor) continue;
      const size_t ai = actor_index[ti.actor];
      const uint32_t seq_i = clock[static_cast<size_t>(i)][ai];
      const bool ordered = before[ai] >= seq_i;
      if (!ordered && ti.decision >= 0 && static_cast<size_t>(ti.decision) >= root &&
          static_cast<size_t>(ti.decision) < path.size() &&
          path[static_cast<size_t>(ti.decision)].kind == engine::DecisionKind::next_step)
        add_backtrack(path[static_cast<size_t>(ti.decision)], tj.actor);
      const std::vector<uint32_t>& ci = clock[static_cast<size_t>(i)];
      for (size_t x = 0; x < width; ++x)
        c[x] = std::max(c[x], ci[x]);
    }
    c[aj] = (prev >= 0 ? clock[static_cast<size_t>(prev)][aj] : 0) + 1;
    clock[static_cast<size_t>(j)] = std::move(c);
    last_of_actor[aj] = j;
  }
}

} // namespace diosim::model
