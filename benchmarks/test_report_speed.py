"""The report's statistics: rqlbench's vectorised bootstrap against rliable on the same cells.

A synthetic run of 5 seeds × 5 tasks × 7 methods × 2 prior kinds (350 cell files in the run
store's format). Both sides compute every estimate the report has, from the same score matrices:
IQM and mean with 95% stratified-bootstrap CIs for each prior × score × method (28 matrices of
5 runs × 5 tasks) and P(rql > X) for each prior × score × other method (20 pairs). Both use REPS
replicates: rliable calls Python per replicate (and scipy per task in P(improvement)), so REPS is
small to keep its side affordable (~5 s a round). The ratio is statistics/s, numpy / rliable; it
understates the gain at a report's DEFAULT_REPS, where numpy's fixed cost per estimate matters
less (rliable's time grows linearly with the replicates). `test_run_statistics` times the
report's whole statistics step at DEFAULT_REPS. With --benchmark-disable every test runs once
with SMOKE_REPS replicates.

`python -m benchmarks.test_report_speed DIR` writes the synthetic run, for timing
`rqlbench report DIR`.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from rqlbench.report import load_run
from rqlbench.report.bootstrap import interval_estimates, iqm_and_mean, probability_of_improvement
from rqlbench.report.stats import (
    DEFAULT_REPS,
    aggregate_inputs,
    improvement_inputs,
    normalized_scores,
    run_statistics,
)
from rqlbench.results_format import STORE_VERSION

REPS = 50
SMOKE_REPS = 2
TASKS = {  # task -> (metric name, higher is better), as the tasks report them
    "cartpole": ("mean |x|", False),
    "mountaincar": ("negative actions", False),
    "highway": ("mean lane / 2", True),
    "parking": ("no-violation rate", True),
    "halfcheetah": ("mean power (W)", False),
}
METHODS = ("prior", "rql", "rql-mcts", "greedy", "kl-reward", "loglik-reward", "full-reward")
PRIORS = ("rl", "il")
SEEDS = 5
EPISODES = 10
CURVE_POINTS = 20


def write_synthetic_run(run_dir: Path, seeds: int = SEEDS) -> Path:
    """A run directory with a cell file for every task × method × prior kind × seed."""
    rng = np.random.default_rng(0)
    (run_dir / "cells").mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(f"preset: synthetic\nstore_version: {STORE_VERSION}\n")
    for task in TASKS:
        for method in METHODS:
            for prior in PRIORS:
                for seed in range(seeds):
                    cell = _cell(task, method, prior, seed, rng)
                    name = f"{task}__{method}__{prior}__seed{seed}.json"
                    (run_dir / "cells" / name).write_text(json.dumps(cell))
    return run_dir


def _cell(task: str, method: str, prior: str, seed: int, rng: np.random.Generator) -> dict:
    """One cell file: episodes around a per-method level, a learning curve if the method trains."""
    metric_name, higher = TASKS[task]
    level = METHODS.index(method)
    episodes = [
        {
            "seed": 10_000 + i,
            "basic_return": float(rng.normal(100 + 5 * level, 20)),
            "addon_return": float(rng.normal(-50 + 6 * level, 15)),
            "metric": float(rng.random()),
            "success": bool(rng.random() < 0.8),
            "length": 200,
        }
        for i in range(EPISODES)
    ]
    trains = method not in ("prior", "rql-mcts")
    steps = np.linspace(100, 10_000, CURVE_POINTS)
    curve = [
        {"step": int(step), "basic_return": float(rng.normal(step / 100)), "addon_return": -1.0}
        for step in steps
    ]
    simulations = 50 if method == "rql-mcts" else None
    return {
        "schema": STORE_VERSION,
        "cell": {"task": task, "method": method, "prior": prior, "seed": seed,
                 "omega": None if method == "prior" else 0.01, "simulations": simulations},
        "metric_name": metric_name, "metric_higher_is_better": higher,
        "episodes": episodes, "curve": curve if trains else [],
        "train_seconds": 10.0 if trains else 0.0, "eval_seconds": 1.0,
        "decision_seconds": 0.05 if simulations else None,
    }  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    cells = load_run(write_synthetic_run(tmp_path_factory.mktemp("run"))).cells
    scores = normalized_scores(cells)
    matrices = [matrix for _, matrix in aggregate_inputs(scores)]
    pairs = [pair for _, pair in improvement_inputs(scores)]
    assert len(matrices) == 28 and len(pairs) == 20
    assert all(matrix.shape == (SEEDS, len(TASKS)) for matrix in matrices)
    return cells, matrices, pairs


def numpy_statistics(matrices: list[np.ndarray], pairs: list[tuple], reps: int) -> None:
    """Every estimate of the report with rqlbench's vectorised bootstrap."""
    for matrix in matrices:
        interval_estimates(iqm_and_mean, (matrix,), reps, np.random.default_rng(0))
    for pair in pairs:
        interval_estimates(probability_of_improvement, pair, reps, np.random.default_rng(0))


def rliable_statistics(matrices: list[np.ndarray], pairs: list[tuple], reps: int) -> None:
    """The same estimates with rliable, as the report computed them before."""
    from rliable import library, metrics

    def iqm_mean(scores: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(scores), metrics.aggregate_mean(scores)])

    def improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([metrics.probability_of_improvement(x, y)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch on rliable's RandomState use
        library.get_interval_estimates(dict(enumerate(matrices)), iqm_mean, reps=reps)
        library.get_interval_estimates(
            {i: list(pair) for i, pair in enumerate(pairs)}, improvement, reps=reps
        )


def test_report_statistics_numpy(benchmark, record_rate, run):
    _, matrices, pairs = run
    reps = SMOKE_REPS if benchmark.disabled else REPS
    benchmark.pedantic(numpy_statistics, args=(matrices, pairs, reps), rounds=5, warmup_rounds=1)
    record_rate("report_stats_numpy", 1)


def test_report_statistics_rliable(benchmark, record_rate, run):
    _, matrices, pairs = run
    reps = SMOKE_REPS if benchmark.disabled else REPS
    benchmark.pedantic(rliable_statistics, args=(matrices, pairs, reps), rounds=2)
    record_rate("report_stats_rliable", 1)


def test_run_statistics(benchmark, record_rate, run):
    cells, _, _ = run
    reps = SMOKE_REPS if benchmark.disabled else DEFAULT_REPS
    stats = benchmark.pedantic(run_statistics, args=(cells, reps), rounds=3)
    assert len(stats) == 28 * 2 + 20
    record_rate("report_run_statistics_5x5x7x2", 1)


if __name__ == "__main__":
    print(write_synthetic_run(Path(sys.argv[1])))
