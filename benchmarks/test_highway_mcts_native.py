"""Zero-shot residual ME-MCTS on highway with the shipped RL prior in the loop (issue 12).

One decision at the paper's settings (150 simulations, depth and horizon 6, γ 0.8), planned on
the native C++ model against today's exact Python adapter over highway-env: the same live env
state, the same config and search seed (aim: >= 500x, <= 20 ms a decision). Then a whole 40-step
zero-shot customized episode on the real highway-env env, as the runner evaluates it (aim: <= 2 s).
Both planners come from the rql-mcts method, as a benchmark cell builds them.
"""

from __future__ import annotations

import time

import pytest

from benchmarks.conftest import RATIOS, TRACKED_DERIVED
from rqlbench.evaluation import evaluate
from rqlbench.mcts import search
from rqlbench.mcts.native_planner import NativeHighwayPlanner
from rqlbench.methods import MethodRun, run_method
from rqlbench.runner.grid import Cell, plan_cell
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior

PAPER = dict(num_simulations=150, max_depth=6, rollout_depth=6, gamma=0.8, horizon=6)
SMOKE = dict(num_simulations=4, max_depth=2, rollout_depth=1, horizon=2)  # benchmark disabled
EPISODE_SEED = 10_003  # an evaluation seed whose episode runs all 40 steps (10000 crashes at 29)
DECISION_LABEL = "highway decision, native rql-mcts with the RL prior (150 simulations, horizon 6)"
EPISODE_LABEL = "highway zero-shot episode, native rql-mcts (40 steps, 150 simulations)"


@pytest.fixture(scope="module")
def highway():
    return get_task("highway"), load_shipped_prior("highway", "rl")


@pytest.fixture(scope="module")
def live_env(highway):
    """The real highway-env env after a few steps of traffic, as evaluate() drives it."""
    env = highway[0].make_env(reward="addon")
    env.reset(seed=0)
    for action in (1, 3, 1, 0):
        env.step(action)
    yield env
    env.close()


def _rql_mcts(highway, benchmark, native: bool):
    """The rql-mcts policy with the task's omega' and the paper's settings (tiny in smoke runs)."""
    task, prior = highway
    settings = {**(SMOKE if benchmark.disabled else PAPER), "native": native}
    omega = plan_cell(Cell("highway", "rql-mcts", "rl", 0), "paper").omega  # the RL prior's ω'
    run = MethodRun(task=task, prior_model=prior, steps=0, seed=0, omega=omega, settings=settings)
    policy = run_method("rql-mcts", run)
    assert isinstance(policy, NativeHighwayPlanner) == native, type(policy).__name__
    return policy


def _decide(planner, env):
    """One decision from the live state (root import included), always with search seed 0."""
    return search(planner.model, planner.root(env), planner.config)


def test_native_decision(benchmark, record_rate, record_derived, highway, live_env):
    planner = _rql_mcts(highway, benchmark, native=True)
    result = benchmark.pedantic(_decide, args=(planner, live_env), rounds=30, warmup_rounds=3)
    record_rate("highway_native_decision", 1)
    benchmark.extra_info["action"] = int(result.action)
    if not benchmark.disabled:
        record_derived(f"{DECISION_LABEL}: wall time", 1e3 * benchmark.stats.stats.median, "ms")


def test_adapter_decision(benchmark, record_rate, highway, live_env):
    planner = _rql_mcts(highway, benchmark, native=False)
    result = benchmark.pedantic(_decide, args=(planner, live_env), rounds=1, iterations=1)
    record_rate("highway_adapter_decision", 1)
    benchmark.extra_info["action"] = int(result.action)


class TimedPolicy:
    """A planner that adds up the time spent planning (the rest is highway-env's own step)."""

    def __init__(self, planner) -> None:
        self.planner, self.seconds = planner, 0.0

    def bind(self, env) -> None:
        self.planner.bind(env)

    def predict(self, observation, deterministic: bool = True):
        start = time.perf_counter()
        decision = self.planner.predict(observation, deterministic)
        self.seconds += time.perf_counter() - start
        return decision


def test_native_zero_shot_episode(benchmark, record_derived, highway):
    policies = []

    def fresh_policy():  # each round plans with decision seeds 0, 1, ... as a new cell does
        policies.append(TimedPolicy(_rql_mcts(highway, benchmark, native=True)))
        return (policies[-1], highway[0], 1), {"seed": EPISODE_SEED}

    rounds = 1 if benchmark.disabled else 3
    (record,) = benchmark.pedantic(evaluate, setup=fresh_policy, rounds=rounds)
    benchmark.extra_info.update(record.as_dict())
    if benchmark.disabled:
        return
    assert record.length == 40, f"episode {EPISODE_SEED} ended after {record.length} steps"
    record_derived(f"{EPISODE_LABEL}: wall time", benchmark.stats.stats.median, "s")
    planning = sorted(policy.seconds for policy in policies)[len(policies) // 2]
    record_derived(f"{EPISODE_LABEL}: of which planning (median round)", planning, "s")


def test_labels_are_tracked():
    for label in (f"{DECISION_LABEL}: wall time", f"{EPISODE_LABEL}: wall time"):
        assert label in TRACKED_DERIVED, f"{label!r} is not in benchmarks/conftest.py"
    assert ("highway_native_decision", "highway_adapter_decision") in {
        (num, den) for _, num, den in RATIOS
    }
