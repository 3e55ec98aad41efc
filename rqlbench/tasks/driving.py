"""highway-env tasks: stay in the right lane on the highway; don't touch the parking lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import highway_env  # noqa: F401  (registers the highway-env environments)
import numpy as np
from gymnasium import spaces
from highway_env import utils

from rqlbench.tasks.base import (
    RewardMode,
    StepRewards,
    Task,
    TaskRewardWrapper,
    mean_of,
)
from rqlbench.tasks.highway_model import HighwayModel
from rqlbench.tasks.parking_env import make_parking_env

HIGHWAY_CONFIG = {
    "lanes_count": 3,
    "vehicles_count": 30,
    "duration": 40,
    "ego_spacing": 1.5,
    "simulation_frequency": 5,
    "policy_frequency": 1,
    "reward_speed_range": [20, 30],
    "observation": {"type": "Kinematics", "vehicles_count": 5},
    "action": {"type": "DiscreteMetaAction"},
}


class Highway(Task):
    """Drive fast without crashing (basic) and keep to the rightmost lane (add-on)."""

    name = "highway"
    metric_name = "mean lane / 2"
    metric_higher_is_better = True

    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        env = gym.make("highway-v0", render_mode=render_mode)
        env.unwrapped.configure(HIGHWAY_CONFIG)
        env.reset()  # applies the configuration to the spaces
        return env

    def make_native_env(self) -> gym.Env:
        from rqlbench.tasks.highway_native_env import NativeHighwayEnv

        return NativeHighwayEnv()

    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        highway = env.unwrapped
        vehicle = highway.vehicle
        lanes = len(highway.road.network.all_side_lanes(vehicle.lane_index))
        # As highway-env's own reward: the lane the controller is heading to, forward speed.
        lane = vehicle.target_lane_index[2]
        forward_speed = vehicle.speed * np.cos(vehicle.heading)
        speed = np.clip(
            utils.lmap(forward_speed, HIGHWAY_CONFIG["reward_speed_range"], [0, 1]), 0, 1
        )
        on_road = float(vehicle.on_road)
        return StepRewards(
            basic=on_road * (-0.5 * float(vehicle.crashed) + 0.4 * float(speed) + 1.0),
            addon=on_road * 0.5 * lane / max(lanes - 1, 1),
            ingredients={
                "lane_fraction": vehicle.lane_index[2] / max(lanes - 1, 1),
                "crashed": float(vehicle.crashed),
            },
        )

    def planning_model(self) -> HighwayModel:
        return HighwayModel(self)

    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        return mean_of(steps, "lane_fraction")

    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        return not any(s["crashed"] for s in steps)


PARKING_CONFIG = {"policy_frequency": 5, "duration": 20}  # 20 s at 5 Hz: 100 steps
STRIP_LENGTH, STRIP_WIDTH, STRIP_OFFSET = 8.0, 0.1, 2.0  # parking lines beside the goal, metres


class GoalObservation(gym.ObservationWrapper):
    """parking's dict observation as one vector [desired goal; ego], both already scaled."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        size = env.observation_space["observation"].shape[0]
        self.observation_space = spaces.Box(-np.inf, np.inf, (2 * size,), np.float32)

    def observation(self, obs: dict) -> np.ndarray:
        return np.concatenate([obs["desired_goal"], obs["observation"]]).astype(np.float32)


def boundary_strips(goal_position: np.ndarray, goal_heading: float) -> list[np.ndarray]:
    """The two 8 m x 0.1 m strips 2 m either side of the goal, along its heading (closed)."""
    c, s = np.cos(goal_heading), np.sin(goal_heading)
    rotation = np.array([[c, -s], [s, c]])
    corners = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1], [-1, -1]]) * [
        STRIP_LENGTH / 2,
        STRIP_WIDTH / 2,
    ]
    return [
        (rotation @ (corners + np.array([0.0, side * STRIP_OFFSET])).T).T + goal_position
        for side in (-1.0, 1.0)
    ]


def touches_boundary(vehicle_polygon: np.ndarray, strips: list[np.ndarray]) -> bool:
    """Whether the car's polygon intersects either strip (separating-axis test)."""
    no_motion = np.zeros(2)
    return any(
        utils.are_polygons_intersecting(vehicle_polygon, strip, no_motion, no_motion)[0]
        for strip in strips
    )


class Parking(Task):
    """Park in the goal slot (basic) without touching the slot's boundary lines (add-on)."""

    name = "parking"
    metric_name = "no-violation rate"
    metric_higher_is_better = True
    success_reward = -0.12

    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        return GoalObservation(self._make_parking_env(render_mode))

    def make_goal_env(self, reward: RewardMode = "basic", omega: float = 1.0) -> gym.Env:
        """The task's env with highway-env's dict observation, for goal relabelling (HER)."""
        return TaskRewardWrapper(self._make_parking_env(), self, reward, omega)

    @staticmethod
    def _make_parking_env(render_mode: str | None = None) -> gym.Env:
        env = make_parking_env(render_mode)
        env.unwrapped.configure(PARKING_CONFIG)
        env.reset()
        return env

    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        # The basic reward is highway-env's: the goal term and -5 for hitting a wall, which ends
        # the episode. Without the crash term every step costs, so crashing early pays.
        parking = env.unwrapped
        obs = parking.observation_type_parking.observe()
        goal_reward = parking.compute_reward(obs["achieved_goal"], obs["desired_goal"], {})
        crashed = float(parking.vehicle.crashed)
        goal = parking.vehicle.goal
        strips = boundary_strips(goal.position, goal.heading)
        contact = float(touches_boundary(parking.vehicle.polygon(), strips))
        return StepRewards(
            basic=float(goal_reward + parking.config["collision_reward"] * crashed),
            addon=-contact,
            ingredients={"contact": contact, "goal_reward": float(goal_reward), "crashed": crashed},
        )

    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        return float(not any(s["contact"] for s in steps))

    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        return any(s["goal_reward"] > self.success_reward for s in steps)
