"""The native highway simulator against highway-env: one policy step (issue 12's >= 1000x aim).

Both step the same state (imported from a live env after a few steps of traffic) with the same
action cycle; highway-env's `env.step` includes its observation and reward, as a training env
pays them.
"""

from __future__ import annotations

import copy

import pytest

from rqlbench.tasks.driving import Highway
from rqlbench.tasks.highway_native import native_sim

STEPS = 20  # policy steps per round (of the 40 an episode has)


@pytest.fixture(scope="module")
def live_env():
    env = Highway().make_base_env()
    env.reset(seed=0)
    for action in (1, 3, 1, 0):
        env.step(action)
    return env


def _native_steps(sim) -> None:
    for t in range(STEPS):
        sim.step(t % 5)


def _env_steps(env) -> None:
    for t in range(STEPS):
        env.step(t % 5)


def test_native_policy_steps(benchmark, record_rate, live_env):
    sim = native_sim(live_env)
    benchmark.pedantic(lambda: _native_steps(sim.copy()), rounds=20, warmup_rounds=2)
    record_rate("highway_native_step", STEPS)


def test_highway_env_policy_steps(benchmark, record_rate, live_env):
    rounds = 1 if benchmark.disabled else 3
    benchmark.pedantic(lambda: _env_steps(copy.deepcopy(live_env)), rounds=rounds)
    record_rate("highway_env_step", STEPS)
