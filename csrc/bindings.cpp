// pybind11 layer over the residual ME-MCTS core: Python models, the native tabular model, results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "highway/observation.h"
#include "highway/planning_model.h"
#include "highway/rewards.h"
#include "highway/sim.h"
#include "mcts/batch.h"
#include "mcts/config.h"
#include "mcts/mlp_prior.h"
#include "mcts/rng.h"
#include "mcts/search.h"
#include "mcts/tabular_model.h"
#include "mcts/validate.h"

namespace py = pybind11;
using namespace rqlbench::mcts;
namespace highway = rqlbench::highway;

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
  check_num_actions(n, "model.num_actions");
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

// Native models: each is one entry in NativeModels plus a root_state overload that turns a Python
// root into its State (checked).
template <class... Models>
struct ModelList {};
using NativeModels = ModelList<TabularModel, highway::PlanningModel>;

int32_t root_state(const TabularModel& model, py::handle root) {
  const auto state = root.cast<int64_t>();
  model.check_state(state);
  return static_cast<int32_t>(state);
}

// The highway model searches from a copy of a Python HighwaySim (rqlbench.tasks.highway_native).
highway::PlanningState root_state(const highway::PlanningModel&, py::handle root) {
  if (!py::isinstance<highway::HighwayState>(root)) {
    throw py::type_error(
        "HighwayPlanningModel searches from a HighwaySim root (build one with "
        "rqlbench.tasks.highway_native.native_sim(env)), got " +
        describe(root));
  }
  return {root.cast<const highway::HighwayState&>(), 0};
}

struct Request {
  const Config& config;
  int num_threads;
  bool export_tree;
};

// Native models search without the GIL, on up to num_threads threads.
template <class Model>
std::vector<SearchResult> search_native(const Model& model, const py::sequence& roots,
                                        const Request& request) {
  std::vector<typename Model::State> states;
  for (const auto& root : roots) states.push_back(root_state(model, root));
  py::gil_scoped_release release;
  return search_batch(model, states, request.config, request.num_threads, check_signals,
                      request.export_tree);
}

// Python models need the GIL for their callbacks, so their roots run one after another, with the
// same random stream per root as search_batch.
template <class PyWrapper>
std::vector<SearchResult> search_in_order(PyWrapper& model,
                                          const std::vector<typename PyWrapper::State>& roots,
                                          const Request& request) {
  Searcher<PyWrapper> searcher(model, request.config);
  std::vector<SearchResult> results;
  for (size_t i = 0; i < roots.size(); ++i) {
    results.push_back(searcher.run(roots[i], i, request.export_tree));
  }
  return results;
}

// The one native-vs-Python dispatch of closed-loop searches.
template <class Native, class... Rest>
std::vector<SearchResult> search_closed_loop(const py::object& model, const py::sequence& roots,
                                             const Request& request, ModelList<Native, Rest...>) {
  if (py::isinstance<Native>(model))
    return search_native(model.cast<const Native&>(), roots, request);
  if constexpr (sizeof...(Rest) > 0) {
    return search_closed_loop(model, roots, request, ModelList<Rest...>{});
  } else {
    PyModel py_model(model);
    return search_in_order(py_model, std::vector<py::object>(roots.begin(), roots.end()), request);
  }
}

SearchResult search(const py::object& model, const py::object& root, const Config& config,
                    bool return_tree) {
  return search_closed_loop(model, py::make_tuple(root), {config, 1, return_tree},
                            NativeModels{})[0];
}

std::vector<SearchResult> search_many(const py::object& model, const py::sequence& roots,
                                      const Config& config, int num_threads, bool return_tree) {
  return search_closed_loop(model, roots, {config, num_threads, return_tree}, NativeModels{});
}

SearchResult search_open_loop(const py::object& model, const Config& config, bool return_tree) {
  PyOpenLoopModel py_model(model);
  return search_in_order(py_model, {PyOpenLoopModel::State{}}, {config, 1, return_tree})[0];
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v, py::ssize_t rows, py::ssize_t columns) {
  py::array_t<T> out({rows, columns});
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// The exported tree as rqlbench.mcts.tree.Tree (numpy arrays; None when not exported).
py::object tree_to_python(const SearchResult& r) {
  const SearchTree& t = r.tree;
  if (t.node_visits.empty()) return py::none();
  const auto nodes = static_cast<py::ssize_t>(t.node_visits.size());
  const py::ssize_t actions = t.num_actions;
  py::array_t<bool> node_terminal(nodes);
  for (py::ssize_t i = 0; i < nodes; ++i) node_terminal.mutable_data()[i] = t.node_terminal[i] != 0;
  const py::object tree_class = py::module_::import("rqlbench.mcts.tree").attr("Tree");
  return tree_class(py::arg("node_visits") = to_array(t.node_visits),
                    py::arg("node_depth") = to_array(t.node_depth),
                    py::arg("node_terminal") = node_terminal,
                    py::arg("node_leaf_value") = to_array(t.node_leaf_value),
                    py::arg("node_value") = to_array(t.node_value),
                    py::arg("log_prior") = to_array(t.log_prior, nodes, actions),
                    py::arg("q") = to_array(t.q, nodes, actions),
                    py::arg("reward") = to_array(t.reward, nodes, actions),
                    py::arg("visits") = to_array(t.visits, nodes, actions),
                    py::arg("child") = to_array(t.child, nodes, actions));
}

template <class T>
Table<T> to_table(const py::array_t<T, py::array::c_style | py::array::forcecast>& a) {
  return {std::vector<T>(a.data(), a.data() + a.size()),
          std::vector<int64_t>(a.shape(), a.shape() + a.ndim())};
}

TabularModel make_tabular(
    const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& next,
    const DoubleArray& reward, const DoubleArray& log_prior,
    const py::array_t<bool, py::array::c_style | py::array::forcecast>& terminal) {
  return TabularModel(to_table(next), to_table(reward), to_table(log_prior),
                      {std::vector<uint8_t>(terminal.data(), terminal.data() + terminal.size()),
                       std::vector<int64_t>(terminal.shape(), terminal.shape() + terminal.ndim())});
}

Config make_config(double omega, double alpha, double epsilon, double gamma, int num_simulations,
                   int max_depth, int rollout_depth, int num_rollouts,
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
}

// The native highway simulator: a state imported from highway-env as per-vehicle arrays
// (rqlbench.tasks.highway_native builds them), stepped one policy step at a time.
using IntArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
using BoolArray = py::array_t<bool, py::array::c_style | py::array::forcecast>;

template <typename Array>
const typename Array::value_type* column(const Array& a, py::ssize_t n, const char* name) {
  if (a.ndim() != 1 || a.shape(0) != n) {
    throw std::invalid_argument(
        std::string("HighwaySim: ") + name + " must be a 1-d array with one entry per vehicle (" +
        std::to_string(n) + "), got shape " +
        describe(py::cast(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()))));
  }
  return a.data();
}

highway::HighwayState make_highway_state(const DoubleArray& x, const DoubleArray& y,
                                         const DoubleArray& heading, const DoubleArray& speed,
                                         const DoubleArray& target_speed, const DoubleArray& delta,
                                         const DoubleArray& timer, const DoubleArray& impact_x,
                                         const DoubleArray& impact_y, const IntArray& lane,
                                         const IntArray& target_lane, const IntArray& speed_index,
                                         const BoolArray& crashed, const BoolArray& has_impact,
                                         double time, int64_t frames) {
  const py::ssize_t n = x.ndim() == 1 ? x.shape(0) : -1;
  if (n < 1) throw std::invalid_argument("HighwaySim: x must be a non-empty 1-d array");
  const double* cx = column(x, n, "x");
  const double* cy = column(y, n, "y");
  const double* ch = column(heading, n, "heading");
  const double* cv = column(speed, n, "speed");
  const double* cts = column(target_speed, n, "target_speed");
  const double* cd = column(delta, n, "delta");
  const double* ct = column(timer, n, "timer");
  const double* cix = column(impact_x, n, "impact_x");
  const double* ciy = column(impact_y, n, "impact_y");
  const int64_t* cl = column(lane, n, "lane");
  const int64_t* ctl = column(target_lane, n, "target_lane");
  const int64_t* csi = column(speed_index, n, "speed_index");
  const bool* cc = column(crashed, n, "crashed");
  const bool* chi = column(has_impact, n, "has_impact");
  highway::HighwayState s;
  s.time = time;
  s.frames = frames;
  s.cars.resize(static_cast<size_t>(n));
  for (py::ssize_t i = 0; i < n; ++i) {
    for (int64_t k : {cl[i], ctl[i]}) {
      if (k < 0 || k >= highway::kLanes) {
        throw std::invalid_argument("HighwaySim: vehicle " + std::to_string(i) + " has lane " +
                                    std::to_string(k) + "; the native road has lanes 0..2");
      }
    }
    highway::Car& c = s.cars[static_cast<size_t>(i)];
    c.x = cx[i];
    c.y = cy[i];
    c.heading = ch[i];
    c.speed = cv[i];
    c.target_speed = cts[i];
    c.delta = cd[i];
    c.timer = ct[i];
    c.impact_x = cix[i];
    c.impact_y = ciy[i];
    c.lane = static_cast<int32_t>(cl[i]);
    c.target_lane = static_cast<int32_t>(ctl[i]);
    c.speed_index = static_cast<int32_t>(csi[i]);
    c.crashed = cc[i];
    c.has_impact = chi[i];
  }
  return s;
}

template <typename T, typename Field>
py::array_t<T> car_column(const highway::HighwayState& s, Field field) {
  py::array_t<T> out(static_cast<py::ssize_t>(s.cars.size()));
  T* data = out.mutable_data();
  for (size_t i = 0; i < s.cars.size(); ++i) data[i] = static_cast<T>(field(s.cars[i]));
  return out;
}

py::dict highway_state_dict(const highway::HighwayState& s) {
  using highway::Car;
  py::dict d;
  d["x"] = car_column<double>(s, [](const Car& c) { return c.x; });
  d["y"] = car_column<double>(s, [](const Car& c) { return c.y; });
  d["heading"] = car_column<double>(s, [](const Car& c) { return c.heading; });
  d["speed"] = car_column<double>(s, [](const Car& c) { return c.speed; });
  d["target_speed"] = car_column<double>(s, [](const Car& c) { return c.target_speed; });
  d["delta"] = car_column<double>(s, [](const Car& c) { return c.delta; });
  d["timer"] = car_column<double>(s, [](const Car& c) { return c.timer; });
  d["impact_x"] = car_column<double>(s, [](const Car& c) { return c.impact_x; });
  d["impact_y"] = car_column<double>(s, [](const Car& c) { return c.impact_y; });
  d["lane"] = car_column<int64_t>(s, [](const Car& c) { return c.lane; });
  d["target_lane"] = car_column<int64_t>(s, [](const Car& c) { return c.target_lane; });
  d["speed_index"] = car_column<int64_t>(s, [](const Car& c) { return c.speed_index; });
  d["crashed"] = car_column<bool>(s, [](const Car& c) { return c.crashed; });
  d["has_impact"] = car_column<bool>(s, [](const Car& c) { return c.has_impact; });
  d["time"] = s.time;
  d["frames"] = s.frames;
  return d;
}

}  // namespace

PYBIND11_MODULE(_mcts, m) {
  m.doc() = "C++ core of residual maximum-entropy MCTS (use rqlbench.mcts for the documented API)";

  const Config defaults;  // config.h holds every default; Python reads them from here
  py::class_<Config>(m, "Config")
      .def(py::init(&make_config), py::kw_only(), py::arg("omega") = defaults.omega,
           py::arg("alpha") = defaults.alpha, py::arg("epsilon") = defaults.epsilon,
           py::arg("gamma") = defaults.gamma, py::arg("num_simulations") = defaults.num_simulations,
           py::arg("max_depth") = defaults.max_depth,
           py::arg("rollout_depth") = defaults.rollout_depth,
           py::arg("num_rollouts") = defaults.num_rollouts,
           py::arg("action_selection") = action_selection_name(defaults.action_selection),
           py::arg("max_nodes") = defaults.max_nodes, py::arg("seed") = defaults.seed)
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
      .def_property_readonly("tree", &tree_to_python)
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

  py::class_<MlpPrior>(m, "MlpPrior")
      .def(py::init([](const std::vector<DoubleArray>& weights,
                       const std::vector<DoubleArray>& biases,
                       const std::vector<std::optional<std::string>>& activations, double alpha) {
             if (weights.size() != biases.size() || weights.size() != activations.size()) {
               throw py::value_error("weights, biases and activations need one entry per layer");
             }
             std::vector<DenseLayer> layers;
             for (std::size_t i = 0; i < weights.size(); ++i) {
               if (weights[i].ndim() != 2 || biases[i].ndim() != 1) {
                 throw py::value_error("layer " + std::to_string(i) +
                                       ": weight must be 2-D [outputs, inputs], bias 1-D");
               }
               DenseLayer layer;
               layer.outputs = static_cast<int>(weights[i].shape(0));
               layer.inputs = static_cast<int>(weights[i].shape(1));
               layer.weight.assign(weights[i].data(), weights[i].data() + weights[i].size());
               layer.bias.assign(biases[i].data(), biases[i].data() + biases[i].size());
               const std::string name = activations[i].value_or("none");
               if (name != "none" && name != "relu" && name != "tanh") {
                 throw py::value_error("activation must be 'relu', 'tanh' or None, got " + name);
               }
               layer.activation = name == "relu"   ? Activation::kRelu
                                  : name == "tanh" ? Activation::kTanh
                                                   : Activation::kNone;
               layers.push_back(std::move(layer));
             }
             return MlpPrior(std::move(layers), alpha);
           }),
           py::arg("weights"), py::arg("biases"), py::arg("activations"), py::arg("alpha"))
      .def_property_readonly("num_inputs", &MlpPrior::num_inputs)
      .def_property_readonly("num_actions", &MlpPrior::num_actions)
      .def("log_probs", [](const MlpPrior& prior, const DoubleArray& obs) {
        if (obs.size() != prior.num_inputs()) {
          throw py::value_error("the observation has " + std::to_string(obs.size()) +
                                " values, the prior takes " + std::to_string(prior.num_inputs()) +
                                " values");
        }
        py::array_t<double> out(prior.num_actions());
        prior.log_probs(obs.data(), out.mutable_data());
        return out;
      });
  py::class_<Random>(m, "Random")
      .def(py::init<uint64_t, uint64_t>(), py::arg("seed"), py::arg("stream"))
      .def("uniform", &Random::uniform)
      .def("next", &Random::next);

  py::class_<highway::HighwayState>(m, "HighwaySim")
      .def(py::init(&make_highway_state), py::kw_only(), py::arg("x"), py::arg("y"),
           py::arg("heading"), py::arg("speed"), py::arg("target_speed"), py::arg("delta"),
           py::arg("timer"), py::arg("impact_x"), py::arg("impact_y"), py::arg("lane"),
           py::arg("target_lane"), py::arg("speed_index"), py::arg("crashed"),
           py::arg("has_impact"), py::arg("time"), py::arg("frames"))
      .def(
          "step",
          [](highway::HighwayState& s, int action) {
            const highway::StepOutcome o = highway::step(s, action);
            return py::make_tuple(o.basic, o.addon, o.terminated, o.truncated);
          },
          py::arg("action"))
      .def("observe",
           [](const highway::HighwayState& s) {
             py::array_t<float> out({highway::kObsVehicles, highway::kObsFeatures});
             highway::observe(s, out.mutable_data());
             return out;
           })
      .def("rewards",
           [](const highway::HighwayState& s) {
             const highway::StepOutcome o = highway::outcome(s);
             return py::make_tuple(o.basic, o.addon);
           })
      .def_property_readonly(
          "terminated",
          [](const highway::HighwayState& s) { return highway::outcome(s).terminated; })
      .def_property_readonly(
          "truncated", [](const highway::HighwayState& s) { return highway::outcome(s).truncated; })
      .def("copy", [](const highway::HighwayState& s) { return highway::HighwayState(s); })
      .def_property_readonly("num_vehicles",
                             [](const highway::HighwayState& s) { return s.cars.size(); })
      .def_property_readonly("ego_lane",
                             [](const highway::HighwayState& s) { return s.cars[0].lane; })
      .def_property_readonly("ego_crashed",
                             [](const highway::HighwayState& s) { return s.cars[0].crashed; })
      .def_readonly("time", &highway::HighwayState::time)
      .def_readonly("frames", &highway::HighwayState::frames)
      .def("state", &highway_state_dict);

  // The native highway planning model; step / prior_log_probs / rollout take a HighwaySim and its
  // depth below the root, for tests against the Python model.
  py::class_<highway::PlanningModel>(m, "HighwayPlanningModel")
      .def(py::init<MlpPrior, int>(), py::arg("prior"), py::arg("horizon"))
      .def_property_readonly("num_actions", &highway::PlanningModel::num_actions)
      .def_property_readonly("horizon", &highway::PlanningModel::horizon)
      .def(
          "step",
          [](const highway::PlanningModel& model, const highway::HighwayState& sim, int action,
             int depth) {
            highway::check_action(action);
            auto t = model.step({sim, depth}, action);
            return py::make_tuple(std::move(t.next.sim), t.reward, t.terminated);
          },
          py::arg("sim"), py::arg("action"), py::arg("depth") = 0)
      .def(
          "prior_log_probs",
          [](const highway::PlanningModel& model, const highway::HighwayState& sim) {
            py::array_t<double> out(model.num_actions());
            model.log_prior({sim, 0}, out.mutable_data());
            return out;
          },
          py::arg("sim"))
      .def(
          "rollout",
          [](const highway::PlanningModel& model, const highway::HighwayState& sim, int depth,
             double gamma, uint64_t seed,
             int state_depth) { return model.rollout({sim, state_depth}, depth, gamma, seed); },
          py::arg("sim"), py::arg("depth"), py::arg("gamma"), py::arg("seed"),
          py::arg("state_depth") = 0);

  // Defaults of these arguments live in rqlbench.mcts, the documented API.
  m.def("search", &search, py::arg("model"), py::arg("root"), py::arg("config"),
        py::arg("return_tree"));
  m.def("search_batch", &search_many, py::arg("model"), py::arg("roots"), py::arg("config"),
        py::arg("num_threads"), py::arg("return_tree"));
  m.def("search_open_loop", &search_open_loop, py::arg("model"), py::arg("config"),
        py::arg("return_tree"));
}
