"""A whole customization cell (RSQL from the shipped cartpole prior, training through the
task's reward wrapper) against SB3 DQN learning the same env with the same settings.

Both do STEPS environment steps with one gradient update per step after 1000 warm-up steps;
a round is one full `learn` from scratch. The ratio is environment steps/s, cell / DQN.
"""

from __future__ import annotations

import pytest
from stable_baselines3 import DQN

from rqlbench.methods import MethodRun, run_method
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior

STEPS = 3000


@pytest.fixture(scope="module")
def cartpole():
    task = get_task("cartpole")
    return task, load_shipped_prior("cartpole", "rl"), dict(task.config()["prior"]["rl"]["learner"])


def test_rsql_cell(benchmark, record_rate, cartpole):
    task, prior, _ = cartpole
    run = MethodRun(task=task, prior_model=prior, steps=STEPS, seed=0, omega=0.003)
    benchmark.pedantic(run_method, args=("rql", run), rounds=3, warmup_rounds=0)
    record_rate("rsql_cell_steps", STEPS)


def test_sb3_dqn_same_env(benchmark, record_rate, cartpole):
    task, _, learner = cartpole
    learner.pop("alpha")  # DQN has no temperature; everything else is the same

    def learn():
        return DQN("MlpPolicy", task.make_env(reward="addon"), seed=0, **learner).learn(STEPS)

    benchmark.pedantic(learn, rounds=3, warmup_rounds=0)
    record_rate("sb3_dqn_cell_steps", STEPS)
