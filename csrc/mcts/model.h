// The model concept of the search, stated in code: a model missing a member fails to compile with
// a message naming the member, instead of a template backtrace. A model provides
//
//   using State = ...;                     held by value in the tree (closed loop)
//   static constexpr bool kOpenLoop;       true: states are not stored, paths are replayed
//   int num_actions() const;
//   Transition<State> step(const State&, int action);
//   void log_prior(const State&, double* out);   normalized log π(.|s), num_actions() values
//   bool has_rollout() const;              false: the core rolls out the prior itself
//   double rollout(const State&, int depth, double gamma, uint64_t seed);
//   void restore_root();                   open loop only: put the simulator back at the root
//
// tabular_model.h is the native example; bindings.cpp wraps Python objects in the same concept.
// search_batch calls a model shared by its threads through a const reference (see batch.h).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace rqlbench::mcts {

template <class State>
struct Transition {
  State next;
  double reward;
  bool terminated;
};

namespace model_detail {

// C++17 detection idiom: Detected<M, Op> is true when Op<M> is well-formed, Returns<M, Op, R>
// when it also converts to R.
template <class M, template <class> class Op, class = void>
struct Detected : std::false_type {};
template <class M, template <class> class Op>
struct Detected<M, Op, std::void_t<Op<M>>> : std::true_type {};
template <class M, template <class> class Op, class R, class = void>
struct Returns : std::false_type {};
template <class M, template <class> class Op, class R>
struct Returns<M, Op, R, std::void_t<Op<M>>> : std::is_convertible<Op<M>, R> {};

template <class M>
using StateOf = typename M::State;
template <class M>
using OpenLoopFlag = decltype(M::kOpenLoop);
template <class M>
using NumActions = decltype(std::declval<M&>().num_actions());
template <class M>
using Step = decltype(std::declval<M&>().step(std::declval<const StateOf<M>&>(), 0));
template <class M>
using StepTransition = std::enable_if_t<std::is_same_v<Step<M>, Transition<StateOf<M>>>>;
template <class M>
using LogPrior =
    decltype(std::declval<M&>().log_prior(std::declval<const StateOf<M>&>(), (double*)nullptr));
template <class M>
using HasRollout = decltype(std::declval<M&>().has_rollout());
template <class M>
using Rollout = decltype(std::declval<M&>().rollout(std::declval<const StateOf<M>&>(), 0, 0.0,
                                                    std::uint64_t{0}));
template <class M>
using RestoreRoot = decltype(std::declval<M&>().restore_root());

template <class M>
constexpr bool has_state = Detected<M, StateOf>::value;

template <class M, class = void>
struct IsOpenLoop : std::false_type {};
template <class M>
struct IsOpenLoop<M, std::void_t<OpenLoopFlag<M>>> : std::bool_constant<M::kOpenLoop> {};
template <class M>
constexpr bool restores_root = !IsOpenLoop<M>::value || Detected<M, RestoreRoot>::value;

}  // namespace model_detail

// True when Model (possibly const-qualified: then every member must be const) has every member
// the search calls.
template <class Model>
constexpr bool is_search_model_v = [] {
  using namespace model_detail;
  return has_state<Model> && Returns<Model, OpenLoopFlag, bool>::value &&
         Returns<Model, NumActions, int>::value && Detected<Model, StepTransition>::value &&
         Detected<Model, LogPrior>::value && Returns<Model, HasRollout, bool>::value &&
         Returns<Model, Rollout, double>::value && restores_root<Model>;
}();

// One readable compile error per missing member; true, so that it can sit in a static_assert.
template <class Model>
constexpr bool check_search_model() {
  using namespace model_detail;
  constexpr bool state = has_state<Model>;
  static_assert(state, "MCTS model: missing `using State = ...;` (the state type the tree holds)");
  static_assert(Returns<Model, OpenLoopFlag, bool>::value,
                "MCTS model: missing `static constexpr bool kOpenLoop` (true: states are not "
                "stored and every simulation replays its path from the root)");
  static_assert(Returns<Model, NumActions, int>::value,
                "MCTS model: missing `int num_actions() const`");
  static_assert(!state || Detected<Model, StepTransition>::value,
                "MCTS model: missing `Transition<State> step(const State&, int action)`");
  static_assert(!state || Detected<Model, LogPrior>::value,
                "MCTS model: missing `void log_prior(const State&, double* out)` (writes the "
                "normalized prior log-probabilities of the num_actions() actions)");
  static_assert(Returns<Model, HasRollout, bool>::value,
                "MCTS model: missing `bool has_rollout() const` (false: the search rolls out the "
                "prior itself)");
  static_assert(!state || Returns<Model, Rollout, double>::value,
                "MCTS model: missing `double rollout(const State&, int depth, double gamma, "
                "uint64_t seed)` (return 0 when has_rollout() is false)");
  static_assert(restores_root<Model>,
                "MCTS model: an open-loop model (kOpenLoop = true) needs `void restore_root()`, "
                "which puts the simulator back at the root state");
  return true;
}

}  // namespace rqlbench::mcts
