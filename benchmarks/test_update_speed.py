"""Gradient updates/s: RSAC vs SB3 SAC and RSQL vs SB3 DQN, same networks and batch sizes.

Each learner first fills its replay buffer (not timed); a round is `train(gradient_steps=...)`.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
from stable_baselines3 import DQN, SAC

from rqlbench.algorithms import RSAC, RSQL, SoftQ
from rqlbench.zoo import prior_from_model

# SB3's defaults: SAC 256x256 with batch 256, DQN 64x64 with batch 32.
CONTINUOUS = dict(learning_starts=1000, seed=0)
DISCRETE = dict(learning_starts=1000, seed=0)
STEPS = {"continuous": 50, "discrete": 500}


def _filled(model):
    return model.learn(1100)


@pytest.fixture(scope="module")
def continuous_learners():
    env = gym.make("MountainCarContinuous-v0")
    sac = _filled(SAC("MlpPolicy", env, **CONTINUOUS))
    return {"sb3_sac": sac, "rsac": _filled(RSAC(prior_from_model(sac), env, **CONTINUOUS))}


@pytest.fixture(scope="module")
def discrete_learners():
    env = gym.make("CartPole-v1")
    soft_q = _filled(SoftQ("MlpPolicy", env, **DISCRETE))
    return {
        "sb3_dqn": _filled(DQN("MlpPolicy", env, **DISCRETE)),
        "soft_q": soft_q,
        "rsql": _filled(RSQL(prior_from_model(soft_q), env, **DISCRETE)),
    }


@pytest.mark.parametrize("name", ["sb3_sac", "rsac"])
def test_continuous_updates(benchmark, record_rate, continuous_learners, name):
    model, steps = continuous_learners[name], STEPS["continuous"]
    benchmark.pedantic(model.train, args=(steps, 256), rounds=5, warmup_rounds=1)
    record_rate(f"{name}_updates", steps)


@pytest.mark.parametrize("name", ["sb3_dqn", "soft_q", "rsql"])
def test_discrete_updates(benchmark, record_rate, discrete_learners, name):
    model, steps = discrete_learners[name], STEPS["discrete"]
    benchmark.pedantic(model.train, args=(steps, 32), rounds=5, warmup_rounds=1)
    record_rate(f"{name}_updates", steps)
