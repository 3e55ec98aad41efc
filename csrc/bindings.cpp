// pybind11 layer over the residual ME-MCTS core: Python models, the native tabular model, results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mcts/batch.h"
#include "mcts/config.h"
#include "mcts/rng.h"
#include "mcts/search.h"
#include "mcts/tabular_model.h"
#include "mcts/validate.h"

namespace py = pybind11;
using namespace rqlbench::mcts;

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::string describe(py::handle h) { return py::repr(h).cast<std::string>(); }

// Calls fn(*args) through vectorcall; a Python exception propagates unchanged.
py::object call(const py::object& fn, std::initializer_list<PyObject*> args) {
  PyObject* out =
      PyObject_Vectorcall(fn.ptr(), const_cast<PyObject**>(args.begin()), args.size(), nullptr);
  if (out == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(out);
}

double to_double(PyObject* value) {
  const double x = PyFloat_AsDouble(value);
  if (x == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return x;
}

void read_log_prior(const py::object& out, double* dest, int num_actions, const char* who) {
  auto array = DoubleArray::ensure(out);
  if (!array) {
    throw py::type_error(std::string(who) + " must return a 1-D array of " +
                         std::to_string(num_actions) + " log-probabilities, got " + describe(out));
  }
  if (array.ndim() != 1 || array.shape(0) != num_actions) {
    throw py::value_error(
        std::string(who) + " returned an array of shape " +
        describe(py::cast(std::vector<py::ssize_t>(array.shape(), array.shape() + array.ndim()))) +
        " but the model has num_actions = " + std::to_string(num_actions) +
        ": return one log-probability per action");
  }
  std::copy(array.data(), array.data() + num_actions, dest);
  check_log_prior(dest, num_actions, who);
}

py::object required_method(const py::object& model, const char* name, const char* signature) {
  if (!py::hasattr(model, name)) {
    throw py::type_error("the model " + describe(py::type::of(model)) + " has no method " +
                         std::string(signature) + ": implement it to search with this model");
  }
  return model.attr(name);
}

py::object optional_method(const py::object& model, const char* name) {
  return py::hasattr(model, name) ? py::object(model.attr(name)) : py::object();
}

int read_num_actions(const py::object& model) {
  if (!py::hasattr(model, "num_actions")) {
    throw py::type_error("the model " + describe(py::type::of(model)) +
                         " has no attribute num_actions: set it to the number of discrete actions");
  }
  const auto n = model.attr("num_actions").cast<int64_t>();
  if (n < 1 || n > (1 << 20)) {
    throw py::value_error("model.num_actions must be an integer in [1, 2^20], got " +
                          std::to_string(n));
  }
  return static_cast<int>(n);
}

// What both Python model kinds share: actions as cached ints, the rollout hook.
class PyModelBase {
 public:
  explicit PyModelBase(const py::object& model)
      : num_actions_(read_num_actions(model)), rollout_(optional_method(model, "rollout")) {
    for (int a = 0; a < num_actions_; ++a) actions_.push_back(py::int_(a));
  }
  int num_actions() const { return num_actions_; }
  bool has_rollout() const { return static_cast<bool>(rollout_); }

 protected:
  double parse_reward(PyObject* value, int action, const char* who) {
    const double reward = to_double(value);
    check_reward(reward, action, who);
    return reward;
  }
  static bool parse_flag(PyObject* value) {
    const int flag = PyObject_IsTrue(value);
    if (flag < 0) throw py::error_already_set();
    return flag != 0;
  }
  double call_rollout(std::initializer_list<PyObject*> args) {
    const double value = to_double(call(rollout_, args).ptr());
    if (!std::isfinite(value)) {
      throw py::value_error("model.rollout returned the non-finite return " +
                            std::to_string(value) + ": rollout returns must be finite");
    }
    return value;
  }

  int num_actions_;
  py::object rollout_;
  std::vector<py::object> actions_;
};

// Closed loop: the tree holds the Python states the model hands out.
class PyModel : public PyModelBase {
 public:
  using State = py::object;
  static constexpr bool kOpenLoop = false;

  explicit PyModel(const py::object& model)
      : PyModelBase(model),
        step_(required_method(model, "step",
                              "step(state, action) -> (next_state, addon_reward, terminated)")),
        prior_(required_method(model, "prior_log_probs", "prior_log_probs(state) -> array")) {}

  Transition<State> step(const State& state, int action) {
    const py::object out = call(step_, {state.ptr(), actions_[action].ptr()});
    PyObject* o = out.ptr();
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 3) {
      throw py::type_error(
          "model.step(state, action) must return a tuple (next_state, addon_reward, "
          "terminated), got " +
          describe(out));
    }
    return {py::reinterpret_borrow<py::object>(PyTuple_GET_ITEM(o, 0)),
            parse_reward(PyTuple_GET_ITEM(o, 1), action, "model.step"),
            parse_flag(PyTuple_GET_ITEM(o, 2))};
  }

  void log_prior(const State& state, double* out) {
    read_log_prior(call(prior_, {state.ptr()}), out, num_actions_, "model.prior_log_probs(state)");
  }

  double rollout(const State& state, int depth, double gamma, uint64_t seed) {
    return call_rollout(
        {state.ptr(), py::int_(depth).ptr(), py::float_(gamma).ptr(), py::int_(seed).ptr()});
  }
  void restore_root() {}

 private:
  py::object step_, prior_;
};

// Open loop: one live simulator, put back at the root before every simulation.
class PyOpenLoopModel : public PyModelBase {
 public:
  struct State {};
  static constexpr bool kOpenLoop = true;

  explicit PyOpenLoopModel(const py::object& model)
      : PyModelBase(model),
        restore_(required_method(model, "restore_root", "restore_root()")),
        step_(required_method(model, "step", "step(action) -> (addon_reward, terminated)")),
        prior_(required_method(model, "prior_log_probs", "prior_log_probs() -> array")) {}

  Transition<State> step(const State&, int action) {
    const py::object out = call(step_, {actions_[action].ptr()});
    PyObject* o = out.ptr();
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 2) {
      throw py::type_error(
          "model.step(action) must return a tuple (addon_reward, terminated), got " +
          describe(out));
    }
    return {State{}, parse_reward(PyTuple_GET_ITEM(o, 0), action, "model.step"),
            parse_flag(PyTuple_GET_ITEM(o, 1))};
  }

  void log_prior(const State&, double* out) {
    read_log_prior(call(prior_, {}), out, num_actions_, "model.prior_log_probs()");
  }

  double rollout(const State&, int depth, double gamma, uint64_t seed) {
    return call_rollout({py::int_(depth).ptr(), py::float_(gamma).ptr(), py::int_(seed).ptr()});
  }
  void restore_root() { call(restore_, {}); }

 private:
  py::object restore_, step_, prior_;
};

ActionSelection parse_action_selection(const std::string& name) {
  if (name == "argmax") return ActionSelection::kArgmax;
  if (name == "sample") return ActionSelection::kSample;
  if (name == "most_visited") return ActionSelection::kMostVisited;
  throw py::value_error(
      "action_selection must be one of 'argmax', 'sample', 'most_visited', got '" + name + "'");
}

std::string action_selection_name(ActionSelection a) {
  switch (a) {
    case ActionSelection::kSample:
      return "sample";
    case ActionSelection::kMostVisited:
      return "most_visited";
    case ActionSelection::kArgmax:
    default:
      return "argmax";
  }
}

// Lets Ctrl-C stop a native search that runs without the GIL.
void check_signals() {
  py::gil_scoped_acquire acquire;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

int32_t tabular_root(const TabularModel& model, const py::handle& root) {
  const auto state = root.cast<int64_t>();
  model.check_state(state);
  return static_cast<int32_t>(state);
}

SearchResult search(const py::object& model, const py::object& root, const Config& config) {
  if (py::isinstance<TabularModel>(model)) {
    auto& tabular = model.cast<TabularModel&>();
    const int32_t state = tabular_root(tabular, root);
    py::gil_scoped_release release;
    Searcher<TabularModel> searcher(tabular, config);
    searcher.set_interrupt_check(check_signals);
    return searcher.run(state);
  }
  PyModel py_model(model);
  Searcher<PyModel> searcher(py_model, config);
  return searcher.run(root);
}

std::vector<SearchResult> search_many(const py::object& model, const py::sequence& roots,
                                      const Config& config, int num_threads) {
  if (py::isinstance<TabularModel>(model)) {
    auto& tabular = model.cast<TabularModel&>();
    std::vector<int32_t> states;
    for (const auto& root : roots) states.push_back(tabular_root(tabular, root));
    py::gil_scoped_release release;
    return search_batch(tabular, states, config, num_threads, check_signals);
  }
  // Python callbacks need the GIL, so Python-model roots run one after another.
  PyModel py_model(model);
  Searcher<PyModel> searcher(py_model, config);
  std::vector<SearchResult> results;
  for (size_t i = 0; i < roots.size(); ++i) {
    results.push_back(searcher.run(roots[i], i));
  }
  return results;
}

SearchResult search_open_loop(const py::object& model, const Config& config) {
  PyOpenLoopModel py_model(model);
  Searcher<PyOpenLoopModel> searcher(py_model, config);
  return searcher.run({});
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

TabularModel make_tabular(
    const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& next,
    const DoubleArray& reward, const DoubleArray& log_prior,
    const py::array_t<bool, py::array::c_style | py::array::forcecast>& terminal) {
  if (next.ndim() != 2) {
    throw py::value_error("next_state must be a 2-D [num_states, num_actions] array of ints");
  }
  const auto num_states = next.shape(0), num_actions = next.shape(1);
  auto same_shape = [&](const DoubleArray& a, const char* name) {
    if (a.ndim() != 2 || a.shape(0) != num_states || a.shape(1) != num_actions) {
      throw py::value_error(std::string(name) + " must have the shape of next_state [" +
                            std::to_string(num_states) + ", " + std::to_string(num_actions) + "]");
    }
  };
  same_shape(reward, "reward");
  same_shape(log_prior, "log_prior");
  if (terminal.ndim() != 1 || terminal.shape(0) != num_states) {
    throw py::value_error("terminal must be a 1-D bool array of length num_states = " +
                          std::to_string(num_states));
  }
  std::vector<int32_t> next32;
  for (py::ssize_t i = 0; i < next.size(); ++i) {
    const int64_t s = next.data()[i];
    next32.push_back(s < 0 || s >= num_states ? -1 : static_cast<int32_t>(s));
    if (next32.back() < 0) {
      throw std::out_of_range("next_state[" + std::to_string(i / num_actions) + ", " +
                              std::to_string(i % num_actions) + "] = " + std::to_string(s) +
                              " is not a state in [0, " + std::to_string(num_states) + ")");
    }
  }
  return TabularModel(static_cast<int>(num_states), static_cast<int>(num_actions),
                      std::move(next32),
                      std::vector<double>(reward.data(), reward.data() + reward.size()),
                      std::vector<double>(log_prior.data(), log_prior.data() + log_prior.size()),
                      std::vector<uint8_t>(terminal.data(), terminal.data() + terminal.size()));
}

}  // namespace

PYBIND11_MODULE(_mcts, m) {
  m.doc() = "C++ core of residual maximum-entropy MCTS (use rqlbench.mcts for the documented API)";

  py::class_<Config>(m, "Config")
      .def(py::init([](double omega, double alpha, double epsilon, double gamma,
                       int num_simulations, int max_depth, int rollout_depth, int num_rollouts,
                       const std::string& action_selection, int64_t max_nodes, uint64_t seed) {
             Config c;
             c.omega = omega;
             c.alpha = alpha;
             c.epsilon = epsilon;
             c.gamma = gamma;
             c.num_simulations = num_simulations;
             c.max_depth = max_depth;
             c.rollout_depth = rollout_depth;
             c.num_rollouts = num_rollouts;
             c.action_selection = parse_action_selection(action_selection);
             c.max_nodes = max_nodes;
             c.seed = seed;
             c.validate();
             return c;
           }),
           py::kw_only(), py::arg("omega") = 1.0, py::arg("alpha") = 1.0, py::arg("epsilon") = 0.1,
           py::arg("gamma") = 0.99, py::arg("num_simulations") = 1000, py::arg("max_depth") = 10,
           py::arg("rollout_depth") = 10, py::arg("num_rollouts") = 1,
           py::arg("action_selection") = "argmax", py::arg("max_nodes") = 0, py::arg("seed") = 0)
      .def_readonly("omega", &Config::omega)
      .def_readonly("alpha", &Config::alpha)
      .def_readonly("epsilon", &Config::epsilon)
      .def_readonly("gamma", &Config::gamma)
      .def_readonly("num_simulations", &Config::num_simulations)
      .def_readonly("max_depth", &Config::max_depth)
      .def_readonly("rollout_depth", &Config::rollout_depth)
      .def_readonly("num_rollouts", &Config::num_rollouts)
      .def_property_readonly(
          "action_selection",
          [](const Config& c) { return action_selection_name(c.action_selection); })
      .def_readonly("max_nodes", &Config::max_nodes)
      .def_readonly("seed", &Config::seed);

  py::class_<SearchResult>(m, "SearchResult")
      .def_property_readonly("q", [](const SearchResult& r) { return to_array(r.q); })
      .def_property_readonly("visits", [](const SearchResult& r) { return to_array(r.visits); })
      .def_property_readonly("log_prior",
                             [](const SearchResult& r) { return to_array(r.log_prior); })
      .def_property_readonly("tree_policy",
                             [](const SearchResult& r) { return to_array(r.tree_policy); })
      .def_property_readonly("policy", [](const SearchResult& r) { return to_array(r.policy); })
      .def_readonly("value", &SearchResult::value)
      .def_readonly("action", &SearchResult::action)
      .def_readonly("num_nodes", &SearchResult::num_nodes)
      .def_readonly("num_simulations", &SearchResult::num_simulations)
      .def("__repr__", [](const SearchResult& r) {
        return "SearchResult(action=" + std::to_string(r.action) +
               ", value=" + std::to_string(r.value) + ", num_nodes=" + std::to_string(r.num_nodes) +
               ", num_simulations=" + std::to_string(r.num_simulations) + ")";
      });

  py::class_<TabularModel>(m, "TabularModel")
      .def(py::init(&make_tabular), py::arg("next_state"), py::arg("reward"), py::arg("log_prior"),
           py::arg("terminal"))
      .def_property_readonly("num_states", &TabularModel::num_states)
      .def_property_readonly("num_actions", &TabularModel::num_actions)
      .def("step",
           [](const TabularModel& m, int64_t state, int64_t action) {
             m.check_state(state);
             m.check_action(action);
             const auto t = m.step(static_cast<int32_t>(state), static_cast<int>(action));
             return py::make_tuple(t.next, t.reward, t.terminated);
           })
      .def("prior_log_probs", [](const TabularModel& m, int64_t state) {
        m.check_state(state);
        py::array_t<double> out(m.num_actions());
        m.log_prior(static_cast<int32_t>(state), out.mutable_data());
        return out;
      });

  py::class_<Random>(m, "Random")
      .def(py::init<uint64_t, uint64_t>(), py::arg("seed") = 0, py::arg("stream") = 0)
      .def("uniform", &Random::uniform)
      .def("next", &Random::next);

  m.def("search", &search, py::arg("model"), py::arg("root"), py::arg("config"));
  m.def("search_batch", &search_many, py::arg("model"), py::arg("roots"), py::arg("config"),
        py::arg("num_threads") = 0);
  m.def("search_open_loop", &search_open_loop, py::arg("model"), py::arg("config"));
}
