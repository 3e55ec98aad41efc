// Standalone tests of the C++ core, without Python: built with -Werror and, in CI, with
// AddressSanitizer + UBSan (cmake -DRQLBENCH_CORE_TESTS=ON -DRQLBENCH_SANITIZE=ON).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mcts/batch.h"
#include "mcts/search.h"
#include "mcts/tabular_model.h"
#include "mcts/validate.h"
#include "tests/check.h"

using namespace rqlbench::mcts;
using namespace rqlbench::testing;

namespace {

// Rewards uniform in [-1, 1), or sparse: 0 or 1, so that the same Q_R comes out again and again.
TabularModel random_model(int num_states, int num_actions, uint64_t seed, double terminal_fraction,
                          bool sparse = false) {
  Random rng(seed);
  const size_t cells = static_cast<size_t>(num_states) * num_actions;
  std::vector<int64_t> next(cells);
  std::vector<double> reward(cells), log_prior(cells);
  std::vector<uint8_t> terminal(num_states);
  for (size_t i = 0; i < cells; ++i) {
    next[i] = static_cast<int64_t>(rng.uniform() * num_states);
    reward[i] = sparse ? static_cast<double>(rng.uniform() < 0.3) : rng.uniform() * 2.0 - 1.0;
    log_prior[i] = 3.0 * rng.uniform();
  }
  for (int s = 0; s < num_states; ++s) {
    double* row = &log_prior[static_cast<size_t>(s) * num_actions];
    const double total = logsumexp(row, num_actions);
    for (int a = 0; a < num_actions; ++a) row[a] -= total;
    terminal[s] = s > 0 && rng.uniform() < terminal_fraction;
  }
  const std::vector<int64_t> shape = {num_states, num_actions};
  return TabularModel({next, shape}, {reward, shape}, {log_prior, shape}, {terminal, {num_states}});
}

// Backward induction of the finite-horizon residual soft Q (docs/algorithms.md §4.2).
std::vector<double> exact_root_q(const TabularModel& m, const Config& c, int root) {
  const int S = m.num_states(), A = m.num_actions();
  std::vector<double> value(S, 0.0), q(static_cast<size_t>(S) * A), logits(A), prior(A);
  for (int h = 0; h < c.max_depth; ++h) {
    std::vector<double> next_value(S);
    for (int s = 0; s < S; ++s) {
      m.log_prior(s, prior.data());
      for (int a = 0; a < A; ++a) {
        const auto t = m.step(s, a);
        q[s * A + a] = t.reward + c.gamma * (t.terminated ? 0.0 : value[t.next]);
        logits[a] = (q[s * A + a] + c.omega * prior[a]) / c.alpha;
      }
      next_value[s] = c.alpha * logsumexp(logits.data(), A);
    }
    value = next_value;
  }
  return std::vector<double>(q.begin() + root * A, q.begin() + (root + 1) * A);
}

// The tabular model behind the open-loop interface, to check that replaying paths from the root
// builds the same tree as keeping states. With slip > 0 a step lands in a random state instead.
struct OpenLoopTabular {
  using State = int32_t;
  static constexpr bool kOpenLoop = true;
  const TabularModel& model;
  int32_t root, current;
  double slip = 0.0;
  Random rng{1};
  int num_actions() const { return model.num_actions(); }
  void restore_root() { current = root; }
  Transition<State> step(const State&, int a) {
    auto t = model.step(current, a);
    if (slip > 0.0 && rng.uniform() < slip) {  // termination stays the table's
      t.next = static_cast<int32_t>(rng.uniform() * model.num_states());
    }
    current = t.next;
    return t;
  }
  void log_prior(const State&, double* out) const { model.log_prior(current, out); }
  bool has_rollout() const { return false; }
  double rollout(const State&, int, double, uint64_t) { return 0.0; }
};
static_assert(is_search_model_v<OpenLoopTabular>);
static_assert(!is_search_model_v<const OpenLoopTabular>, "restore_root mutates: not shareable");
static_assert(is_search_model_v<const TabularModel>);

// Safe to share between search_batch's threads: const members, the one counter atomic.
struct ThrowingModel {
  using State = std::vector<double>;  // heap-owning states: leaks would show under ASan
  static constexpr bool kOpenLoop = false;
  mutable std::atomic<int> calls{0};
  int num_actions() const { return 2; }
  Transition<State> step(const State& s, int) const {
    if (++calls == 40) throw std::runtime_error("boom");
    return {State(s.size() + 1, 1.0), 0.5, false};
  }
  void log_prior(const State&, double* out) const { out[0] = out[1] = std::log(0.5); }
  bool has_rollout() const { return false; }
  double rollout(const State&, int, double, uint64_t) const { return 0.0; }
};

void test_exact_finite_horizon_q() {
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const TabularModel model = random_model(30, 4, seed, 0.15);
    Config c;
    c.omega = 0.7;
    c.alpha = 0.6;
    c.epsilon = 1.0;
    c.gamma = 0.9;
    c.max_depth = 5;
    c.rollout_depth = 0;
    c.num_simulations = 60000;
    TabularModel& m = const_cast<TabularModel&>(model);
    const SearchResult r = Searcher<TabularModel>(m, c).run(0);
    const auto exact = exact_root_q(model, c, 0);
    for (int a = 0; a < 4; ++a) {
      check(std::abs(r.q[a] - exact[a]) < 1e-6, "root Q_R reaches the finite-horizon value");
    }
    OpenLoopTabular open{model, 0, 0};
    const SearchResult o = Searcher<OpenLoopTabular>(open, c).run(0);
    check(o.q == r.q && o.visits == r.visits, "open loop builds the closed-loop tree");
  }
}

// Q_R(s, a) = r̄ + γ·(0 terminal | V_R(child) once searched | R(child)) at every stored edge.
double worst_backup_error(const SearchTree& t, const Config& c) {
  double worst = 0.0;
  for (size_t e = 0; e < t.child.size(); ++e) {
    const int32_t child = t.child[e];
    if (child < 0) continue;
    const double below = t.node_terminal[child]     ? 0.0
                         : t.node_visits[child] > 0 ? t.node_value[child]
                                                    : t.node_leaf_value[child];
    worst = std::max(worst, std::abs(t.q[e] - (t.reward[e] + c.gamma * below)));
  }
  return worst;
}

void test_backup_invariant() {
  Config c;
  c.omega = 0.5;
  c.alpha = 0.3;
  c.gamma = 0.9;
  c.max_depth = 5;
  c.rollout_depth = 0;
  c.num_simulations = 3000;
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const TabularModel model = random_model(30, 3, seed, 0.1, /*sparse=*/true);
    // Closed loop, sparse rewards: a node's first search must reach its parent.
    auto& m = const_cast<TabularModel&>(model);
    const SearchResult closed = Searcher<TabularModel>(m, c).run(0, 0, true);
    check(worst_backup_error(closed.tree, c) < 1e-9, "closed-loop backup invariant");
    // Open loop, stochastic: a changed mean reward must reach every Q_R above it.
    OpenLoopTabular open{model, 0, 0, 0.3};
    const SearchResult opened = Searcher<OpenLoopTabular>(open, c).run(0, 0, true);
    check(worst_backup_error(opened.tree, c) < 1e-9, "stochastic open-loop backup invariant");
    check(opened.tree.node_visits.size() == static_cast<size_t>(opened.num_nodes),
          "the exported tree holds every node");
  }
}

void test_sparse_rewards_reach_exact_q() {
  Config c;
  c.omega = 0.4;
  c.alpha = 0.3;
  c.epsilon = 1.0;
  c.gamma = 0.9;
  c.max_depth = 5;
  c.rollout_depth = 0;
  c.num_simulations = 60000;
  for (uint64_t seed = 0; seed < 2; ++seed) {
    const TabularModel model = random_model(30, 4, seed, 0.15, /*sparse=*/true);
    const SearchResult r = search_batch(model, std::vector<int32_t>{0}, c, 1)[0];
    const auto exact = exact_root_q(model, c, 0);
    for (int a = 0; a < 4; ++a) {
      check(std::abs(r.q[a] - exact[a]) < 1e-6, "sparse rewards: root Q_R reaches the exact value");
    }
  }
}

void test_batch_and_node_cap() {
  TabularModel model = random_model(100, 5, 7, 0.0);
  Config c;
  c.num_simulations = 3000;
  c.max_depth = 6;
  c.rollout_depth = 3;
  const std::vector<int32_t> roots = {0, 3, 3, 99, 50};
  const auto one = search_batch(model, roots, c, 1);
  const auto two = search_batch(model, roots, c, 2);
  for (size_t i = 0; i < roots.size(); ++i) {
    check(one[i].q == two[i].q, "batch results do not depend on the thread count");
  }
  c.max_nodes = 33;
  const SearchResult capped = Searcher<TabularModel>(model, c).run(0);
  check(capped.num_nodes == 33, "max_nodes caps the tree");
  int visits = 0;
  for (int v : capped.visits) visits += v;
  check(visits == c.num_simulations, "a capped tree still runs every simulation");
}

void test_bad_input() {
  check_throws<std::invalid_argument>(
      [] {
        Config c;
        c.alpha = 0.0;
        c.validate();
      },
      "alpha = 0");
  check_throws<std::invalid_argument>(
      [] {
        Config c;
        c.omega = std::nan("");
        c.validate();
      },
      "omega = NaN");
  check_throws<std::out_of_range>(
      [] {
        TabularModel({{0, 2}, {2, 1}}, {{0.0, 0.0}, {2, 1}}, {{0.0, 0.0}, {2, 1}}, {{0, 0}, {2}});
      },
      "next state 2 of 2");
  check_throws<std::invalid_argument>(
      [] {
        TabularModel({{0, 0}, {1, 2}}, {{0.0, 0.0}, {1, 2}}, {{0.0, 0.0}, {1, 2}}, {{0}, {1}});
      },
      "unnormalized prior");
  check_throws<std::invalid_argument>(
      [] { TabularModel({{0}, {1, 1}}, {{INFINITY}, {1, 1}}, {{0.0}, {1, 1}}, {{0}, {1}}); },
      "infinite reward");
  check_throws<std::invalid_argument>(
      [] {
        TabularModel({{0, 0}, {1, 2}}, {{0.0, 0.0}, {2, 1}}, {{0.0, 0.0}, {1, 2}}, {{0}, {1}});
      },
      "reward of a transposed shape");
  check_throws<std::invalid_argument>(
      [] { TabularModel({{0, 0}, {1, 2}}, {{0.0}, {1, 2}}, {{0.0, 0.0}, {1, 2}}, {{0}, {1}}); },
      "reward with fewer values than its shape");
  ThrowingModel throwing;
  Config c;
  c.num_simulations = 100;
  c.rollout_depth = 2;
  check_throws<std::runtime_error>(
      [&] { Searcher<ThrowingModel>(throwing, c).run(ThrowingModel::State(1, 0.0)); },
      "a throwing model");
  check_throws<std::runtime_error>(
      [&] {
        ThrowingModel again;
        const std::vector<ThrowingModel::State> roots(3, ThrowingModel::State(1, 0.0));
        search_batch(again, roots, c, 2);
      },
      "a throwing model in a threaded batch");
}

}  // namespace

int main() {
  test_exact_finite_horizon_q();
  test_backup_invariant();
  test_sparse_rewards_reach_exact_q();
  test_batch_and_node_cap();
  test_bad_input();
  return report("core");
}
