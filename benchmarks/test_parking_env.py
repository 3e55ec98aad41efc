"""rqlbench's parking env against highway-env's: one policy step (observation without pandas).

Both run the same episode from the same seed with the same action cycle; a step includes
highway-env's observation, reward, termination and info, as a training env pays them.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rqlbench.tasks.driving import PARKING_CONFIG
from rqlbench.tasks.parking_env import make_parking_env

STEPS = 50  # policy steps per round (of the 100 an episode has)
ACTIONS = np.random.default_rng(0).uniform(-1, 1, (STEPS, 2))


def _episode_start(env: gym.Env) -> gym.Env:
    env.unwrapped.configure(PARKING_CONFIG)
    env.reset(seed=0)
    return env


def _steps(env: gym.Env) -> None:
    env.reset(seed=0)
    for action in ACTIONS:
        env.step(action)


@pytest.mark.parametrize(
    ("name", "make"),
    [("parking_step", make_parking_env), ("parking_env_step", lambda: gym.make("parking-v0"))],
)
def test_parking_policy_steps(benchmark, record_rate, name, make):
    env = _episode_start(make())
    benchmark.pedantic(lambda: _steps(env), rounds=1 if benchmark.disabled else 5)
    record_rate(name, STEPS)
