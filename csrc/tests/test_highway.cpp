// Standalone tests of the native highway model (csrc/highway/), without Python: built with the core
// tests (cmake -DRQLBENCH_CORE_TESTS=ON) and, in CI, under AddressSanitizer + UBSan
// (tests/test_core_sanitized.py). They drive every path of the simulator, the observation, the
// rewards, the planning model and a real search, and check invariants that a memory, aliasing or
// rule error breaks. Fidelity against highway-env itself is tests/test_highway_native.py's job;
// the edge-rule tables below are recomputed with highway-env by tests/test_highway_edges.py.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "highway/observation.h"
#include "highway/planning_model.h"
#include "highway/rewards.h"
#include "highway/sim.h"
#include "mcts/batch.h"
#include "mcts/search.h"
#include "tests/check.h"

using namespace rqlbench;
using namespace rqlbench::testing;
using highway::Car;
using highway::HighwayState;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_car(const Car& a, const Car& b) {
  const double da[] = {a.x,     a.y,        a.heading,  a.speed,    a.target_speed, a.delta,
                       a.timer, a.impact_x, a.impact_y, a.steering, a.acceleration};
  const double db[] = {b.x,     b.y,        b.heading,  b.speed,    b.target_speed, b.delta,
                       b.timer, b.impact_x, b.impact_y, b.steering, b.acceleration};
  for (size_t i = 0; i < sizeof da / sizeof da[0]; ++i) {
    if (!same_bits(da[i], db[i])) return false;
  }
  return a.lane == b.lane && a.target_lane == b.target_lane && a.speed_index == b.speed_index &&
         a.crashed == b.crashed && a.has_impact == b.has_impact;
}

bool same_state(const HighwayState& a, const HighwayState& b) {
  if (a.cars.size() != b.cars.size() || !same_bits(a.time, b.time) || a.frames != b.frames) {
    return false;
  }
  for (size_t i = 0; i < a.cars.size(); ++i) {
    if (!same_car(a.cars[i], b.cars[i])) return false;
  }
  return true;
}

bool finite_state(const HighwayState& s) {
  for (const Car& c : s.cars) {
    for (double v : {c.x, c.y, c.heading, c.speed, c.target_speed, c.timer, c.impact_x, c.impact_y,
                     c.steering, c.acceleration}) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

// A vehicle centred on `lane` (y = 4·lane unless given), heading 0, following its own lane.
Car car(double x, int lane, double speed, double y = NAN) {
  Car c;
  c.x = x;
  c.y = std::isnan(y) ? highway::kLaneWidth * lane : y;
  c.speed = speed;
  c.target_speed = speed;
  c.lane = c.target_lane = lane;
  c.timer = 0.5;
  c.delta = 4.0;
  return c;
}

// A crowded road that reaches every rule within a few steps: equal x on three lanes, a slow
// blocker and fast followers (MOBIL changes, crashes), a lane change under way, a crashed car
// with a pending impact, speeds above MAX_SPEED and at 0, a car on a lane boundary, headings
// near ±π, and a car outside the ego's perception distance.
HighwayState crafted_state() {
  HighwayState s;
  s.time = 3;
  s.frames = 15;
  Car ego = car(200, 0, 25);
  ego.speed_index = 1;
  s.cars.push_back(ego);
  s.cars.push_back(car(215, 0, 20));  // 1: the ego's leader
  s.cars.push_back(car(200, 1, 25));  // 2: equal x with the ego ...
  s.cars.push_back(car(200, 2, 24));  // 3: ... and on the third lane
  Car mobil_soon = car(230, 1, 22);   // 4: MOBIL evaluates in the first frame
  mobil_soon.timer = 0.95;
  s.cars.push_back(mobil_soon);
  s.cars.push_back(car(230, 2, 22));  // 5: equal x with 4
  s.cars.push_back(car(262, 1, 10));  // 6: slow blocker
  Car hit = car(257, 1, 5, 4.8);      // 7: crashed, its impact pending across the boundary
  hit.crashed = hit.has_impact = true;
  hit.impact_x = 0.3;
  hit.impact_y = -0.2;
  s.cars.push_back(hit);
  Car changing = car(180, 1, 28, 5.0);  // 8: lane change 1 -> 2 under way
  changing.target_lane = 2;
  changing.timer = 1.4;
  s.cars.push_back(changing);
  Car eager = car(175, 2, 30);  // 9: MOBIL at once, towards lane 1
  eager.timer = 1.1;
  eager.delta = 3.6;
  s.cars.push_back(eager);
  Car fast = car(300, 0, 45);  // 10: above MAX_SPEED
  fast.target_speed = 23;
  s.cars.push_back(fast);
  Car still = car(320, 2, 0, 8.5);  // 11: speed 0 and target speed 0 (not_zero)
  still.target_speed = 0;
  s.cars.push_back(still);
  Car backwards = car(420, 1, 15);  // 12: heading just below π
  backwards.heading = highway::kPi - 1e-9;
  s.cars.push_back(backwards);
  Car wrapped = car(440, 2, 15);  // 13: heading just above -π
  wrapped.heading = -highway::kPi + 1e-9;
  s.cars.push_back(wrapped);
  Car boundary = car(120, 0, 0, 2.0);  // 14: crashed on the lane 0 / 1 boundary
  boundary.crashed = true;
  s.cars.push_back(boundary);
  s.cars.push_back(car(150, 1, 35));  // 15: fast, closing on 8
  s.cars.push_back(car(900, 1, 22));  // 16: beyond the perception distance
  for (size_t i = 1; i < s.cars.size(); ++i) s.cars[i].delta += 0.05 * static_cast<double>(i % 7);
  return s;
}

// --- Edge rules (docs/highway-port.md §13 item 3) ------------------------------------------------
// Every expected value is highway-env 1.9.1's own: speed_to_index by
// MDPVehicle.speed_to_index_default(v), wrap_to_pi and not_zero by highway_env.utils, closest_lane
// by RoadNetwork.straight_road_network(3).get_closest_lane_index(np.array([x, y]), heading)[2].
// tests/test_highway_edges.py parses these rows and recomputes each one with highway-env; keep
// one row per line in the form {"rule", {inputs}, expected}.
struct EdgeCase {
  const char* rule;
  double in[3];
  double expected;
};
// clang-format off
const EdgeCase kEdgeCases[] = {
    {"speed_to_index", {22.5}, 0},  // x·2 = 0.5: half to even, not away from zero
    {"speed_to_index", {27.5}, 2},  // 1.5 -> 2
    {"speed_to_index", {17.5}, 0},  // -0.5 -> -0, clipped
    {"speed_to_index", {32.5}, 2},  // 2.5 -> 2
    {"speed_to_index", {45.0}, 2},  // above MAX_SPEED
    {"speed_to_index", {24.999999999999996}, 1},
    {"speed_to_index", {-5.0}, 0},
    {"speed_to_index", {1e300}, 2},
    {"wrap_to_pi", {3.141592653589793}, -3.141592653589793},
    {"wrap_to_pi", {-3.141592653589793}, -3.141592653589793},
    {"wrap_to_pi", {3.1415926535897927}, -3.141592653589793},  // rounds up to π first
    {"wrap_to_pi", {-3.1415926535897927}, -3.1415926535897927},
    {"wrap_to_pi", {3.1415926535897936}, -3.141592653589793},
    {"wrap_to_pi", {-3.1415926535897936}, 3.141592653589793},
    {"wrap_to_pi", {3.141592653588793}, 3.141592653588793},
    {"wrap_to_pi", {3.141592653590793}, -3.141592653588793},
    {"wrap_to_pi", {-3.141592653590793}, 3.141592653588793},
    {"wrap_to_pi", {9.42477796076938}, -3.141592653589793},
    {"wrap_to_pi", {6.283185307179586}, 0.0},
    {"wrap_to_pi", {-0.0}, 0.0},
    {"wrap_to_pi", {1e-17}, 0.0},  // not an identity for small x
    {"wrap_to_pi", {-1e-17}, 0.0},
    {"not_zero", {0.0}, 0.01},
    {"not_zero", {-0.0}, 0.01},
    {"not_zero", {0.01}, 0.01},
    {"not_zero", {-0.01}, -0.01},
    {"not_zero", {0.005}, 0.01},
    {"not_zero", {-0.005}, -0.01},
    {"not_zero", {0.010000000000000002}, 0.010000000000000002},
    {"not_zero", {-0.010000000000000002}, -0.010000000000000002},
    {"not_zero", {-1e-300}, -0.01},
    {"closest_lane", {100, 2, 0}, 0},  // tie between lanes 0 and 1: the first wins
    {"closest_lane", {100, 6, 0}, 1},  // tie between lanes 1 and 2
    {"closest_lane", {100, 2.0000000000000004, 0}, 1},
    {"closest_lane", {100, 1.9999999999999998, 0}, 0},
    {"closest_lane", {-1000000.0, 2.0000000000000004, 0}, 0},  // a tie by rounding the sum
    {"closest_lane", {-1000000.0, 6.000000000000001, 0}, 1},
    {"closest_lane", {100, 6.000000000000001, 0}, 2},
    {"closest_lane", {-3, 2, 0}, 0},
    {"closest_lane", {10003, 6, 0}, 1},
    {"closest_lane", {100, 2, 3.141592653589793}, 0},
    {"closest_lane", {100, 6, -3.1}, 1},
    {"closest_lane", {100, 10, 0}, 2},
    {"closest_lane", {100, -2, 0}, 0},
};
// clang-format on

double apply_rule(const EdgeCase& c) {
  const std::string rule = c.rule;
  if (rule == "speed_to_index") return highway::speed_to_index(c.in[0]);
  if (rule == "wrap_to_pi") return highway::wrap_to_pi(c.in[0]);
  if (rule == "not_zero") return highway::not_zero(c.in[0]);
  if (rule == "closest_lane") return highway::closest_lane(c.in[0], c.in[1], c.in[2]);
  throw std::invalid_argument("unknown edge rule " + rule);
}

void test_edge_rules() {
  for (const EdgeCase& c : kEdgeCases) {
    const double got = apply_rule(c);
    char what[160];
    std::snprintf(what, sizeof what, "%s(%.17g, %.17g, %.17g) = %.17g, highway-env gives %.17g",
                  c.rule, c.in[0], c.in[1], c.in[2], got, c.expected);
    check(same_bits(got, c.expected), what);
  }
  // Constants GCC folds with MPFR, pinned to the values numpy uses (§9 item 5).
  check(same_bits(highway::kPi, 3.141592653589793), "pi is np.pi");
  check(same_bits(std::sqrt(15.0), 3.872983346207417), "sqrt(15)");
  check(same_bits(std::sqrt(29.0), 5.385164807134504), "sqrt(29)");
}

// Road.neighbour_vehicles(car 0, ("0", "1", lane)) over the first `cars` cars of this layout
// ({x, y}, every car heading 0), from highway-env (tests/test_highway_edges.py recomputes them).
// Cars 1 and 2 tie at x = 130 ahead (the last wins), cars 3 and 4 at x = 80 behind (the first
// wins), car 6 shares car 0's x on the lane 1 / 2 margin (a front neighbour at distance 0).
// clang-format off
const double kTieCars[][2] = {{100, 4}, {130, 4}, {130, 4.5}, {80, 4}, {80, 2.9}, {150, 4}, {100, 6.9}};
struct NeighbourCase { int cars, lane, front, rear; };
const NeighbourCase kNeighbourCases[] = {{6, 1, 2, 3}, {7, 1, 6, 3}, {7, 2, 6, -1}, {7, 0, -1, 4}};
// clang-format on

void test_neighbour_ties() {
  for (const NeighbourCase& c : kNeighbourCases) {
    std::vector<Car> cars;
    for (int i = 0; i < c.cars; ++i) cars.push_back(car(kTieCars[i][0], 1, 20, kTieCars[i][1]));
    const highway::Neighbours n = highway::neighbours(cars, 0, c.lane);
    check(n.front == c.front && n.rear == c.rear,
          "neighbours on lane " + std::to_string(c.lane) + " of " + std::to_string(c.cars) +
              " cars: front " + std::to_string(n.front) + " rear " + std::to_string(n.rear));
  }
  // A front car at distance 0 brakes its follower as hard as IDM allows: d = not_zero(0) = 0.01.
  std::vector<Car> cars;
  for (int i = 0; i < 7; ++i) cars.push_back(car(kTieCars[i][0], 1, 20, kTieCars[i][1]));
  highway::idm_act(cars, 0);
  check(cars[0].acceleration == -highway::kAccMax, "a front car at distance 0 clips IDM to -6");
}

// --- The ego's meta-actions, MOBIL abort, collisions ---------------------------------------------

void test_ego_meta_actions() {
  Car ego = car(100, 0, 22.5);
  highway::ego_meta_action(ego, highway::kFaster);
  check(ego.speed_index == 1 && ego.target_speed == 25, "FASTER at 22.5 targets 25 (half to even)");
  ego.speed = 27.5;
  highway::ego_meta_action(ego, highway::kSlower);
  check(ego.speed_index == 1 && ego.target_speed == 25, "SLOWER at 27.5 targets 25");
  ego.speed = 45;
  highway::ego_meta_action(ego, highway::kFaster);
  check(ego.speed_index == 2 && ego.target_speed == 30, "FASTER above MAX_SPEED stays at 30");
  highway::ego_meta_action(ego, highway::kLaneLeft);
  check(ego.target_lane == 0, "LANE_LEFT on the leftmost lane is refused");
  ego.y = -5;  // lane 1 is 9 m away: not reachable (|y - 4k| <= 8)
  highway::ego_meta_action(ego, highway::kLaneRight);
  check(ego.target_lane == 0, "LANE_RIGHT to an unreachable lane is refused");
  ego.y = 0;
  highway::ego_meta_action(ego, highway::kLaneRight);
  highway::ego_meta_action(ego, highway::kLaneRight);
  check(ego.target_lane == 2, "two LANE_RIGHT from lane 0 target lane 2 (from the target lane)");
  highway::ego_meta_action(ego, highway::kLaneRight);
  check(ego.target_lane == 2, "LANE_RIGHT on the rightmost lane is refused");
  ego.x = -1;
  highway::ego_meta_action(ego, highway::kLaneLeft);
  check(ego.target_lane == 2, "no lane is reachable before the road starts");
}

void test_mobil_abort() {
  // Car 0 moves 1 -> 2; car 1, on lane 1 too and also heading for lane 2, is 10 m ahead: closer
  // than the desired gap, so car 0 gives up its change (vehicle/behavior.py:229-244).
  std::vector<Car> cars = {car(100, 1, 25, 4.5), car(110, 1, 25, 5.0)};
  cars[0].target_lane = cars[1].target_lane = 2;
  highway::change_lane_policy(cars, 0);
  check(cars[0].target_lane == 1, "MOBIL aborts a lane change towards a car just ahead");
  cars[1].x = 200;  // far ahead: the change goes on, and the timer is not reset
  cars[0].target_lane = 2;
  cars[0].timer = 3.0;
  highway::change_lane_policy(cars, 0);
  check(cars[0].target_lane == 2 && cars[0].timer == 3.0, "a distant car does not abort it");
}

void test_collision_sets_impacts_and_crash() {
  HighwayState s;
  s.cars = {car(100, 1, 20), car(103, 1, 5)};  // overlapping boxes (5 m long, 3 m apart)
  highway::frame(s, highway::kIdle, true);
  check(s.cars[0].crashed && s.cars[1].crashed, "overlapping cars crash");
  check(s.cars[0].has_impact && s.cars[1].has_impact, "a collision leaves impacts pending");
  check(same_bits(s.cars[0].impact_x, -s.cars[1].impact_x) &&
            same_bits(s.cars[0].impact_y, -s.cars[1].impact_y),
        "the two impacts are opposite");
  const double x1 = s.cars[1].x, impact = s.cars[1].impact_x, speed = s.cars[1].speed;
  highway::frame(s, highway::kIdle, false);
  check(same_bits(s.cars[1].x, x1 + speed * std::cos(0.0) * highway::kDt + impact),
        "a pending impact moves the car in the next frame, after its own motion");
}

// --- Many policy steps from the crafted state ----------------------------------------------------

// Brute force of close_vehicles: filter, stable sort by |dx|, the first 4.
std::vector<int> close_by_sorting(const HighwayState& s) {
  const Car& ego = s.cars[0];
  std::vector<int> ids;
  for (int i = 1; i < static_cast<int>(s.cars.size()); ++i) {
    const double dx = s.cars[i].x - ego.x, dy = s.cars[i].y - ego.y;
    if (std::sqrt(highway::dot2(dx, dy, dx, dy)) < highway::kPerceptionDistance &&
        -2 * highway::kLength < dx) {
      ids.push_back(i);
    }
  }
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return std::fabs(s.cars[a].x - ego.x) < std::fabs(s.cars[b].x - ego.x);
  });
  if (ids.size() > 4) ids.resize(4);
  return ids;
}

struct Coverage {
  int steps = 0, new_crashes = 0, impacts_across_steps = 0, mobil_changes = 0, ego_changes = 0;
  int edge_refusals = 0, padded_observations = 0, off_road = 0;
};

void check_observation(const HighwayState& s, Coverage& cov, const std::string& where) {
  float obs[highway::kObsSize];
  std::fill(obs, obs + highway::kObsSize, NAN);  // every entry must be written
  highway::observe(s, obs);
  int close[highway::kObsVehicles - 1];
  const int count = highway::close_vehicles(s, close);
  const std::vector<int> expected = close_by_sorting(s);
  check(count == static_cast<int>(expected.size()) &&
            std::equal(close, close + count, expected.begin()),
        "close vehicles are the stable |dx| order " + where);
  bool ok = obs[0] == 1.0f;
  for (int r = 0; r < highway::kObsVehicles; ++r) {
    for (int f = 0; f < highway::kObsFeatures; ++f) {
      const float v = obs[r * highway::kObsFeatures + f];
      ok = ok && (r <= count ? (v >= -1.0f && v <= 1.0f) : v == 0.0f);
      if (f == 0 && r <= count) ok = ok && v == 1.0f;
    }
  }
  check(ok, "observation: presence, [-1, 1] values and zero padding rows " + where);
  cov.padded_observations += count < highway::kObsVehicles - 1;
}

void check_outcome(const HighwayState& s, const highway::StepOutcome& o, Coverage& cov,
                   const std::string& where) {
  const Car& ego = s.cars[0];
  const bool road = highway::on_road(ego);
  cov.off_road += !road;
  const double low = road ? (ego.crashed ? 0.5 : 1.0) : 0.0;
  const double high = road ? (ego.crashed ? 0.9 : 1.4) : 0.0;
  check(o.basic >= low && o.basic <= high, "basic reward in range " + where);
  check(o.addon == (road ? 0.25 * ego.target_lane : 0.0), "add-on = 0.5·target lane / 2 " + where);
  check(o.terminated == ego.crashed && o.truncated == (s.time >= 40), "episode end " + where);
}

void check_step(const HighwayState& before, const HighwayState& after, int action, Coverage& cov,
                const std::string& where) {
  check(finite_state(after), "finite state " + where);
  check(after.time == before.time + 1 && after.frames == before.frames + 5,
        "a policy step is 1 time unit and 5 frames " + where);
  for (size_t i = 0; i < after.cars.size(); ++i) {
    const Car &b = before.cars[i], &a = after.cars[i];
    check(a.lane >= 0 && a.lane < 3 && a.target_lane >= 0 && a.target_lane < 3,
          "lanes in range " + where);
    check(a.lane == highway::closest_lane(a.x, a.y, a.heading), "lane = closest lane " + where);
    check(!b.crashed || a.crashed, "the crash flag is sticky " + where);
    if (b.crashed) {  // braked by -speed each frame, no steering (impacts move only the position)
      double v = b.speed;
      for (int f = 0; f < 5; ++f) v += -1.0 * v * highway::kDt;
      check(same_bits(a.speed, v) && same_bits(a.heading, b.heading),
            "a crashed car brakes by its speed and keeps its heading " + where);
    }
    cov.new_crashes += a.crashed && !b.crashed;
    cov.impacts_across_steps += a.has_impact;
    if (i > 0) cov.mobil_changes += a.target_lane != b.target_lane && a.target_lane != b.lane;
    if (i > 0 && b.speed > highway::kMaxSpeed && !b.crashed) {
      check(a.speed < b.speed, "a car above MAX_SPEED slows down " + where);
    }
  }
  const Car &b = before.cars[0], &a = after.cars[0];
  check(a.target_speed == highway::kTargetSpeeds[a.speed_index], "ego target speed " + where);
  if (action == highway::kLaneLeft && b.target_lane == 0) {
    check(a.target_lane == 0, "LANE_LEFT refused at the road edge " + where);
    ++cov.edge_refusals;
  } else if (action == highway::kLaneRight && b.target_lane == 2) {
    check(a.target_lane == 2, "LANE_RIGHT refused at the road edge " + where);
    ++cov.edge_refusals;
  }
  cov.ego_changes += a.target_lane != b.target_lane;
}

// Steps `s` with random actions, checking every invariant after every step, and keeps every
// 7th state as a search root.
void run_policy_steps(HighwayState s, int steps, uint64_t seed, Coverage& cov,
                      std::vector<HighwayState>& roots) {
  mcts::Random rng(seed);
  check_observation(s, cov, "at the start of run " + std::to_string(seed));  // |dx| ties
  for (int t = 0; t < steps; ++t) {
    const std::string where = "at step " + std::to_string(t) + " of run " + std::to_string(seed);
    const int action = static_cast<int>(rng.uniform() * highway::kNumActions);
    const HighwayState snapshot = s;
    HighwayState next = s;
    const highway::StepOutcome o = highway::step(next, action);
    HighwayState again = s;
    highway::step(again, action);
    check(same_state(s, snapshot), "stepping a copy leaves the original unchanged " + where);
    check(same_state(next, again), "same state and action give the same next state " + where);
    check_step(s, next, action, cov, where);
    check_outcome(next, o, cov, where);
    check_observation(next, cov, where);
    s = std::move(next);
    if (t % 7 == 0) roots.push_back(s);
    ++cov.steps;
  }
  check_throws<std::invalid_argument>([&] { highway::policy_step(s, 5); }, "action 5");
  check_throws<std::invalid_argument>([&] { highway::policy_step(s, -1); }, "action -1");
}

// Traffic as highway-env spawns it: 20 cars in increasing x behind the ego's lead, speeds in
// [21, 24), randomised DELTA and timers.
HighwayState traffic_state() {
  mcts::Random rng(11);
  HighwayState s;
  s.cars.push_back(car(100, 1, 25));
  s.cars[0].speed_index = 1;
  double x = 100;
  for (int i = 1; i <= 20; ++i) {
    x += 18 + 14 * rng.uniform();
    Car c = car(x, static_cast<int>(rng.uniform() * 3), 21 + 3 * rng.uniform());
    c.delta = 3.5 + rng.uniform();
    c.timer = rng.uniform();
    s.cars.push_back(c);
  }
  return s;
}

// Three cars around the ego: padded observations, and a car exactly 10 m behind the ego (not
// seen: -10 < dx is strict).
HighwayState sparse_state() {
  HighwayState s;
  s.cars = {car(100, 1, 25), car(160, 1, 20), car(130, 2, 22), car(90, 0, 24)};
  s.cars[0].speed_index = 1;
  return s;
}

// A dense crafted road (crashes, MOBIL, every edge rule), spawned traffic, and a sparse road.
// Returns states along the way as search roots.
std::vector<HighwayState> test_policy_steps() {
  HighwayState dense = crafted_state();
  dense.cars[2].x = dense.cars[0].x;  // exactly equal x, whatever the literals
  Coverage cov;
  std::vector<HighwayState> roots;
  run_policy_steps(dense, 120, 1, cov, roots);
  run_policy_steps(traffic_state(), 40, 2, cov, roots);
  run_policy_steps(sparse_state(), 40, 3, cov, roots);
  std::printf(
      "highway: %d steps, %d new crashes, %d impacts pending across a step, %d MOBIL changes, %d "
      "ego lane changes, %d edge refusals, %d padded observations, %d off-road egos\n",
      cov.steps, cov.new_crashes, cov.impacts_across_steps, cov.mobil_changes, cov.ego_changes,
      cov.edge_refusals, cov.padded_observations, cov.off_road);
  // The runs must really reach these paths, or the sanitizer has nothing to look at.
  check(cov.new_crashes > 0 && cov.impacts_across_steps > 0 && cov.mobil_changes > 0 &&
            cov.ego_changes > 0 && cov.edge_refusals > 0 && cov.padded_observations > 0,
        "the runs cover crashes, pending impacts, MOBIL, ego lane changes, refusals and padded "
        "observations");
  return roots;
}

void test_observation_padding_and_rewards() {
  HighwayState s;
  s.cars = {car(200, 1, 25), car(250, 2, 20), car(195, 0, 20), car(189, 1, 20), car(401, 1, 20)};
  float obs[highway::kObsSize];
  highway::observe(s, obs);  // car 3 is 11 m behind (unseen), car 4 beyond 200 m
  const float presence[5] = {obs[0], obs[5], obs[10], obs[15], obs[20]};
  check(presence[1] == 1 && presence[2] == 1 && presence[3] == 0 && presence[4] == 0,
        "two of four others are seen");
  check(std::fabs(obs[6] * 200 + 5) < 1e-4 && std::fabs(obs[11] * 200 - 50) < 1e-4,
        "rows sorted by |dx|: 5 m behind before 50 m ahead");
  check(std::all_of(obs + 15, obs + 25, [](float v) { return v == 0.0f; }), "zero padding rows");
  s.cars.resize(1);
  std::fill(obs, obs + highway::kObsSize, NAN);
  highway::observe(s, obs);
  check(std::all_of(obs + 5, obs + 25, [](float v) { return v == 0.0f; }), "the ego alone");
  highway::step(s, highway::kFaster);  // the ego alone on the road steps too

  HighwayState r;
  r.cars = {car(200, 2, 25)};
  r.time = 39;
  highway::StepOutcome o = highway::outcome(r);
  check(o.basic == 1.0 * (-0.5 * 0 + 0.4 * 0.5 + 1.0) && o.addon == 0.5, "rewards at 25 m/s");
  check(!o.terminated && !o.truncated, "no end at time 39");
  r.cars[0].crashed = true;
  r.cars[0].speed = 35;
  r.time = 40;
  o = highway::outcome(r);
  check(o.basic == 1.0 * (-0.5 * 1 + 0.4 * 1 + 1.0) && o.terminated && o.truncated,
        "crashed above the speed range at time 40");
  r.cars[0].y = 10.5;  // off the road: no reward
  o = highway::outcome(r);
  check(o.basic == 0.0 && o.addon == 0.0, "no reward off the road");
}

// --- The planning model and a real search --------------------------------------------------------

mcts::MlpPrior small_prior() {
  mcts::Random rng(7);
  auto layer = [&](int inputs, int outputs, mcts::Activation activation) {
    mcts::DenseLayer l;
    l.inputs = inputs;
    l.outputs = outputs;
    l.activation = activation;
    for (int i = 0; i < inputs * outputs; ++i) l.weight.push_back(rng.uniform() - 0.5);
    for (int o = 0; o < outputs; ++o) l.bias.push_back(0.2 * (rng.uniform() - 0.5));
    return l;
  };
  return mcts::MlpPrior(
      {layer(highway::kObsSize, 16, mcts::Activation::kRelu), layer(16, 8, mcts::Activation::kTanh),
       layer(8, highway::kNumActions, mcts::Activation::kNone)},
      0.5);
}

static_assert(mcts::check_search_model<const highway::PlanningModel>());
static_assert(mcts::is_search_model_v<highway::PlanningModel>);

void test_planning_model(const std::vector<HighwayState>& roots) {
  check_throws<std::invalid_argument>([] { highway::PlanningModel(small_prior(), 0); },
                                      "horizon 0");
  check_throws<std::invalid_argument>(
      [] {
        mcts::DenseLayer l;
        l.inputs = 24;
        l.outputs = highway::kNumActions;
        l.weight.assign(24 * highway::kNumActions, 0.0);
        l.bias.assign(highway::kNumActions, 0.0);
        highway::PlanningModel(mcts::MlpPrior({l}, 1.0), 6);
      },
      "a prior over 24 inputs");
  const highway::PlanningModel model(small_prior(), 6);
  const mcts::MlpPrior prior = small_prior();
  for (size_t i = 0; i < roots.size(); ++i) {
    const std::string where = "at root " + std::to_string(i);
    const highway::PlanningState s{roots[i], 2};
    double lp[highway::kNumActions], direct[highway::kNumActions];
    model.log_prior(s, lp);
    float obs[highway::kObsSize];
    highway::observe(s.sim, obs);
    const std::vector<double> x(obs, obs + highway::kObsSize);
    prior.log_probs(x.data(), direct);
    double total = 0;
    for (int a = 0; a < highway::kNumActions; ++a) total += std::exp(lp[a]);
    check(std::equal(lp, lp + highway::kNumActions, direct) && std::fabs(total - 1) < 1e-12,
          "log-prior is the MLP on the observation, normalized " + where);
    for (int a = 0; a < highway::kNumActions; ++a) {
      const mcts::Transition<highway::PlanningState> t = model.step(s, a);
      HighwayState expected = s.sim;
      const highway::StepOutcome o = highway::step(expected, a);
      check(t.next.depth == 3 && same_state(t.next.sim, expected) && t.reward == o.addon &&
                t.terminated == (o.terminated || o.truncated),
            "the model's step is the simulator's step " + where);
      check(same_state(s.sim, roots[i]), "the model's step leaves its input unchanged " + where);
    }
    const double ret = model.rollout(s, 10, 0.8, 99);
    check(ret == model.rollout(s, 10, 0.8, 99), "rollouts are deterministic per seed " + where);
    check(ret >= 0 && ret <= 0.5 * (1 - std::pow(0.8, 4)) / (1 - 0.8) + 1e-12,
          "a 4-step rollout returns at most 0.5 per step " + where);
    check(model.rollout(highway::PlanningState{roots[i], 6}, 10, 0.8, 99) == 0,
          "no rollout past the horizon " + where);
  }
}

void test_search() {
  const highway::PlanningModel model(small_prior(), 6);
  mcts::Config c;
  c.num_simulations = 150;
  c.max_depth = 6;
  c.rollout_depth = 6;
  c.gamma = 0.8;
  c.omega = 0.5;
  c.alpha = 0.2;
  c.seed = 3;
  // Three roots with a tree to grow (spawned traffic, the same after two SLOWER steps, a sparse
  // road), and one where every action ends the episode (the time limit).
  std::vector<highway::PlanningState> states;
  HighwayState root = traffic_state();
  states.push_back({root, 0});
  highway::step(root, highway::kSlower);
  highway::step(root, highway::kSlower);
  states.push_back({root, 0});
  states.push_back({sparse_state(), 0});
  for (const highway::PlanningState& state : states) {
    HighwayState idle = state.sim;
    check(!highway::step(idle, highway::kIdle).terminated, "a live search root");
  }
  root.time = highway::kDuration - 1;
  states.push_back({root, 0});
  const highway::PlanningModel& shared = model;
  const mcts::SearchResult one = mcts::Searcher<const highway::PlanningModel>(shared, c).run(
      states[0], 0, /*export_tree=*/true);
  check(std::accumulate(one.visits.begin(), one.visits.end(), 0) == c.num_simulations,
        "every simulation visits the root");
  const int depth = *std::max_element(one.tree.node_depth.begin(), one.tree.node_depth.end());
  check(depth >= 3 && one.tree.node_visits.size() == static_cast<size_t>(one.num_nodes),
        "the search grows a deep tree and exports it (depth " + std::to_string(depth) + ")");
  double policy = 0;
  for (double p : one.policy) policy += p;
  check(std::fabs(policy - 1) < 1e-12 && std::isfinite(one.value), "a finite, normalized policy");
  const auto serial = mcts::search_batch(model, states, c, 1);
  const auto threaded = mcts::search_batch(model, states, c, 2);
  for (size_t i = 0; i < states.size(); ++i) {
    check(serial[i].q == threaded[i].q && serial[i].visits == threaded[i].visits,
          "two threads share the model without changing results");
  }
  check(serial[0].q == one.q, "search_batch equals one Searcher on the same stream");
}

}  // namespace

int main() {
  test_edge_rules();
  test_neighbour_ties();
  test_ego_meta_actions();
  test_mobil_abort();
  test_collision_sets_impacts_and_crash();
  const std::vector<HighwayState> roots = test_policy_steps();
  test_observation_padding_and_rewards();
  test_planning_model(roots);
  test_search();
  return report("highway");
}
