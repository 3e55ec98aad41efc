"""highway-env's parking env, observing without pandas: the same numbers, a few times faster.

highway-env builds each goal observation from one-row pandas DataFrames (~1 ms), and a parking
step observes five times (the observation, the reward, termination, `info`, and the task's own
reward once more): most of a step's time. `FastKinematicsGoalObservation.observe` reads the
same `to_dict` values directly; tests/test_tasks.py checks every observation, reward and flag
of whole episodes against highway-env's env bit for bit; benchmarks/test_parking_env.py times
both.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import gymnasium as gym
import highway_env  # noqa: F401  (registers parking-v0)
import numpy as np
from highway_env.envs import ParkingEnv as HighwayEnvParking
from highway_env.envs.common.observation import KinematicsGoalObservation


class FastKinematicsGoalObservation(KinematicsGoalObservation):
    """highway-env's KinematicsGoal observation with the DataFrame round trip left out."""

    def observe(self) -> dict[str, np.ndarray]:
        vehicle = self.observer_vehicle
        if not vehicle:
            return super().observe()
        ego = self._features(vehicle.to_dict())
        goal = self._features(vehicle.goal.to_dict())
        # Two arrays, as highway-env returns: HER and the buffers may write into one of them.
        return OrderedDict(
            [
                ("observation", ego / self.scales),
                ("achieved_goal", ego / self.scales),
                ("desired_goal", goal / self.scales),
            ]
        )

    def _features(self, values: dict) -> np.ndarray:
        return np.array([values[name] for name in self.features], dtype=np.float64)


class ParkingEnv(HighwayEnvParking):
    """parking-v0 observing (for its observation and its reward) without pandas."""

    def define_spaces(self) -> None:
        super().define_spaces()
        configs = {
            "observation_type": self.config["observation"],
            "observation_type_parking": self.PARKING_OBS["observation"],
        }
        for name, config in configs.items():
            if type(getattr(self, name)) is KinematicsGoalObservation:
                setattr(self, name, FastKinematicsGoalObservation(self, **config))


def make_parking_env(render_mode: str | None = None) -> gym.Env:
    """`gym.make("parking-v0")` (same id and wrappers) building `ParkingEnv`."""
    spec = dataclasses.replace(gym.spec("parking-v0"), entry_point=ParkingEnv)
    return gym.make(spec, render_mode=render_mode)
