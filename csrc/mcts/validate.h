// Checks on what a model hands to the search: shared by the native and the Python models.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace rqlbench::mcts {

// Every model, native or Python, has 1 to kMaxActions actions.
inline constexpr int64_t kMaxActions = int64_t{1} << 20;

inline void check_num_actions(int64_t num_actions, const std::string& who) {
  if (num_actions >= 1 && num_actions <= kMaxActions) return;
  std::ostringstream msg;
  msg << who << " must be an integer in [1, 2^20], got " << num_actions;
  throw std::invalid_argument(msg.str());
}

// Numerically stable log(sum(exp(x))) over n values; -inf when every value is -inf.
inline double logsumexp(const double* x, int n) {
  double m = -INFINITY;
  for (int i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  if (m == -INFINITY) return m;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += std::exp(x[i] - m);
  return m + std::log(sum);
}

// A prior's log-probabilities must be finite or -inf (a masked action), with some action
// possible, and normalized: the residual value V_R depends on the prior's absolute level.
inline void check_log_prior(const double* log_prior, int num_actions, const std::string& who) {
  for (int a = 0; a < num_actions; ++a) {
    const double v = log_prior[a];
    if (std::isnan(v) || v == INFINITY) {
      std::ostringstream msg;
      msg << who << " gave log-probability " << v << " for action " << a
          << ": log-probabilities must be finite (or -inf for an impossible action)";
      throw std::invalid_argument(msg.str());
    }
  }
  const double total = logsumexp(log_prior, num_actions);
  if (!(std::abs(total) <= 1e-6)) {
    std::ostringstream msg;
    msg << who << " gave log-probabilities whose logsumexp is " << total
        << " instead of 0: return normalized log-probabilities (apply log_softmax to logits)";
    throw std::invalid_argument(msg.str());
  }
}

inline void check_reward(double reward, int action, const std::string& who) {
  if (std::isfinite(reward)) return;
  std::ostringstream msg;
  msg << who << " gave the non-finite add-on reward " << reward << " for action " << action
      << ": rewards must be finite numbers";
  throw std::invalid_argument(msg.str());
}

}  // namespace rqlbench::mcts
