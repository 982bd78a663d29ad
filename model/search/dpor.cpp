// SPDX-License-Identifier: GPL-2.0-only
// Race analysis of one execution for DPOR: happens-before by vector clocks over the
// transition sequence (program order plus every dependent pair in trace order), and a
// backtrack point wherever two dependent transitions of different actors are not already
// ordered through other transitions (Flanagan & Godefroid 2005).
//
// With a preemption bound, a backtrack point the bound forbids would be lost, and DPOR would no
// longer cover every execution within the bound. As in bounded POR (Coons, Musuvathi & McKinley,
// OOPSLA 2013), such a point is also added at the start of the racing transition's thread
// block: the latest step decision at or before it where the chosen actor did not simply go on
// running, where switching costs no more preemptions than the schedule already had.
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

// Marks `actor` (every option, when it is not enabled there) for exploration at `node`; false
// when the bound forbids some option it marked.
bool add_backtrack(TreeNode& node, ActorKey actor, int bound) {
  for (uint32_t k = 0; k < node.actors.size(); ++k)
    if (node.actors[k] == actor) {
      node.backtrack[k] = 1;
      return option_allowed(node, k, bound);
    }
  std::fill(node.backtrack.begin(), node.backtrack.end(), 1); // not enabled there: all
  bool all_allowed = true;
  for (uint32_t k = 0; k < node.actors.size(); ++k)
    all_allowed = all_allowed && option_allowed(node, k, bound);
  return all_allowed;
}

bool is_step(const std::vector<TreeNode>& path, int decision, size_t root) {
  return decision >= 0 && static_cast<size_t>(decision) >= root &&
         static_cast<size_t>(decision) < path.size() &&
         path[static_cast<size_t>(decision)].kind == engine::DecisionKind::next_step;
}

// The race of transition i (chosen at step decision d) with a later one of `actor`.
void backtrack_race(std::vector<TreeNode>& path, int d, ActorKey actor, int bound, size_t root) {
  if (add_backtrack(path[static_cast<size_t>(d)], actor, bound)) return;
  for (int k = d; k >= static_cast<int>(root); --k) { // the start of d's thread block
    const TreeNode& n = path[static_cast<size_t>(k)];
    if (n.kind != engine::DecisionKind::next_step) continue;
    if (n.running != 0 && n.actors[n.chosen] == n.running) continue; // the block goes on
    if (k != d) add_backtrack(path[static_cast<size_t>(k)], actor, bound);
    return;
  }
}

} // namespace

void analyse_execution(std::vector<TreeNode>& path, const std::vector<engine::Transition>& trans,
                       bool dpor, size_t root, int bound) {
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
      if (!ordered && is_step(path, ti.decision, root))
        backtrack_race(path, ti.decision, tj.actor, bound, root);
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
