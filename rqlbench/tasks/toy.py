"""Small environments with known solutions, for checking the learners (docs/algorithms.md §4.3)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class TabularEnv(gym.Env):
    """A finite MDP from tables: transition [S, A, S'], reward [S, A]; uniform random starts.

    Episodes never terminate; they are truncated after `horizon` steps, so the learner's
    discounted targets are those of the infinite-horizon MDP that soft value iteration solves.
    """

    def __init__(self, transition: np.ndarray, reward: np.ndarray, horizon: int = 50) -> None:
        self.transition, self.reward, self.horizon = transition, reward, horizon
        num_states, num_actions = reward.shape
        self.observation_space = spaces.Discrete(num_states)
        self.action_space = spaces.Discrete(num_actions)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.state, self.t = int(self.np_random.integers(self.reward.shape[0])), 0
        return self.state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        reward = float(self.reward[self.state, action])
        probs = self.transition[self.state, action]
        self.state = int(self.np_random.choice(len(probs), p=probs))
        self.t += 1
        return self.state, reward, False, self.t >= self.horizon, {}


class QuadraticBandit(gym.Env):
    """One-step continuous bandit: reward -scale·||a - target||², then the episode ends."""

    def __init__(self, target: float = 0.0, scale: float = 1.0, dim: int = 1) -> None:
        self.target, self.scale = target, scale
        self.observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (dim,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: np.ndarray):
        reward = -self.scale * float(np.sum((np.asarray(action) - self.target) ** 2))
        return np.zeros(1, np.float32), reward, True, False, {}
