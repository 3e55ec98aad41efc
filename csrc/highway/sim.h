// Native highway simulator: highway-env 1.9.1's straight-road highway-v0 at rqlbench's config
// (3 lanes, simulation frequency 5, policy frequency 1). Rules, constants and evaluation order
// follow docs/highway-port.md (sections named "§n" below); every formula is written in the order
// Python evaluates it, so with glibc libm and no FMA contraction the result matches the reference
// bit for bit. The only fused operation is dot2, which mirrors numpy's BLAS 2-vector dot (§9).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace rqlbench::highway {

// Road and vehicle constants (§1, §3, §4).
inline constexpr int kLanes = 3;
inline constexpr double kLaneWidth = 4.0;
inline constexpr double kRoadLength = 10000.0;
inline constexpr double kLength = 5.0;
inline constexpr double kWidth = 2.0;
inline constexpr double kDt = 1.0 / 5;
inline constexpr int kFramesPerStep = 5;
inline constexpr double kMaxSpeed = 40.0;
inline constexpr double kMinSpeed = -40.0;
inline constexpr double kSpeedLimit = 30.0;
inline constexpr double kTargetSpeeds[3] = {20.0, 25.0, 30.0};
inline constexpr double kPi = 3.141592653589793;
inline constexpr double kMaxSteering = kPi / 3;
inline constexpr double kKpA = 1 / 0.6;
inline constexpr double kKpHeading = 1 / 0.2;
inline constexpr double kKpLateral = 1 / 0.6;
inline constexpr double kComfortAccMax = 3.0;
inline constexpr double kAccMax = 6.0;
inline constexpr double kDistanceWanted = 5.0 + kLength;
inline constexpr double kTimeWanted = 1.5;
inline constexpr double kMinAccGain = 0.2;
inline constexpr double kMaxBrakingImposed = 2.0;
inline constexpr double kLaneChangeDelay = 1.0;

enum Action : int { kLaneLeft = 0, kIdle = 1, kLaneRight = 2, kFaster = 3, kSlower = 4 };
inline constexpr int kNumActions = 5;

// One entry of road.vehicles; index 0 of HighwayState::cars is the ego (MDPVehicle).
struct Car {
  double x = 0, y = 0, heading = 0, speed = 0;
  double target_speed = 0;
  double delta = 4.0;  // IDM exponent (randomised per vehicle); unused by the ego
  double timer = 0;    // MOBIL timer; unused by the ego
  double impact_x = 0, impact_y = 0;
  double steering = 0, acceleration = 0;  // the action dict, rewritten every frame before use
  int32_t lane = 0, target_lane = 0, speed_index = 0;
  bool crashed = false, has_impact = false;
};

struct HighwayState {
  std::vector<Car> cars;  // road.vehicles order: fixes who acts first and every tie
  double time = 0;        // env.time (policy steps)
  int64_t frames = 0;     // env.steps (simulation frames)
};

// numpy's arithmetic (§9).
inline double dot2(double a0, double a1, double b0, double b1) { return std::fma(a1, b1, a0 * b0); }
inline double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }
inline double not_zero(double x) {
  const double eps = 1e-2;
  if (std::fabs(x) > eps) return x;
  return x >= 0 ? eps : -eps;
}
inline double py_mod(double a, double b) {  // Python / numpy floor modulo
  double m = std::fmod(a, b);
  if (m != 0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return m;
}
inline double wrap_to_pi(double x) { return py_mod(x + kPi, 2 * kPi) - kPi; }

// Geometry of the straight road (§1, §3 step 7).
inline int closest_lane(double x, double y, double heading) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int k = 0; k < kLanes; ++k) {
    const double r = y - kLaneWidth * k;
    const double d = std::fabs(r) + std::max(x - kRoadLength, 0.0) + std::max(0 - x, 0.0) +
                     1.0 * std::fabs(wrap_to_pi(heading - 0.0));
    if (k == 0 || d < best_d) {
      best = k;
      best_d = d;
    }
  }
  return best;
}
inline bool reachable(const Car& u, int k) {
  return std::fabs(u.y - kLaneWidth * k) <= 2 * kLaneWidth && 0 <= u.x && u.x < kRoadLength + 5.0;
}

// Road.neighbour_vehicles (§4): front = smallest x >= s (last wins ties), rear = largest x < s.
struct Neighbours {
  int front = -1, rear = -1;
};
inline Neighbours neighbours(const std::vector<Car>& cars, int me, int k) {
  const double s = cars[me].x;
  Neighbours n;
  double sf = 0, sr = 0;
  for (int i = 0; i < static_cast<int>(cars.size()); ++i) {
    if (i == me) continue;
    const double su = cars[i].x;
    const double lat = cars[i].y - kLaneWidth * k;
    if (!(std::fabs(lat) <= kLaneWidth / 2 + 1 && -5.0 <= su && su < kRoadLength + 5.0)) continue;
    if (s <= su && (n.front < 0 || su <= sf)) {
      sf = su;
      n.front = i;
    }
    if (su < s && (n.rear < 0 || su > sr)) {
      sr = su;
      n.rear = i;
    }
  }
  return n;
}

// IDM (§4).
inline double desired_gap(const Car& e, const Car& f) {
  const double ce = std::cos(e.heading), se = std::sin(e.heading);
  const double cf = std::cos(f.heading), sf = std::sin(f.heading);
  const double dv = dot2(e.speed * ce - f.speed * cf, e.speed * se - f.speed * sf, ce, se);
  return kDistanceWanted + e.speed * kTimeWanted + e.speed * dv / (2 * std::sqrt(15.0));
}
inline double idm(const std::vector<Car>& cars, double delta, int ego, int front) {
  if (ego < 0) return 0;
  const Car& e = cars[ego];
  const double t = clip(e.target_speed, 0, kSpeedLimit);
  double a =
      kComfortAccMax * (1 - std::pow(std::max(e.speed, 0.0) / std::fabs(not_zero(t)), delta));
  if (front >= 0) {
    const double d = cars[front].x - e.x;
    a -= kComfortAccMax * std::pow(desired_gap(e, cars[front]) / not_zero(d), 2);
  }
  return a;
}

// ControlledVehicle.steering_control (§3).
inline double steering_control(const Car& u, int k) {
  const double r = u.y - kLaneWidth * k;
  const double lateral_speed_command = -kKpLateral * r;
  const double heading_command = std::asin(clip(lateral_speed_command / not_zero(u.speed), -1, 1));
  const double heading_ref = 0.0 + clip(heading_command, -kPi / 4, kPi / 4);
  const double heading_rate_command = kKpHeading * wrap_to_pi(heading_ref - u.heading);
  const double slip =
      std::asin(clip(kLength / 2 / not_zero(u.speed) * heading_rate_command, -1, 1));
  return clip(std::atan(2 * std::tan(slip)), -kMaxSteering, kMaxSteering);
}

// MOBIL (§4).
inline bool mobil(const std::vector<Car>& cars, int me, int k) {
  const Car& u = cars[me];
  const Neighbours nk = neighbours(cars, me, k);
  const double new_following_a = idm(cars, u.delta, nk.rear, nk.front);
  const double new_following_pred_a = idm(cars, u.delta, nk.rear, me);
  if (new_following_pred_a < -kMaxBrakingImposed) return false;
  const Neighbours own = neighbours(cars, me, u.lane);
  const double self_pred_a = idm(cars, u.delta, me, nk.front);
  const double self_a = idm(cars, u.delta, me, own.front);
  const double old_following_a = idm(cars, u.delta, own.rear, me);
  const double old_following_pred_a = idm(cars, u.delta, own.rear, own.front);
  const double jerk =
      self_pred_a - self_a +
      0.0 * (new_following_pred_a - new_following_a + old_following_pred_a - old_following_a);
  return !(jerk < kMinAccGain);
}

inline void change_lane_policy(std::vector<Car>& cars, int me) {
  Car& u = cars[me];
  if (u.lane != u.target_lane) {  // abort if another vehicle heads to the same lane too close
    for (int i = 0; i < static_cast<int>(cars.size()); ++i) {
      const Car& o = cars[i];
      if (i == me || o.lane == u.target_lane || o.target_lane != u.target_lane) continue;
      const double d = o.x - u.x;
      if (0 < d && d < desired_gap(u, o)) {
        u.target_lane = u.lane;
        break;
      }
    }
    return;
  }
  if (!(kLaneChangeDelay < u.timer)) return;
  u.timer = 0;
  for (int k : {u.lane - 1, u.lane + 1}) {
    if (k < 0 || k >= kLanes) continue;
    if (!reachable(u, k) || std::fabs(u.speed) < 1) continue;
    if (mobil(cars, me, k)) u.target_lane = k;
  }
}

inline void idm_act(std::vector<Car>& cars, int me) {
  if (cars[me].crashed) return;
  change_lane_policy(cars, me);
  Car& u = cars[me];
  u.steering = steering_control(u, u.target_lane);
  double a = idm(cars, u.delta, me, neighbours(cars, me, u.lane).front);
  if (u.lane != u.target_lane) {
    a = std::min(a, idm(cars, u.delta, me, neighbours(cars, me, u.target_lane).front));
  }
  u.acceleration = clip(a, -kAccMax, kAccMax);
}

// The ego: DiscreteMetaAction on an MDPVehicle (§3).
inline int speed_to_index(double v) {
  const double x = (v - kTargetSpeeds[0]) / (kTargetSpeeds[2] - kTargetSpeeds[0]);
  return static_cast<int>(clip(std::nearbyint(x * 2), 0, 2));  // np.round: half to even
}
inline void ego_meta_action(Car& u, int action) {
  if (action == kFaster || action == kSlower) {
    const int index = speed_to_index(u.speed) + (action == kFaster ? 1 : -1);
    u.speed_index = index < 0 ? 0 : (index > 2 ? 2 : index);
    u.target_speed = kTargetSpeeds[u.speed_index];
  } else if (action == kLaneLeft || action == kLaneRight) {
    int k = u.target_lane + (action == kLaneRight ? 1 : -1);
    k = k < 0 ? 0 : (k > kLanes - 1 ? kLanes - 1 : k);
    if (reachable(u, k)) u.target_lane = k;
  }
}
inline void ego_act(Car& u) {
  u.steering = clip(steering_control(u, u.target_lane), -kMaxSteering, kMaxSteering);
  u.acceleration = kKpA * (u.target_speed - u.speed);
}

// Vehicle.step, kinematic bicycle (§3 "Kinematics"); IDM vehicles advance their timer first.
inline void integrate(Car& u, bool is_ego) {
  if (!is_ego) u.timer += kDt;
  if (u.crashed) {
    u.steering = 0.0;
    u.acceleration = -1.0 * u.speed;
  }
  if (u.speed > kMaxSpeed) {
    u.acceleration = std::min(u.acceleration, 1.0 * (kMaxSpeed - u.speed));
  } else if (u.speed < kMinSpeed) {
    u.acceleration = std::max(u.acceleration, 1.0 * (kMinSpeed - u.speed));
  }
  const double beta = std::atan(1.0 / 2 * std::tan(u.steering));
  u.x += u.speed * std::cos(u.heading + beta) * kDt;
  u.y += u.speed * std::sin(u.heading + beta) * kDt;
  if (u.has_impact) {
    u.x += u.impact_x;
    u.y += u.impact_y;
    u.crashed = true;
    u.has_impact = false;
    u.impact_x = u.impact_y = 0;
  }
  u.heading += u.speed * std::sin(beta) / (kLength / 2) * kDt;
  u.speed += u.acceleration * kDt;
  u.lane = closest_lane(u.x, u.y, u.heading);
}

// Collisions: separating-axis test with displacement (§5).
struct Polygon {
  double px[5], py[5];
};
inline Polygon polygon(const Car& u) {
  const double c = std::cos(u.heading), s = std::sin(u.heading);
  const double cx[4] = {-kLength / 2, -kLength / 2, kLength / 2, kLength / 2};
  const double cy[4] = {-kWidth / 2, kWidth / 2, kWidth / 2, -kWidth / 2};
  Polygon p;
  for (int i = 0; i < 4; ++i) {
    p.px[i] = c * cx[i] + -s * cy[i] + u.x;
    p.py[i] = s * cx[i] + c * cy[i] + u.y;
  }
  p.px[4] = p.px[0];
  p.py[4] = p.py[0];
  return p;
}
inline void project(const Polygon& p, double ax, double ay, double& lo, double& hi) {
  for (int i = 0; i < 5; ++i) {
    const double q = dot2(p.px[i], p.py[i], ax, ay);
    if (i == 0 || q < lo) lo = q;
    if (i == 0 || q > hi) hi = q;
  }
}
inline double interval_distance(double a0, double a1, double b0, double b1) {
  return a0 < b0 ? b0 - a1 : a0 - b1;
}
struct SatResult {
  bool intersecting = true, will_intersect = true;
  double tx = 0, ty = 0;
};
inline SatResult sat(const Polygon& a, const Polygon& b, double dax, double day, double dbx,
                     double dby) {
  SatResult r;
  double min_distance = std::numeric_limits<double>::infinity();
  double axis_x = 0, axis_y = 0;
  for (const Polygon* p : {&a, &b}) {
    for (int e = 0; e < 4; ++e) {
      double nx = -p->py[e + 1] + p->py[e];
      double ny = p->px[e + 1] - p->px[e];
      const double nn = std::sqrt(dot2(nx, ny, nx, ny));
      nx = nx / nn;
      ny = ny / nn;
      double a0 = 0, a1 = 0, b0 = 0, b1 = 0;
      project(a, nx, ny, a0, a1);
      project(b, nx, ny, b0, b1);
      if (interval_distance(a0, a1, b0, b1) > 0) r.intersecting = false;
      const double vp = dot2(nx, ny, dax - dbx, day - dby);
      if (vp < 0) {
        a0 += vp;
      } else {
        a1 += vp;
      }
      const double dist = interval_distance(a0, a1, b0, b1);
      if (dist > 0) r.will_intersect = false;
      if (!r.intersecting && !r.will_intersect) return r;
      if (std::fabs(dist) < min_distance) {
        min_distance = std::fabs(dist);
        double d[2];
        for (int c = 0; c < 2; ++c) {
          const double* ap = c == 0 ? a.px : a.py;
          const double* bp = c == 0 ? b.px : b.py;
          d[c] = (((ap[0] + ap[1]) + ap[2]) + ap[3]) / 4 - (((bp[0] + bp[1]) + bp[2]) + bp[3]) / 4;
        }
        const bool along = dot2(d[0], d[1], nx, ny) > 0;
        axis_x = along ? nx : -nx;
        axis_y = along ? ny : -ny;
      }
    }
  }
  if (r.will_intersect) {
    r.tx = min_distance * axis_x;
    r.ty = min_distance * axis_y;
  }
  return r;
}
inline void handle_collision(Car& a, Car& b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double diagonal = std::sqrt(kLength * kLength + kWidth * kWidth);
  if (std::sqrt(dot2(dx, dy, dx, dy)) > (diagonal + diagonal) / 2 + a.speed * kDt) return;
  const double dax = a.speed * std::cos(a.heading) * kDt, day = a.speed * std::sin(a.heading) * kDt;
  const double dbx = b.speed * std::cos(b.heading) * kDt, dby = b.speed * std::sin(b.heading) * kDt;
  const SatResult r = sat(polygon(a), polygon(b), dax, day, dbx, dby);
  if (r.will_intersect) {
    a.impact_x = r.tx / 2;
    a.impact_y = r.ty / 2;
    a.has_impact = true;
    b.impact_x = -r.tx / 2;
    b.impact_y = -r.ty / 2;
    b.has_impact = true;
  }
  if (r.intersecting) a.crashed = b.crashed = true;
}

// One simulation frame (§2): act in list order, integrate in list order, collide pairs i < j.
inline void frame(HighwayState& s, int action, bool apply_meta_action) {
  auto& cars = s.cars;
  const int n = static_cast<int>(cars.size());
  if (apply_meta_action) {
    ego_meta_action(cars[0], action);
    ego_act(cars[0]);
  }
  ego_act(cars[0]);
  for (int i = 1; i < n; ++i) idm_act(cars, i);
  for (int i = 0; i < n; ++i) integrate(cars[i], i == 0);
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) handle_collision(cars[i], cars[j]);
  }
  ++s.frames;
}

inline void check_action(int action) {
  if (action < 0 || action >= kNumActions) {
    throw std::invalid_argument("highway action " + std::to_string(action) +
                                " is out of range: DiscreteMetaAction has actions 0..4 "
                                "(LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER)");
  }
}

// One policy step (AbstractEnv.step, §2): 5 frames, the meta-action applied on the first.
inline void policy_step(HighwayState& s, int action) {
  check_action(action);
  s.time += 1.0;
  for (int f = 0; f < kFramesPerStep; ++f) frame(s, action, f == 0);
}

}  // namespace rqlbench::highway
