"""Residual ME-MCTS speed: C++ core vs the pure-Python reference, callback overhead, threads.

Run: pytest benchmarks --benchmark-only   (ratios are printed at the end of the session)
"""

from __future__ import annotations

import collections
import time

import pytest

from rqlbench.mcts import MCTSConfig, TabularMDP, search, search_batch
from rqlbench.mcts.reference import ReferenceMCTS

MDP = TabularMDP.random(1000, 5, seed=0, terminal_fraction=0.02)
# 5 actions, depth 6; leaves valued at 0 ("tree") or by 6-step prior rollouts ("rollouts").
SETTINGS = dict(omega=1.0, alpha=1.0, epsilon=0.1, gamma=0.95, max_depth=6)
LEAVES = {"tree": 0, "rollouts": 6}
SIMS = 20_000  # the same search for both implementations


def config(leaves: str, sims: int = SIMS) -> MCTSConfig:
    return MCTSConfig(num_simulations=sims, rollout_depth=LEAVES[leaves], **SETTINGS)


@pytest.mark.parametrize("leaves", LEAVES)
def test_cpp_core_native_model(benchmark, record_rate, leaves):
    model = MDP.native()
    benchmark.pedantic(search, args=(model, 0, config(leaves)), rounds=20, warmup_rounds=2)
    record_rate(f"cpp_native_{leaves}", SIMS)


@pytest.mark.parametrize("leaves", LEAVES)
def test_python_reference(benchmark, record_rate, leaves):
    model = MDP.python()
    benchmark.pedantic(lambda: ReferenceMCTS(model, config(leaves)).search(0), rounds=3)
    record_rate(f"python_reference_{leaves}", SIMS)


def test_cpp_core_python_callbacks(benchmark, record_rate):
    model = MDP.python()
    benchmark.pedantic(search, args=(model, 0, config("rollouts")), rounds=5, warmup_rounds=1)
    record_rate("cpp_callbacks_rollouts", SIMS)


class Recorder:
    """Records every callback the search makes, to time the callbacks alone afterwards."""

    def __init__(self, model):
        self.model, self.num_actions = model, model.num_actions
        self.steps, self.priors = [], []

    def step(self, state, action):
        self.steps.append((state, action))
        return self.model.step(state, action)

    def prior_log_probs(self, state):
        self.priors.append(state)
        return self.model.prior_log_probs(state)


def _best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_callback_overhead_per_env_step(benchmark, record_derived):
    """Search time with Python callbacks − the same tree natively − the callbacks' own time."""
    config_ = config("rollouts")
    python_model, native_model = MDP.python(), MDP.native()
    recorder = Recorder(python_model)
    search(recorder, 0, config_)
    states, actions = zip(*recorder.steps, strict=True)
    drain = collections.deque(maxlen=0).extend  # C-level loop: the bare cost of each call

    def callbacks_alone():
        drain(map(python_model.step, states, actions))
        drain(map(python_model.prior_log_probs, recorder.priors))

    benchmark.pedantic(search, args=(python_model, 0, config_), rounds=5, warmup_rounds=1)
    if benchmark.disabled:
        return
    with_callbacks = benchmark.stats.stats.min
    native = _best_of(lambda: search(native_model, 0, config_))
    own = _best_of(callbacks_alone)
    overhead = (with_callbacks - native - own) / len(states)
    benchmark.extra_info.update(overhead_ns_per_step=overhead * 1e9, steps=len(states))
    record_derived(
        "Python-callback overhead per env step (beyond the callbacks' own cost)",
        overhead * 1e9,
        "ns",
    )


ROOTS = list(range(8))


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_threads(benchmark, record_rate, threads):
    model, config_ = MDP.native(), config("rollouts", sims=50_000)
    benchmark.pedantic(
        search_batch, args=(model, ROOTS, config_, threads), rounds=5, warmup_rounds=1
    )
    record_rate(f"batch_{threads}_thread{'s' if threads > 1 else ''}", len(ROOTS) * 50_000)
