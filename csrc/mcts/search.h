// Residual maximum-entropy MCTS (RQL paper eq. 13-14 on top of MENTS, Xiao et al. 2019).
//
// The tree lives in flat, preallocated arrays: node i owns edges [i*|A|, (i+1)*|A|). Each node
// caches the softmax weights exp((Q_R + ω' log π)/α̂ - ref) of its edges and their sum, so
// selection needs no exp and a backup costs one exp and one log per level. The model concept is
// in model.h (tabular_model.h is the native model, bindings.cpp wraps Python objects).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "config.h"
#include "model.h"
#include "rng.h"
#include "validate.h"

namespace rqlbench::mcts {

// The whole tree after a search (on request), flat: node i's edges are [i*A, (i+1)*A).
struct SearchTree {
  int num_actions = 0;
  std::vector<int32_t> node_visits, node_depth;  // N(s); the root has depth 0
  std::vector<uint8_t> node_terminal;
  std::vector<double> node_leaf_value;  // R: the rollout estimate the node got when created
  std::vector<double> node_value;       // V_R(s) from the node's Q_R (NaN: prior never asked)
  std::vector<double> log_prior;        // log π(a|s) per edge (NaN: prior never asked)
  std::vector<double> q, reward;        // Q_R(s, a) and the mean add-on reward r̄(s, a)
  std::vector<int32_t> visits, child;   // N(s, a); child node index, -1 if none is stored
};

struct SearchResult {
  std::vector<double> q;            // Q_R(root, a)
  std::vector<int32_t> visits;      // N(root, a)
  std::vector<double> log_prior;    // log π(a | root)
  std::vector<double> tree_policy;  // (1 - λ) softmax((Q_R + ω' log π)/α̂) + λ/|A|
  std::vector<double> policy;       // customized policy softmax((Q_R + ω' log π)/α̂), eq. 6
  double value = 0.0;               // V_R(root) = α̂ logsumexp((Q_R + ω' log π)/α̂)
  int action = 0;
  int64_t num_nodes = 0;
  int num_simulations = 0;
  SearchTree tree;  // empty unless the search was asked to export it
};

// Model may be const-qualified (search_batch shares one model between threads that way).
template <class Model>
class Searcher {
  static_assert(check_search_model<Model>());

 public:
  using State = typename Model::State;

  Searcher(Model& model, const Config& config)
      : model_(model),
        config_(config),
        num_actions_(model.num_actions()),
        inv_alpha_(1.0 / config.alpha),
        capacity_(config.node_capacity()) {
    config_.validate();
    check_num_actions(num_actions_, "the model's num_actions()");
    check_memory();
    // Reserved, not filled: only the nodes a search creates are ever touched.
    nodes_.reserve(static_cast<size_t>(capacity_));
    states_.reserve(static_cast<size_t>(capacity_));
    edges_.reserve(static_cast<size_t>(capacity_) * num_actions_);
    const int table_size = std::min(config.num_simulations + 1, 1 << 16);
    for (int visits = 0; visits < table_size; ++visits) mixing_.push_back(compute_mixing(visits));
    scratch_.resize(num_actions_);
    leaf_prior_.resize(num_actions_);
    sample_weights_.resize(num_actions_);
  }

  // One search from `root`; `stream` picks an independent random stream (one per root);
  // `export_tree` also returns the whole tree in SearchResult::tree.
  SearchResult run(const State& root, uint64_t stream = 0, bool export_tree = false) {
    rng_ = Random(config_.seed, stream);
    export_tree_ = export_tree;
    struct Clear {  // drop the tree and its (possibly Python) states, even on error
      Searcher* self;
      void operator()() const {
        self->nodes_.clear();
        self->edges_.clear();
        self->states_.clear();
        self->log_priors_.clear();
      }
      ~Clear() { (*this)(); }
    } clear{this};
    clear();
    new_node(State(root), 0, false);
    for (int sim = 0; sim < config_.num_simulations; ++sim) {
      if ((sim & (kInterruptEvery - 1)) == kInterruptEvery - 1 && interrupt_check_) {
        interrupt_check_();
      }
      simulate();
    }
    return summarize();
  }

  // Called every kInterruptEvery simulations; throwing from it aborts the search (e.g. Ctrl-C).
  void set_interrupt_check(std::function<void()> check) { interrupt_check_ = std::move(check); }

 private:
  static constexpr int32_t kNoChild = -1;
  static constexpr int kInterruptEvery = 1024;
  static constexpr double kRebaseAbove = 0x1p64, kRebaseBelow = 0x1p-64;
  static constexpr size_t kNoRewardChange = std::numeric_limits<size_t>::max();
  struct Edge {
    double q = 0.0, reward = 0.0, prior_term = 0.0, weight = 0.0;
    int32_t visits = 0, child = kNoChild;
  };
  struct Node {
    double value = 0.0;                         // leaf estimate R from rollouts
    double ref_logit = 0.0, sum_weights = 0.0;  // weights are exp(logit - ref_logit)
    int32_t visits = 0, depth = 0;
    bool terminal = false, has_prior = false;
  };
  struct PathStep {
    int32_t node, action;
  };

  Edge* edges_of(int32_t node) { return &edges_[static_cast<size_t>(node) * num_actions_]; }

  void check_memory() const {
    const double bytes =
        static_cast<double>(capacity_) *
        (sizeof(Node) + sizeof(State) + static_cast<double>(num_actions_) * sizeof(Edge));
    if (bytes > 16.0 * (1 << 30)) {
      std::ostringstream msg;
      msg << "a tree of " << capacity_ << " nodes with " << num_actions_ << " actions needs "
          << bytes / (1 << 30) << " GiB: set max_nodes to cap the tree (it then stops growing "
          << "and values new leaves without storing them) or lower num_simulations";
      throw std::length_error(msg.str());
    }
  }

  int64_t num_nodes() const { return static_cast<int64_t>(nodes_.size()); }

  int32_t new_node(State&& state, int32_t depth, bool terminal) {
    const auto id = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
    nodes_.back().depth = depth;
    nodes_.back().terminal = terminal;
    states_.push_back(std::move(state));
    edges_.resize(edges_.size() + num_actions_);
    if (export_tree_) log_priors_.resize(edges_.size(), std::numeric_limits<double>::quiet_NaN());
    return id;
  }

  // The prior is asked once per node, when the node is first needed.
  void ensure_prior(int32_t node) {
    if (nodes_[node].has_prior) return;
    model_.log_prior(states_[node], scratch_.data());
    set_prior(node, scratch_.data());
  }

  void set_prior(int32_t node, const double* log_prior) {
    Edge* e = edges_of(node);
    for (int a = 0; a < num_actions_; ++a) {
      e[a].prior_term = config_.omega > 0.0 ? config_.omega * log_prior[a] : 0.0;
    }
    if (node == 0) root_log_prior_.assign(log_prior, log_prior + num_actions_);
    if (export_tree_) {
      std::copy(log_prior, log_prior + num_actions_,
                &log_priors_[static_cast<size_t>(node) * num_actions_]);
    }
    nodes_[node].has_prior = true;
    refresh(node);
  }

  // Recomputes the node's cached softmax weights against the max logit; returns V_R(node).
  double refresh(int32_t node) {
    Edge* e = edges_of(node);
    double max_logit = -std::numeric_limits<double>::infinity();
    for (int a = 0; a < num_actions_; ++a) {
      e[a].weight = (e[a].q + e[a].prior_term) * inv_alpha_;
      max_logit = std::max(max_logit, e[a].weight);
    }
    double sum = 0.0;
    for (int a = 0; a < num_actions_; ++a) {
      e[a].weight = std::exp(e[a].weight - max_logit);
      sum += e[a].weight;
    }
    nodes_[node].ref_logit = max_logit;
    nodes_[node].sum_weights = sum;
    return config_.alpha * (max_logit + std::log(sum));
  }

  // Q_R(node, action) changed: one exp for its weight (relative to the node's reference logit),
  // an exact re-sum of the cached weights, one log. The reference is reset to the max by a full
  // refresh only when a weight would leave the range where doubles keep full precision.
  double update(int32_t node, int action) {
    Node& n = nodes_[node];
    Edge* e = edges_of(node);
    const double weight = std::exp((e[action].q + e[action].prior_term) * inv_alpha_ - n.ref_logit);
    if (!(weight <= kRebaseAbove)) return refresh(node);
    e[action].weight = weight;
    double sum = 0.0;
    for (int a = 0; a < num_actions_; ++a) sum += e[a].weight;
    if (sum < kRebaseBelow) return refresh(node);
    n.sum_weights = sum;
    return config_.alpha * (n.ref_logit + std::log(sum));
  }

  // MENTS E2W mixing weight λ_s = min(1, ε|A| / log(N(s) + 1)), with 1 / (1 - λ_s).
  struct Mixing {
    double lambda, rescale;
  };
  Mixing compute_mixing(int32_t visits) const {
    if (config_.epsilon == 0.0) return {0.0, 1.0};
    if (visits == 0) return {1.0, 0.0};
    const double lambda = std::min(1.0, config_.epsilon * num_actions_ / std::log(visits + 1.0));
    return {lambda, lambda < 1.0 ? 1.0 / (1.0 - lambda) : 0.0};
  }
  Mixing mixing(int32_t visits) const {
    return static_cast<size_t>(visits) < mixing_.size() ? mixing_[visits] : compute_mixing(visits);
  }

  // Samples the tree policy (1 - λ) softmax + λ/|A| with one uniform draw.
  int select(int32_t node) {
    ensure_prior(node);
    const Node& n = nodes_[node];
    const Mixing m = mixing(n.visits);
    const double u = rng_.uniform();
    if (u < m.lambda)
      return std::min(num_actions_ - 1, static_cast<int>(u / m.lambda * num_actions_));
    const Edge* e = edges_of(node);
    return pick((u - m.lambda) * m.rescale * n.sum_weights, [e](int a) { return e[a].weight; });
  }

  // First action whose cumulative weight exceeds target (the last positive one on round-off).
  // Counting the cumulative sums <= target gives that action without data-dependent branches.
  template <class Weight>
  int pick(double target, Weight weight) const {
    double cumulative = 0.0;
    int below = 0;
    for (int a = 0; a < num_actions_; ++a) {
      cumulative += weight(a);
      below += cumulative <= target;
    }
    if (below < num_actions_) return below;
    int last = 0;
    for (int a = 0; a < num_actions_; ++a) last = weight(a) > 0.0 ? a : last;
    return last;
  }

  // Samples an action from normalized log-probabilities with one uniform draw.
  int sample_log_probs(const double* log_probs) {
    double max_lp = -std::numeric_limits<double>::infinity();
    for (int a = 0; a < num_actions_; ++a) max_lp = std::max(max_lp, log_probs[a]);
    double sum = 0.0;
    for (int a = 0; a < num_actions_; ++a) {
      sample_weights_[a] = std::exp(log_probs[a] - max_lp);
      sum += sample_weights_[a];
    }
    return pick(rng_.uniform() * sum, [this](int a) { return sample_weights_[a]; });
  }

  void simulate() {
    if constexpr (Model::kOpenLoop) model_.restore_root();
    path_.clear();
    first_reward_change_ = kNoRewardChange;
    int32_t node = 0;
    double leaf_value = 0.0;
    while (true) {
      Node& n = nodes_[node];
      if (n.terminal) break;
      if (n.depth == config_.max_depth) {
        leaf_value = n.value;
        break;
      }
      const int action = select(node);
      path_.push_back({node, action});
      Edge& e = edges_of(node)[action];
      ++e.visits;
      ++n.visits;
      if (e.child != kNoChild) {
        if constexpr (Model::kOpenLoop) replay_edge(e, action);
        node = e.child;
        continue;
      }
      leaf_value = expand(node, action);
      break;
    }
    backup(leaf_value);
  }

  // Open loop: every traversal steps the simulator; rewards are averaged over visits.
  void replay_edge(Edge& e, int action) {
    auto t = model_.step(states_[0], action);
    const double reward = e.reward + (t.reward - e.reward) / e.visits;
    if (reward != e.reward && first_reward_change_ == kNoRewardChange) {
      first_reward_change_ = path_.size() - 1;
    }
    e.reward = reward;
    if (t.terminated) nodes_[e.child].terminal = true;
  }

  // Steps into a new edge, stores the child if the arena has room, returns the leaf value R.
  double expand(int32_t node, int action) {
    auto t = model_.step(states_[node], action);
    const int32_t depth = nodes_[node].depth + 1;
    edges_of(node)[action].reward = t.reward;
    if (num_nodes() >= capacity_) {  // full: value the leaf without keeping it
      if (t.terminated || config_.rollout_depth == 0) return 0.0;
      model_.log_prior(t.next, leaf_prior_.data());
      return leaf_value(t.next);
    }
    const int32_t child = new_node(std::move(t.next), depth, t.terminated);
    edges_of(node)[action].child = child;
    if (t.terminated || config_.rollout_depth == 0) return 0.0;
    nodes_[child].value = leaf_value_of_node(child);
    return nodes_[child].value;
  }

  double leaf_value_of_node(int32_t child) {
    // The stored node's prior is needed by the rollouts and later by its tree policy.
    model_.log_prior(states_[child], leaf_prior_.data());
    set_prior(child, leaf_prior_.data());
    return leaf_value(states_[child]);
  }

  // Mean discounted add-on return of `num_rollouts` prior rollouts; leaf_prior_ holds log π(.|s).
  double leaf_value(const State& leaf) {
    double total = 0.0;
    for (int k = 0; k < config_.num_rollouts; ++k) {
      if constexpr (Model::kOpenLoop) {
        if (k > 0) replay_path();
      }
      total += model_.has_rollout()
                   ? model_.rollout(leaf, config_.rollout_depth, config_.gamma, rng_.next())
                   : rollout(leaf);
    }
    return total / config_.num_rollouts;
  }

  double rollout(const State& leaf) {
    State state = leaf;
    const double* log_probs = leaf_prior_.data();
    double ret = 0.0, discount = 1.0;
    for (int t = 0; t < config_.rollout_depth; ++t) {
      if (t > 0) {
        model_.log_prior(state, scratch_.data());
        log_probs = scratch_.data();
      }
      auto step = model_.step(state, sample_log_probs(log_probs));
      ret += discount * step.reward;
      discount *= config_.gamma;
      if (step.terminated) break;
      state = std::move(step.next);
    }
    return ret;
  }

  void replay_path() {
    model_.restore_root();
    for (const auto& s : path_) model_.step(states_[0], s.action);
  }

  // Q_R(s_{T-1}, a) = r̄ + γR at the leaf; Q_R(s_t, a_t) = r̄ + γ V_R(s_{t+1}) above it.
  // The backup may stop at the first Q_R(s_t, a_t) that comes out bit-for-bit unchanged, because
  // then every value above is unchanged too, but only when
  //  - s_t was searched in an earlier simulation: the first search of a node switches its
  //    parent's target from the node's rollout estimate R to V_R(s_t), even when no Q_R of s_t
  //    changed;
  //  - no edge above s_t changed its mean reward in this simulation (open loop, stochastic
  //    simulator: each traversal re-steps the edge and averages its reward). In closed loop an
  //    edge's reward is set once, when it is expanded, so only the first condition can bite.
  void backup(double leaf_value) {
    double value = leaf_value;
    for (size_t i = path_.size(); i-- > 0;) {
      const PathStep step = path_[i];
      Edge& e = edges_of(step.node)[step.action];
      const double q = e.reward + config_.gamma * value;
      if (q == e.q && nodes_[step.node].visits > 1 && i <= first_reward_change_) return;
      e.q = q;
      value = update(step.node, step.action);
    }
  }

  SearchResult summarize() {
    SearchResult r;
    const Node& root = nodes_[0];
    const Edge* e = edges_of(0);
    const double lambda = mixing(root.visits).lambda;
    for (int a = 0; a < num_actions_; ++a) {
      const double soft = e[a].weight / root.sum_weights;
      r.q.push_back(e[a].q);
      r.visits.push_back(e[a].visits);
      r.log_prior.push_back(root_log_prior_[a]);
      r.policy.push_back(soft);
      r.tree_policy.push_back((1.0 - lambda) * soft + lambda / num_actions_);
    }
    r.value = config_.alpha * (root.ref_logit + std::log(root.sum_weights));
    r.action = final_action(r);
    r.num_nodes = num_nodes();
    r.num_simulations = config_.num_simulations;
    if (export_tree_) r.tree = snapshot();
    return r;
  }

  SearchTree snapshot() const {
    SearchTree t;
    t.num_actions = num_actions_;
    for (const Node& n : nodes_) {
      t.node_visits.push_back(n.visits);
      t.node_depth.push_back(n.depth);
      t.node_terminal.push_back(n.terminal);
      t.node_leaf_value.push_back(n.value);
      t.node_value.push_back(n.has_prior ? config_.alpha * (n.ref_logit + std::log(n.sum_weights))
                                         : std::numeric_limits<double>::quiet_NaN());
    }
    t.log_prior = log_priors_;
    for (const Edge& e : edges_) {
      t.q.push_back(e.q);
      t.reward.push_back(e.reward);
      t.visits.push_back(e.visits);
      t.child.push_back(e.child);
    }
    return t;
  }

  int final_action(const SearchResult& r) {
    const Edge* e = edges_of(0);
    switch (config_.action_selection) {
      case ActionSelection::kMostVisited:
        return static_cast<int>(std::max_element(r.visits.begin(), r.visits.end()) -
                                r.visits.begin());
      case ActionSelection::kSample:
        return pick(rng_.uniform(), [&r](int a) { return r.tree_policy[a]; });
      case ActionSelection::kArgmax:
      default: {
        int best = 0;
        for (int a = 1; a < num_actions_; ++a) {
          if (e[a].q + e[a].prior_term > e[best].q + e[best].prior_term) best = a;
        }
        return best;
      }
    }
  }

  Model& model_;
  Config config_;
  int num_actions_;
  double inv_alpha_;
  int64_t capacity_;
  Random rng_;
  std::vector<Node> nodes_;
  std::vector<State> states_;
  std::vector<Edge> edges_;
  std::vector<Mixing> mixing_;  // by visit count, so selection needs no log or division
  std::vector<double> root_log_prior_;
  bool export_tree_ = false;
  std::vector<double> log_priors_;  // per edge, kept only when the tree is exported
  std::vector<double> scratch_, leaf_prior_, sample_weights_;
  std::vector<PathStep> path_;
  // Path index of the shallowest edge whose mean reward changed in this simulation.
  size_t first_reward_change_ = kNoRewardChange;
  std::function<void()> interrupt_check_;
};

}  // namespace rqlbench::mcts
