"""The highway task as a gymnasium env over the native C++ simulator, for training.

Resets draw highway-env 1.9.1's initial state (`HighwayEnv._create_vehicles`,
docs/highway-port.md §1) with the same numpy generator gymnasium seeds, so `reset(seed=s)` gives
highway-env's vehicles bit for bit; steps run csrc/highway (the fidelity tests hold them to
highway-env's). Evaluation stays on the real highway-env (`Task.make_env()`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rqlbench._mcts import HighwaySim
from rqlbench.tasks.base import StepRewards

LANES = 3
OTHER_VEHICLES = 30
SPEED_LIMIT = 30.0
EGO_SPEED, EGO_SPACING = 25, 1.5
DELTA_RANGE = (3.5, 4.5)  # IDMVehicle.DELTA_RANGE: the only randomised IDM parameter


def _create_random(rng: np.random.Generator, speed: float | None, spacing: float, xs: list):
    """`Vehicle.create_random` on the straight road: (lane, x, speed), drawing in its order."""
    rng.choice(["0"])  # the road's one edge "0" -> "1": no draw, kept to mirror the source
    rng.choice(["1"])
    lane = int(rng.choice(LANES))
    if speed is None:
        speed = rng.uniform(0.7 * SPEED_LIMIT, 0.8 * SPEED_LIMIT)
    offset = spacing * (12 + 1.0 * speed) * np.exp(-5 / 40 * LANES)
    x0 = max(xs) if xs else 3 * offset
    x0 += offset * rng.uniform(0.9, 1.1)
    return lane, float(x0), float(speed)


def initial_state(rng: np.random.Generator) -> dict[str, Any]:
    """highway-env's reset state drawn from `rng`, as the HighwaySim constructor's arguments."""
    lane, x, _ = _create_random(rng, EGO_SPEED, EGO_SPACING, [])
    lanes, xs, speeds = [lane], [x], [float(EGO_SPEED)]
    deltas, timers = [4.0], [0.0]  # the ego has neither (import_arrays' convention)
    for _ in range(OTHER_VEHICLES):
        lane, x, speed = _create_random(rng, None, 1.0, xs)
        lanes.append(lane), xs.append(x), speeds.append(speed)
        deltas.append(rng.uniform(*DELTA_RANGE))
        timers.append(((x + 4.0 * lane) * np.pi) % 1.0)  # IDMVehicle: sum(position)·π mod 1
    n = len(xs)
    zeros = np.zeros(n)
    return {
        "x": np.array(xs), "y": 4.0 * np.array(lanes, dtype=np.float64), "heading": zeros,
        "speed": np.array(speeds), "target_speed": np.array(speeds), "delta": np.array(deltas),
        "timer": np.array(timers), "impact_x": zeros, "impact_y": zeros,
        "lane": np.array(lanes), "target_lane": np.array(lanes),
        "speed_index": np.array([1] + [0] * OTHER_VEHICLES),  # ego: speed_to_index(25) = 1
        "crashed": np.zeros(n, dtype=bool), "has_impact": np.zeros(n, dtype=bool),
        "time": 0.0, "frames": 0,
    }  # fmt: skip


class NativeHighwayEnv(gym.Env):
    """rqlbench's highway task on the native simulator: Kinematics 5×5, DiscreteMetaAction.

    `step` returns the task's basic reward; `step_rewards` holds the step's basic and add-on
    rewards and metric ingredients, computed natively, which TaskRewardWrapper takes as they are.
    """

    def __init__(self) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (5, 5), np.float32)
        self.action_space = spaces.Discrete(5)
        self.sim: HighwaySim | None = None
        self.step_rewards: StepRewards | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.sim = HighwaySim(**initial_state(self.np_random))
        self.step_rewards = None
        return self.sim.observe(), {}

    def step(self, action: Any):
        if self.sim is None:
            raise RuntimeError("NativeHighwayEnv.step before reset: call env.reset() first")
        basic, addon, terminated, truncated = self.sim.step(int(action))
        lane, crashed = self.sim.ego_lane, self.sim.ego_crashed
        self.step_rewards = StepRewards(
            basic=basic,
            addon=addon,
            ingredients={"lane_fraction": lane / (LANES - 1), "crashed": float(crashed)},
        )
        info = {"crashed": crashed}
        return self.sim.observe(), basic, terminated, truncated, info
