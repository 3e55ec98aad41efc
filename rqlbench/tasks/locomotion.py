"""MuJoCo locomotion: HalfCheetah runs forward (basic) while saving energy (add-on).

The add-on reward penalizes mechanical power, r_R = -0.0005·Σ_i |f_i·v_i| over actuators (force
times actuator velocity), an energy-efficiency requirement users of legged robots recognise. It
pulls against the basic reward, which pays for speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rqlbench.tasks.base import StepRewards, Task, mean_of

POWER_WEIGHT = 5e-4  # -1.4 per step at the RL prior's 2.7 kW, against ~4 of basic reward
RUNNING_SPEED = 2.0  # m/s: a successful episode averages at least this forward speed


def mechanical_power(env: gym.Env) -> float:
    """Σ |actuator force · actuator velocity| of the MuJoCo model's current state, in watts."""
    data = env.unwrapped.data
    return float(np.abs(data.actuator_force * data.actuator_velocity).sum())


class HalfCheetah(Task):
    """Run forward (the env's reward) with less mechanical power (r_R = -0.0005·power)."""

    name = "halfcheetah"
    metric_name = "mean power (W)"
    metric_higher_is_better = False

    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        return gym.make("HalfCheetah-v4", render_mode=render_mode)

    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        power = mechanical_power(env)
        return StepRewards(
            basic=base_reward,
            addon=-POWER_WEIGHT * power,
            ingredients={"power": power, "forward_speed": float(info["x_velocity"])},
        )

    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        return mean_of(steps, "power")

    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        return mean_of(steps, "forward_speed") >= RUNNING_SPEED
