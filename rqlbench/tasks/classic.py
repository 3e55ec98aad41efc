"""CartPole (keep the cart centred) and continuous Mountain Car (avoid negative actions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from rqlbench.tasks.base import StepRewards, Task, mean_of
from rqlbench.tasks.cartpole_model import CartPoleModel

THETA_LIMIT = 0.2095  # CartPole's pole-angle termination threshold, radians
X_LIMIT = 2.4  # CartPole's cart-position termination threshold


class CartPole(Task):
    """Balance the pole (r = 1 - 10|θ|/0.2095) while keeping the cart centred (r_R = -|x|/2.4)."""

    name = "cartpole"
    metric_name = "mean |x|"
    metric_higher_is_better = False
    max_steps = 500

    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        return gym.make("CartPole-v1", render_mode=render_mode)

    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        x, _, theta, _ = env.unwrapped.state
        return StepRewards(
            basic=1.0 - 10.0 * abs(theta) / THETA_LIMIT,
            addon=centring_reward(x),
            ingredients={"abs_x": abs(float(x))},
        )

    def planning_model(self) -> CartPoleModel:
        return CartPoleModel(centring_reward, self.max_steps, self.make_base_env().unwrapped)

    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        return mean_of(steps, "abs_x")

    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        return not terminated and len(steps) >= self.max_steps


def centring_reward(x: float) -> float:
    """r_R = -|x| / 2.4: the further the cart from the centre, the lower."""
    return -abs(x) / X_LIMIT


class MountainCar(Task):
    """Reach the flag (the env's reward) without pushing left (r_R = -0.1 per negative action)."""

    name = "mountaincar"
    metric_name = "negative actions"
    metric_higher_is_better = False

    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        return gym.make("MountainCarContinuous-v0", render_mode=render_mode)

    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        negative = float(np.asarray(action).reshape(-1)[0] < 0)
        return StepRewards(
            basic=base_reward, addon=-0.1 * negative, ingredients={"negative_action": negative}
        )

    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        return float(sum(s["negative_action"] for s in steps))

    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        return terminated  # the car reached the flag
