// Hyperparameters of residual max-entropy MCTS and their validation.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace rqlbench::mcts {

enum class ActionSelection { kArgmax, kSample, kMostVisited };

struct Config {
  double omega = 1.0;    // ω' = ω·α: weight of the prior's log-probability
  double alpha = 1.0;    // α̂: temperature of the customized policy
  double epsilon = 0.1;  // E2W exploration constant ε of the MENTS λ_s schedule
  double gamma = 0.99;   // discount
  int num_simulations = 1000;
  int max_depth = 10;      // nodes at this depth are leaves, valued by rollouts
  int rollout_depth = 10;  // steps of each prior rollout from a new leaf (0: leaf value 0)
  int num_rollouts = 1;    // rollouts averaged per leaf
  ActionSelection action_selection = ActionSelection::kArgmax;
  int64_t max_nodes = 0;  // arena cap; 0 means num_simulations + 1 (never limiting)
  uint64_t seed = 0;

  // Node capacity actually reserved for one search.
  int64_t node_capacity() const {
    const int64_t needed = static_cast<int64_t>(num_simulations) + 1;
    return max_nodes > 0 && max_nodes < needed ? max_nodes : needed;
  }

  void validate() const {
    require(std::isfinite(alpha) && alpha > 0.0, "alpha", alpha, "a finite number > 0",
            "the customized policy's temperature, e.g. 1.0");
    require(std::isfinite(omega) && omega >= 0.0, "omega", omega, "a finite number >= 0",
            "omega' = omega * prior temperature weighs the prior; 0 ignores it");
    require(std::isfinite(epsilon) && epsilon >= 0.0, "epsilon", epsilon, "a finite number >= 0",
            "the E2W exploration constant, e.g. 0.1");
    require(std::isfinite(gamma) && gamma >= 0.0 && gamma <= 1.0, "gamma", gamma,
            "a discount in [0, 1]");
    require(num_simulations > 0, "num_simulations", num_simulations, "an integer >= 1");
    require(max_depth > 0, "max_depth", max_depth, "an integer >= 1");
    require(rollout_depth >= 0, "rollout_depth", rollout_depth, "an integer >= 0",
            "0 values new leaves at 0");
    require(num_rollouts > 0, "num_rollouts", num_rollouts, "an integer >= 1");
    require(max_nodes >= 0, "max_nodes", max_nodes, "an integer >= 0",
            "0 keeps every node, n caps the tree at n nodes");
  }

 private:
  template <class T>
  static void require(bool ok, const char* name, T value, const char* expected,
                      const char* hint = nullptr) {
    if (ok) return;
    std::ostringstream msg;
    msg << name << " must be " << expected << ", got " << value;
    if (hint != nullptr) msg << " (" << hint << ")";
    throw std::invalid_argument(msg.str());
  }
};

}  // namespace rqlbench::mcts
