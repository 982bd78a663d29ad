// SPDX-License-Identifier: GPL-2.0-only
// DPOR's race analysis (model/search/dpor.cpp) on hand-made executions: a backtrack point the
// preemption bound forbids is added again at the start of the racing thread block (bounded POR),
// and only then.
#include "model/search/tree_chooser.hpp"

#include <doctest/doctest.h>

using namespace diosim;

namespace {

model::TreeNode step_node(uint32_t running, uint32_t chosen_actor) {
  model::TreeNode n;
  n.kind = engine::DecisionKind::next_step;
  n.actors = {1, 2};
  n.running = running;
  n.chosen = chosen_actor - 1;
  n.preemptions_before = 1; // one preemption spent before this excerpt
  n.tried = {0, 0};
  n.backtrack = {0, 0};
  n.tried[n.chosen] = n.backtrack[n.chosen] = 1;
  return n;
}

engine::Transition write_to(uint32_t actor, int decision, uint64_t object) {
  engine::Transition t;
  t.actor = actor;
  t.decision = decision;
  t.footprint.add({engine::ObjectKind::field, object}, true);
  return t;
}

// Actor 1 starts a block at decision 0 (nobody was running), goes on at decision 1 and writes Y;
// actor 2 then writes Y at decision 2: a race between decisions 1 and 2.
struct Excerpt {
  std::vector<model::TreeNode> path{step_node(0, 1), step_node(1, 1), step_node(1, 2)};
  std::vector<engine::Transition> trans{write_to(1, 0, 10), write_to(1, 1, 11), write_to(2, 2, 11)};
};

} // namespace

TEST_CASE("a race within the bound gets its backtrack point where it happened") {
  Excerpt e;
  model::analyse_execution(e.path, e.trans, true, 0, -1);
  CHECK(e.path[1].backtrack[1] == 1); // actor 2 before actor 1's write of Y
  CHECK(e.path[0].backtrack[1] == 0); // nothing earlier
}

TEST_CASE("a backtrack point the bound forbids moves to the start of the thread block") {
  Excerpt e;
  // Bound 1: switching to actor 2 at decision 1 would be a second preemption.
  CHECK_FALSE(model::option_allowed(e.path[1], 1, 1));
  model::analyse_execution(e.path, e.trans, true, 0, 1);
  CHECK(e.path[1].backtrack[1] == 1);            // still recorded (never explored there)
  CHECK(e.path[0].backtrack[1] == 1);            // and where switching costs nothing more
  CHECK(model::option_allowed(e.path[0], 1, 1)); // which the bound allows
}

TEST_CASE("without dpor no backtrack points are added") {
  Excerpt e;
  model::analyse_execution(e.path, e.trans, false, 0, 1);
  CHECK(e.path[0].backtrack[1] == 0);
  CHECK(e.path[1].backtrack[1] == 0);
}
