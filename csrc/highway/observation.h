// highway-env's Kinematics observation at rqlbench's config (docs/highway-port.md §7,
// envs/common/observation.py:152-274, road/road.py:416-445): 5 rows of [presence, x, y, vx, vy],
// the ego absolute, the others relative to it, normalised, clipped, zero rows for absent vehicles,
// cast to float32 last. Allocation-free, so a planner can call it per node.
#pragma once

#include <cmath>

#include "highway/sim.h"

namespace rqlbench::highway {

inline constexpr int kObsVehicles = 5;
inline constexpr int kObsFeatures = 5;  // presence, x, y, vx, vy
inline constexpr int kObsSize = kObsVehicles * kObsFeatures;
inline constexpr double kPerceptionDistance = 5.0 * kMaxSpeed;  // AbstractEnv.PERCEPTION_DISTANCE
// features_range as highway-env caches it on first use with 3 side lanes (observation.py:205-230).
inline constexpr double kFeatureLow[kObsFeatures] = {0, -5.0 * kMaxSpeed, -kLaneWidth * kLanes,
                                                     -2 * kMaxSpeed, -2 * kMaxSpeed};
inline constexpr double kFeatureHigh[kObsFeatures] = {0, 5.0 * kMaxSpeed, kLaneWidth * kLanes,
                                                      2 * kMaxSpeed, 2 * kMaxSpeed};

// Road.close_objects_to(ego, 200, count=4, see_behind=False, sort=True): vehicles within the
// perception distance (norm = sqrt(dot), §9) and less than 2 lengths behind, the 4 smallest
// |Δx| in a stable order (ties keep road.vehicles order). Writes their indices, returns how many.
inline int close_vehicles(const HighwayState& s, int out[kObsVehicles - 1]) {
  const Car& ego = s.cars[0];
  double keys[kObsVehicles - 1];
  int count = 0;
  for (int i = 1; i < static_cast<int>(s.cars.size()); ++i) {
    const double dx = s.cars[i].x - ego.x, dy = s.cars[i].y - ego.y;
    if (!(std::sqrt(dot2(dx, dy, dx, dy)) < kPerceptionDistance)) continue;
    if (!(-2 * kLength < dx)) continue;  // lane_distance_to on a straight lane is exactly Δx
    const double key = std::fabs(dx);
    // Insertion into the sorted top 4: strict < keeps earlier vehicles first on ties (stable).
    int at = count;
    while (at > 0 && key < keys[at - 1]) --at;
    if (at >= kObsVehicles - 1) continue;
    const int last = count < kObsVehicles - 1 ? count : kObsVehicles - 2;
    for (int j = last; j > at; --j) {
      keys[j] = keys[j - 1];
      out[j] = out[j - 1];
    }
    keys[at] = key;
    out[at] = i;
    if (count < kObsVehicles - 1) ++count;
  }
  return count;
}

// utils.lmap(v, [lo, hi], [-1, 1]) then np.clip(-1, 1), in Python's evaluation order.
inline double normalize_feature(double v, int feature) {
  const double lo = kFeatureLow[feature], hi = kFeatureHigh[feature];
  return clip(-1 + (v - lo) * (1 - -1) / (hi - lo), -1, 1);
}

// The observation, row-major [vehicle][feature], as KinematicObservation.observe() returns it.
inline void observe(const HighwayState& s, float out[kObsSize]) {
  const Car& ego = s.cars[0];
  const double evx = ego.speed * std::cos(ego.heading), evy = ego.speed * std::sin(ego.heading);
  double rows[kObsVehicles][kObsFeatures] = {};
  rows[0][0] = 1;
  rows[0][1] = ego.x;
  rows[0][2] = ego.y;
  rows[0][3] = evx;
  rows[0][4] = evy;
  int close[kObsVehicles - 1];
  const int count = close_vehicles(s, close);
  for (int r = 0; r < count; ++r) {
    const Car& u = s.cars[static_cast<size_t>(close[r])];
    rows[r + 1][0] = 1;
    rows[r + 1][1] = u.x - ego.x;
    rows[r + 1][2] = u.y - ego.y;
    rows[r + 1][3] = u.speed * std::cos(u.heading) - evx;
    rows[r + 1][4] = u.speed * std::sin(u.heading) - evy;
  }
  for (int r = 0; r <= count; ++r) {  // absent rows are appended after normalisation: zeros
    for (int f = 1; f < kObsFeatures; ++f) rows[r][f] = normalize_feature(rows[r][f], f);
  }
  for (int r = 0; r < kObsVehicles; ++r) {
    for (int f = 0; f < kObsFeatures; ++f) {
      out[r * kObsFeatures + f] = static_cast<float>(rows[r][f]);
    }
  }
}

}  // namespace rqlbench::highway
