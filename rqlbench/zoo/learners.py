"""The max-entropy learners that train priors: soft-Q for discrete actions, SAC for continuous."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env

from rqlbench.algorithms.soft_q import SoftQ

EnvFactory = Callable[[], gym.Env]


def max_entropy_learner(
    env: Any, seed: int, policy: str = "MlpPolicy", **kwargs: Any
) -> BaseAlgorithm:
    """SoftQ for a discrete action space, SAC for a continuous one."""
    # SB3 writes into policy_kwargs: never into the caller's.
    kwargs = {**kwargs, "policy_kwargs": copy.deepcopy(kwargs.get("policy_kwargs") or {})}
    if isinstance(env.action_space, spaces.Discrete):
        return SoftQ(policy, env, seed=seed, **kwargs)
    return SAC(policy, env, seed=seed, **kwargs)


def train_rl_prior(
    make_env: EnvFactory, steps: int, seed: int = 0, **learner_kwargs: Any
) -> BaseAlgorithm:
    """A max-entropy RL prior trained on `make_env`'s reward (the task's basic reward)."""
    model = max_entropy_learner(make_vec_env(make_env, n_envs=1, seed=seed), seed, **learner_kwargs)
    return model.learn(steps)
