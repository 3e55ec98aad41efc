"""State import from a live highway-env env into the native C++ highway simulator.

The native simulator (csrc/highway/sim.h, docs/highway-port.md) implements highway-env 1.9.1's
straight-road highway-v0 at rqlbench's configuration only; any other configuration is refused
with a message naming what is supported, never approximated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rqlbench._mcts import HighwaySim

SUPPORTED = (
    "highway-v0 (HighwayEnv, not highway-fast-v0) with lanes_count 3, simulation_frequency 5, "
    "policy_frequency 1, controlled_vehicles 1, one MDPVehicle ego with target speeds "
    "[20, 25, 30] followed by IDMVehicle others, DiscreteMetaAction, no road objects, "
    "offroad_terminal False, and highway-env 1.9.1's vehicle and IDM class constants"
)

# Class constants the native model hard-codes (highway-env 1.9.1, docs/highway-port.md §3-§5).
_VEHICLE_CONSTANTS = {"LENGTH": 5.0, "WIDTH": 2.0, "MAX_SPEED": 40.0, "MIN_SPEED": -40.0}
_CONTROLLER_CONSTANTS = {
    "TAU_ACC": 0.6,
    "TAU_HEADING": 0.2,
    "TAU_LATERAL": 0.6,
    "TAU_PURSUIT": 0.1,
    "KP_A": 1 / 0.6,
    "KP_HEADING": 1 / 0.2,
    "KP_LATERAL": 1 / 0.6,
    "MAX_STEERING_ANGLE": np.pi / 3,
}
_IDM_CONSTANTS = {
    "ACC_MAX": 6.0,
    "COMFORT_ACC_MAX": 3.0,
    "COMFORT_ACC_MIN": -5.0,
    "DISTANCE_WANTED": 10.0,
    "TIME_WANTED": 1.5,
    "POLITENESS": 0.0,
    "LANE_CHANGE_MIN_ACC_GAIN": 0.2,
    "LANE_CHANGE_MAX_BRAKING_IMPOSED": 2.0,
    "LANE_CHANGE_DELAY": 1.0,
}
_CONFIG = {
    "lanes_count": 3,
    "simulation_frequency": 5,
    "policy_frequency": 1,
    "controlled_vehicles": 1,
    "offroad_terminal": False,
    "manual_control": False,
}


class UnsupportedHighwayConfig(ValueError):
    """The env is not the configuration the native highway simulator implements."""


def _refuse(what: str) -> None:
    raise UnsupportedHighwayConfig(
        f"the native highway simulator does not support {what}; it supports only {SUPPORTED}"
    )


def _check_constants(cls: type, expected: dict[str, float], who: str) -> None:
    for name, value in expected.items():
        actual = getattr(cls, name, None)
        if actual is None or float(actual) != value:
            _refuse(f"{who}.{name} = {actual!r} (expected {value!r})")


def check_supported(env: Any) -> None:
    """Raise UnsupportedHighwayConfig unless env is the configuration the native model runs."""
    from highway_env.envs.common.action import DiscreteMetaAction
    from highway_env.envs.highway_env import HighwayEnv
    from highway_env.road.lane import StraightLane
    from highway_env.vehicle.behavior import IDMVehicle
    from highway_env.vehicle.controller import ControlledVehicle, MDPVehicle
    from highway_env.vehicle.kinematics import Vehicle

    base = env.unwrapped
    if type(base) is not HighwayEnv:
        _refuse(f"env class {type(base).__name__}")
    for key, value in _CONFIG.items():
        if base.config.get(key) != value:
            _refuse(f"{key} = {base.config.get(key)!r}")
    if not isinstance(base.action_type, DiscreteMetaAction):
        _refuse(f"action type {type(base.action_type).__name__}")
    if base.steps % _CONFIG["simulation_frequency"] != 0:
        _refuse(f"a state between policy steps (env.steps = {base.steps})")
    road = base.road
    if road.objects:
        _refuse(f"{len(road.objects)} road objects")
    lanes = road.network.graph.get("0", {}).get("1", [])
    if len(road.network.graph) != 1 or len(lanes) != 3:
        _refuse("a road other than one straight edge '0' -> '1' of 3 lanes")
    for k, lane in enumerate(lanes):
        ok = (
            type(lane) is StraightLane
            and list(lane.start) == [0.0, 4.0 * k]
            and list(lane.end) == [10000.0, 4.0 * k]
            and lane.width == 4.0
            and lane.speed_limit == 30.0
            and not lane.forbidden
        )
        if not ok:
            _refuse(f"lane {k} = {lane!r}")
    _check_constants(Vehicle, _VEHICLE_CONSTANTS, "Vehicle")
    _check_constants(ControlledVehicle, _CONTROLLER_CONSTANTS, "ControlledVehicle")
    _check_constants(IDMVehicle, _IDM_CONSTANTS, "IDMVehicle")
    vehicles = road.vehicles
    if not vehicles or base.vehicle is not vehicles[0] or type(vehicles[0]) is not MDPVehicle:
        _refuse("a road whose first vehicle is not the controlled MDPVehicle")
    if list(vehicles[0].target_speeds) != [20.0, 25.0, 30.0]:
        _refuse(f"ego target speeds {list(vehicles[0].target_speeds)}")
    for i, v in enumerate(vehicles):
        if i > 0 and (type(v) is not IDMVehicle or v.route or not v.enable_lane_change):
            _refuse(f"vehicle {i} of class {type(v).__name__} (route {v.route!r})")
        if not (v.collidable and v.solid and v.check_collisions):
            _refuse(f"vehicle {i} that is not collidable, solid and collision-checked")
        if v.lane_index[:2] != ("0", "1") or v.target_lane_index[:2] != ("0", "1"):
            _refuse(f"vehicle {i} on lane {v.lane_index} / target {v.target_lane_index}")


def import_arrays(env: Any) -> dict[str, Any]:
    """Every vehicle's state in road.vehicles order, as the HighwaySim constructor's arguments."""
    vehicles = env.unwrapped.road.vehicles
    impacts = [v.impact for v in vehicles]
    return {
        "x": np.array([v.position[0] for v in vehicles], dtype=np.float64),
        "y": np.array([v.position[1] for v in vehicles], dtype=np.float64),
        "heading": np.array([v.heading for v in vehicles], dtype=np.float64),
        "speed": np.array([v.speed for v in vehicles], dtype=np.float64),
        "target_speed": np.array([v.target_speed for v in vehicles], dtype=np.float64),
        "delta": np.array([getattr(v, "DELTA", 4.0) for v in vehicles], dtype=np.float64),
        "timer": np.array([getattr(v, "timer", 0.0) for v in vehicles], dtype=np.float64),
        "impact_x": np.array([0.0 if i is None else i[0] for i in impacts], dtype=np.float64),
        "impact_y": np.array([0.0 if i is None else i[1] for i in impacts], dtype=np.float64),
        "lane": np.array([v.lane_index[2] for v in vehicles], dtype=np.int64),
        "target_lane": np.array([v.target_lane_index[2] for v in vehicles], dtype=np.int64),
        "speed_index": np.array([getattr(v, "speed_index", 0) for v in vehicles], dtype=np.int64),
        "crashed": np.array([v.crashed for v in vehicles], dtype=bool),
        "has_impact": np.array([i is not None for i in impacts], dtype=bool),
        "time": float(env.unwrapped.time),
        "frames": int(env.unwrapped.steps),
    }


def native_sim(env: Any) -> HighwaySim:
    """A native simulator holding a copy of a live highway-env env's current state."""
    check_supported(env)
    return HighwaySim(**import_arrays(env))
