// A native deterministic tabular MDP: the model for tests and benchmarks without Python.
#pragma once

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model.h"
#include "validate.h"

namespace rqlbench::mcts {

// A row-major table with the shape its source claims (e.g. a numpy array's shape).
template <class T>
struct Table {
  std::vector<T> values;
  std::vector<int64_t> shape;
};

class TabularModel {
 public:
  using State = int32_t;
  static constexpr bool kOpenLoop = false;

  // next_state, reward, log_prior: [num_states, num_actions]; terminal[s] marks absorbing states.
  // Every shape and value check of a tabular model lives here (the bindings only copy arrays).
  TabularModel(const Table<int64_t>& next_state, Table<double> reward, Table<double> log_prior,
               Table<uint8_t> terminal) {
    const std::vector<int64_t>& shape = next_state.shape;
    if (shape.size() != 2 || shape[0] < 1 || shape[0] > kMaxStates) {
      throw std::invalid_argument(
          "next_state must be a 2-D [num_states, num_actions] array of ints with 1 to 2^31 - 1 "
          "states, got shape " +
          shape_text(shape));
    }
    check_num_actions(shape[1], "next_state's number of columns (num_actions)");
    check_table("next_state", next_state, shape, "its shape");
    check_table("reward", reward, shape, "the shape of next_state");
    check_table("log_prior", log_prior, shape, "the shape of next_state");
    check_table("terminal", terminal, {shape[0]}, "one flag per state, shape");
    num_states_ = static_cast<int>(shape[0]);
    num_actions_ = static_cast<int>(shape[1]);
    reward_ = std::move(reward.values);
    log_prior_ = std::move(log_prior.values);
    terminal_ = std::move(terminal.values);
    next_state_.reserve(next_state.values.size());
    for (size_t i = 0; i < next_state.values.size(); ++i) {
      const int64_t next = next_state.values[i];
      const int state = static_cast<int>(i / num_actions_),
                action = static_cast<int>(i % num_actions_);
      if (next < 0 || next >= num_states_) {
        std::ostringstream msg;
        msg << "next_state[" << state << ", " << action << "] = " << next
            << " is not a state in [0, " << num_states_ << ")";
        throw std::out_of_range(msg.str());
      }
      next_state_.push_back(static_cast<int32_t>(next));
      check_reward(reward_[i], action, "reward table at state " + std::to_string(state));
    }
    for (int s = 0; s < num_states_; ++s) {
      check_log_prior(&log_prior_[static_cast<size_t>(s) * num_actions_], num_actions_,
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

  void check_state(int64_t s) const { check_index("state", s, num_states_); }
  void check_action(int64_t a) const { check_index("action", a, num_actions_); }

 private:
  static void check_index(const char* what, int64_t value, int size) {
    if (value >= 0 && value < size) return;
    std::ostringstream msg;
    msg << what << " " << value << " is out of range [0, " << size << ")";
    throw std::out_of_range(msg.str());
  }

  static constexpr int64_t kMaxStates = 2147483647;  // states are int32

  static std::string shape_text(const std::vector<int64_t>& shape) {
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
  }

  template <class T>
  static void check_table(const char* name, const Table<T>& table,
                          const std::vector<int64_t>& expected, const char* what) {
    int64_t size = 1;
    for (int64_t n : expected) size *= n;
    if (table.shape == expected && static_cast<int64_t>(table.values.size()) == size) return;
    throw std::invalid_argument(std::string(name) + " must have " + what + " " +
                                shape_text(expected) + ", got shape " + shape_text(table.shape) +
                                " with " + std::to_string(table.values.size()) + " values");
  }

  int num_states_ = 0, num_actions_ = 0;
  std::vector<int32_t> next_state_;
  std::vector<double> reward_, log_prior_;
  std::vector<uint8_t> terminal_;
};

}  // namespace rqlbench::mcts
