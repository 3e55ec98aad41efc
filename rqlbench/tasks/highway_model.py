"""highway-env's own simulator as a planning model (paper section 5.3).

A state is a deep copy of the simulator; a step runs only the simulator (``_simulate``; no
observation, reward bookkeeping or rendering), and the prior sees a Kinematics observation built
with numpy, identical to highway-env's pandas-based one (~50x faster).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
from highway_env import utils
from highway_env.envs.common.observation import KinematicObservation
from highway_env.road.lane import AbstractLane
from highway_env.vehicle.kinematics import Vehicle

from rqlbench.tasks.base import Task

DEFAULT_FEATURES = ["presence", "x", "y", "vx", "vy"]


def kinematics_observation(env: Any) -> np.ndarray:
    """highway-env's Kinematics observation of `env` without pandas (same values, ~50x faster)."""
    obs_type = env.observation_type
    if not isinstance(obs_type, KinematicObservation) or not _plain(obs_type):
        return obs_type.observe()
    ego = obs_type.observer_vehicle
    count = obs_type.vehicles_count
    close = env.road.close_objects_to(
        ego,
        env.PERCEPTION_DISTANCE,
        count=count - 1,
        see_behind=obs_type.see_behind,
        sort=True,
        vehicles_only=not obs_type.include_obstacles,
    )
    rows = np.zeros((count, 5))
    rows[0] = (1.0, *ego.position, *ego.velocity)
    for i, other in enumerate(close[-count + 1 :] if close else [], start=1):
        rows[i] = (1.0, *(other.position - ego.position), *(other.velocity - ego.velocity))
    ranges = obs_type.features_range or _default_ranges(env, ego)
    obs_type.features_range = ranges  # as highway-env caches it on first use
    filled = len(close[-count + 1 :]) + 1 if close else 1
    for column, feature in enumerate(DEFAULT_FEATURES[1:], start=1):
        low, high = ranges[feature]
        values = utils.lmap(rows[:filled, column], [low, high], [-1, 1])
        rows[:filled, column] = np.clip(values, -1, 1) if obs_type.clip else values
    return rows.astype(np.float32)


def _plain(obs_type: KinematicObservation) -> bool:
    return (
        list(obs_type.features) == DEFAULT_FEATURES
        and not obs_type.absolute
        and obs_type.order == "sorted"
        and obs_type.normalize
    )


def _default_ranges(env: Any, ego: Vehicle) -> dict[str, list[float]]:
    lanes = len(env.road.network.all_side_lanes(ego.lane_index))
    return {
        "x": [-5.0 * Vehicle.MAX_SPEED, 5.0 * Vehicle.MAX_SPEED],
        "y": [-AbstractLane.DEFAULT_WIDTH * lanes, AbstractLane.DEFAULT_WIDTH * lanes],
        "vx": [-2 * Vehicle.MAX_SPEED, 2 * Vehicle.MAX_SPEED],
        "vy": [-2 * Vehicle.MAX_SPEED, 2 * Vehicle.MAX_SPEED],
    }


class HighwayModel:
    """highway-env's simulator on copies, with the task's add-on reward; counts its own cost."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.simulator_steps = 0
        self.simulator_seconds = 0.0  # inside _simulate: a planner's overhead is the rest
        self.copies = 0

    def root(self, env: Any) -> Any:
        """A copy of the live env's simulator (the env is not touched)."""
        return self.copy(env.unwrapped)

    def copy(self, sim: Any) -> Any:
        """An independent copy of a simulator state."""
        self.copies += 1
        return copy.deepcopy(sim)

    def advance(self, sim: Any, action: int) -> tuple[float, bool]:
        """One policy step of the simulator alone, in place; the add-on reward and the end."""
        sim.time += 1 / sim.config["policy_frequency"]
        start = time.perf_counter()
        sim._simulate(action)
        self.simulator_seconds += time.perf_counter() - start
        self.simulator_steps += 1
        rewards = self.task.rewards(sim, action, 0.0, {})
        ended = sim.vehicle.crashed or sim.time >= sim.config["duration"]
        return rewards.addon, bool(ended)

    def step(self, sim: Any, action: int) -> tuple[Any, float, bool]:
        """The next simulator state (a new copy), its add-on reward, and whether it ended."""
        child = self.copy(sim)
        reward, ended = self.advance(child, action)
        return child, reward, ended

    def observe(self, sim: Any) -> np.ndarray:
        """The Kinematics observation the prior sees."""
        return kinematics_observation(sim)
