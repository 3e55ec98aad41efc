// A native deterministic tabular MDP: the model for tests and benchmarks without Python.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "search.h"
#include "validate.h"

namespace rqlbench::mcts {

class TabularModel {
 public:
  using State = int32_t;
  static constexpr bool kOpenLoop = false;

  // Row-major [num_states, num_actions] tables; terminal[s] marks absorbing states.
  TabularModel(int num_states, int num_actions, std::vector<int32_t> next_state,
               std::vector<double> reward, std::vector<double> log_prior,
               std::vector<uint8_t> terminal)
      : num_states_(num_states),
        num_actions_(num_actions),
        next_state_(std::move(next_state)),
        reward_(std::move(reward)),
        log_prior_(std::move(log_prior)),
        terminal_(std::move(terminal)) {
    if (num_states < 1 || num_actions < 1) {
      throw std::invalid_argument("a tabular model needs at least 1 state and 1 action");
    }
    const size_t cells = static_cast<size_t>(num_states) * num_actions;
    if (next_state_.size() != cells || reward_.size() != cells || log_prior_.size() != cells ||
        terminal_.size() != static_cast<size_t>(num_states)) {
      throw std::invalid_argument(
          "next_state, reward and log_prior must have shape [num_states, num_actions] and "
          "terminal shape [num_states]");
    }
    for (size_t i = 0; i < cells; ++i) {
      const int state = static_cast<int>(i / num_actions),
                action = static_cast<int>(i % num_actions);
      if (next_state_[i] < 0 || next_state_[i] >= num_states) {
        std::ostringstream msg;
        msg << "next_state[" << state << ", " << action << "] = " << next_state_[i]
            << " is not a state in [0, " << num_states << ")";
        throw std::out_of_range(msg.str());
      }
      check_reward(reward_[i], action, "reward table at state " + std::to_string(state));
    }
    for (int s = 0; s < num_states; ++s) {
      check_log_prior(&log_prior_[static_cast<size_t>(s) * num_actions], num_actions,
                      "log_prior table at state " + std::to_string(s));
    }
  }

  int num_actions() const { return num_actions_; }
  int num_states() const { return num_states_; }

  Transition<State> step(const State& s, int a) const {
    const size_t i = static_cast<size_t>(s) * num_actions_ + a;
    const int32_t next = next_state_[i];
    return {next, reward_[i], terminal_[next] != 0};
  }

  void log_prior(const State& s, double* out) const {
    const double* row = &log_prior_[static_cast<size_t>(s) * num_actions_];
    std::copy(row, row + num_actions_, out);
  }

  bool has_rollout() const { return false; }
  double rollout(const State&, int, double, uint64_t) const { return 0.0; }
  void restore_root() const {}

  void check_state(int64_t s) const { check_index("state", s, num_states_); }
  void check_action(int64_t a) const { check_index("action", a, num_actions_); }

 private:
  static void check_index(const char* what, int64_t value, int size) {
    if (value >= 0 && value < size) return;
    std::ostringstream msg;
    msg << what << " " << value << " is out of range [0, " << size << ")";
    throw std::out_of_range(msg.str());
  }

  int num_states_, num_actions_;
  std::vector<int32_t> next_state_;
  std::vector<double> reward_, log_prior_;
  std::vector<uint8_t> terminal_;
};

}  // namespace rqlbench::mcts
