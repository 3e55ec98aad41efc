// The highway task's rewards and highway-env's episode end, read after a policy step
// (docs/highway-port.md §6): rqlbench/tasks/driving.py's Highway.rewards (basic, add-on) and
// HighwayEnv._is_terminated / _is_truncated (envs/highway_env.py:136-146).
#pragma once

#include <cmath>

#include "highway/sim.h"

namespace rqlbench::highway {

inline constexpr double kDuration = 40.0;
inline constexpr double kRewardSpeedLow = 20.0, kRewardSpeedHigh = 30.0;

struct StepOutcome {
  double basic = 0, addon = 0;
  bool terminated = false, truncated = false;
};

// Vehicle.on_road: lane.on_lane(position) on the vehicle's current lane, margin 0 (lane.py:80-102).
inline bool on_road(const Car& u) {
  return std::fabs(u.y - kLaneWidth * u.lane) <= kLaneWidth / 2 + 0 && -kLength <= u.x &&
         u.x < kRoadLength + kLength;
}

// Written in Python's evaluation order so the float64 values are the same.
inline StepOutcome outcome(const HighwayState& s) {
  const Car& ego = s.cars[0];
  const double forward_speed = ego.speed * std::cos(ego.heading);
  const double mapped =
      0 + (forward_speed - kRewardSpeedLow) * (1 - 0) / (kRewardSpeedHigh - kRewardSpeedLow);
  const double speed = clip(mapped, 0, 1);
  const double road = on_road(ego) ? 1.0 : 0.0;
  const double crashed = ego.crashed ? 1.0 : 0.0;
  StepOutcome o;
  o.basic = road * (-0.5 * crashed + 0.4 * speed + 1.0);
  o.addon = road * 0.5 * ego.target_lane / (kLanes - 1 > 1 ? kLanes - 1 : 1);
  o.terminated = ego.crashed;  // offroad_terminal is False at the supported config
  o.truncated = s.time >= kDuration;
  return o;
}

// One policy step, then what the env reports after it.
inline StepOutcome step(HighwayState& s, int action) {
  policy_step(s, action);
  return outcome(s);
}

}  // namespace rqlbench::highway
