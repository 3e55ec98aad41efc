// The native highway planning model of residual ME-MCTS (issue 12 item 4): the native simulator
// (sim.h) stepped on copies with the task's add-on reward, the prior's MLP on the native
// Kinematics observation, and prior rollouts to the planning horizon. It mirrors the Python path
// (rqlbench/mcts/planner.py's ResidualModel over rqlbench/tasks/highway_model.py's HighwayModel):
// an episode ends when the ego crashed or the time reached the duration. Every member is const and
// allocation-light, so search_batch can share one model across threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "highway/observation.h"
#include "highway/rewards.h"
#include "highway/sim.h"
#include "mcts/mlp_prior.h"
#include "mcts/model.h"
#include "mcts/rng.h"

namespace rqlbench::highway {

struct PlanningState {
  HighwayState sim;
  int depth = 0;  // policy steps below the search root
};

class PlanningModel {
 public:
  using State = PlanningState;
  static constexpr bool kOpenLoop = false;

  PlanningModel(mcts::MlpPrior prior, int horizon) : prior_(std::move(prior)), horizon_(horizon) {
    if (horizon_ < 1) {
      throw std::invalid_argument("horizon must be >= 1 (steps planned ahead), got " +
                                  std::to_string(horizon_));
    }
    if (prior_.num_inputs() != kObsSize || prior_.num_actions() != kNumActions) {
      throw std::invalid_argument(
          "the highway planning model needs a prior over the Kinematics observation (" +
          std::to_string(kObsSize) + " inputs) and " + std::to_string(kNumActions) +
          " actions, got " + std::to_string(prior_.num_inputs()) + " inputs and " +
          std::to_string(prior_.num_actions()) + " actions");
    }
  }

  int num_actions() const { return kNumActions; }
  int horizon() const { return horizon_; }

  mcts::Transition<State> step(const State& s, int action) const {
    State next{s.sim, s.depth + 1};
    const StepOutcome o = highway::step(next.sim, action);
    return {std::move(next), o.addon, o.terminated || o.truncated};
  }

  // The prior sees highway-env's observation: float32 values, widened to double.
  void log_prior(const State& s, double* out) const { log_prior_of(s.sim, out); }

  bool has_rollout() const { return true; }

  // The prior's discounted add-on return for min(depth, horizon - s.depth) steps, its actions
  // sampled with the core's generator seeded by `seed`.
  double rollout(const State& s, int depth, double gamma, uint64_t seed) const {
    const int steps = std::min(depth, horizon_ - s.depth);
    if (steps <= 0) return 0.0;
    mcts::Random rng(seed);
    HighwayState sim = s.sim;
    double log_probs[kNumActions];
    double ret = 0.0, discount = 1.0;
    for (int t = 0; t < steps; ++t) {
      log_prior_of(sim, log_probs);
      const StepOutcome o = highway::step(sim, sample(log_probs, rng));
      ret += discount * o.addon;
      discount *= gamma;
      if (o.terminated || o.truncated) break;
    }
    return ret;
  }

 private:
  void log_prior_of(const HighwayState& sim, double* out) const {
    float obs[kObsSize];
    observe(sim, obs);
    double x[kObsSize];
    std::copy(obs, obs + kObsSize, x);
    prior_.log_probs(x, out);
  }

  // Inverse-CDF sampling of exp(log_probs), as the core samples the prior.
  static int sample(const double* log_probs, mcts::Random& rng) {
    double weights[kNumActions];
    const double top = *std::max_element(log_probs, log_probs + kNumActions);
    double sum = 0.0;
    for (int a = 0; a < kNumActions; ++a) sum += weights[a] = std::exp(log_probs[a] - top);
    double u = rng.uniform() * sum;
    int last = 0;
    for (int a = 0; a < kNumActions; ++a) {
      if (weights[a] <= 0.0) continue;
      last = a;
      if (u < weights[a]) return a;
      u -= weights[a];
    }
    return last;  // rounding left u past the total: the last action with weight
  }

  mcts::MlpPrior prior_;
  int horizon_;
};

static_assert(mcts::check_search_model<const PlanningModel>());

}  // namespace rqlbench::highway
