"""The report package on a synthetic run directory: tables, paper columns, statistics, plots."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rqlbench.report import bootstrap, load_run, summary_markdown, write_report
from rqlbench.report.plots import curve_plots, mcts_plots, omega_plots, task_plots
from rqlbench.report.stats import (
    AGGREGATES,
    aggregate_inputs,
    improvement_inputs,
    normalized_scores,
    run_statistics,
)
from rqlbench.report.tables import results_table, table_markdown

REPS = 200  # bootstrap replications: enough for the checks, fast
METRICS = {"cartpole": ("mean |x|", False), "parking": ("no-violation rate", True)}
METRICS["highway"] = ("mean lane / 2", True)
# Mean add-on return per method: rql is clearly best, so P(rql > X) should be near 1.
ADDON = {"prior": -30.0, "greedy": -25.0, "full-reward": -20.0, "rql": -5.0, "rql-mcts": -4.0}
EPISODES = 4


def _cell(
    task: str,
    method: str,
    prior: str,
    seed: int,
    omega: float | None = None,
    simulations: int | None = None,
    rng: np.random.Generator | None = None,
) -> dict:
    """One cell file's content with random episodes around the method's means."""
    rng = rng or np.random.default_rng(seed)
    metric_name, higher = METRICS[task]
    episodes = []
    for i in range(EPISODES):
        metric = float(rng.integers(0, 2)) if higher else float(rng.uniform(0, 0.2))
        episodes.append({
            "seed": 10_000 + i, "basic_return": float(rng.normal(400, 5)),
            "addon_return": float(rng.normal(ADDON[method], 1)), "metric": metric,
            "success": bool(rng.random() < 0.8), "length": 500,
        })  # fmt: skip
    trains = method not in ("prior", "rql-mcts")
    curve = [
        {"step": step, "basic_return": float(rng.normal(step / 10)), "addon_return": -1.0}
        for step in range(50, 1000, 50)
    ]
    return {
        "schema": 1,
        "cell": {"task": task, "method": method, "prior": prior, "omega": omega, "seed": seed,
                 "simulations": simulations},
        "metric_name": metric_name, "metric_higher_is_better": higher,
        "episodes": episodes, "curve": curve if trains else [],
        "train_seconds": 1.0 if trains else 0.0, "eval_seconds": 0.5,
        "decision_seconds": 0.01 * simulations if simulations else None,
    }  # fmt: skip


def _write_run(run_dir: Path, cells: list[dict]) -> Path:
    (run_dir / "cells").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("preset: smoke\n")
    for i, cell in enumerate(cells):
        (run_dir / "cells" / f"cell{i:03d}.json").write_text(json.dumps(cell))
    return run_dir


def _synthetic_cells() -> list[dict]:
    rng = np.random.default_rng(0)
    cells = []
    for task in ("cartpole", "parking"):
        for prior in ("rl", "il"):
            for seed in range(3):
                cells.append(_cell(task, "prior", prior, seed, rng=rng))
                cells.append(_cell(task, "rql", prior, seed, 0.01, rng=rng))
                if seed < (3 if task == "cartpole" else 2):  # fewer greedy runs on parking
                    cells.append(_cell(task, "greedy", prior, seed, 0.01, rng=rng))
    for seed in range(3):  # an ω' sweep on cartpole
        cells.append(_cell("cartpole", "rql", "rl", seed, 0.1, rng=rng))
        cells.append(_cell("cartpole", "full-reward", "rl", seed, 0.01, rng=rng))
    for seed in range(2):
        cells.append(_cell("highway", "prior", "rl", seed, rng=rng))
        for simulations in (10, 50):
            cells.append(_cell("highway", "rql-mcts", "rl", seed, 0.01, simulations, rng=rng))
    return cells


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    cells = _synthetic_cells()
    return _write_run(tmp_path_factory.mktemp("run"), cells), cells


def _episodes(cells: list[dict], **key: object) -> pd.DataFrame:
    chosen = [c for c in cells if all(c["cell"][k] == v for k, v in key.items())]
    return pd.DataFrame([e for c in chosen for e in c["episodes"]])


def test_load_run_tables(run: tuple[Path, list[dict]]) -> None:
    run_dir, cells = run
    results = load_run(run_dir)
    assert len(results.cells) == len(cells)
    assert len(results.episodes) == EPISODES * len(cells)
    assert set(results.curves["method"]) == {"rql", "greedy", "full-reward"}
    labels = set(results.cells.query("task == 'cartpole' and prior == 'rl'")["label"])
    assert {"rql ω'=0.01", "rql ω'=0.1", "greedy", "prior"} <= labels
    assert set(results.cells.query("task == 'highway'")["label"]) >= {"rql-mcts n=10"}


def test_results_table_means_and_paper_columns(run: tuple[Path, list[dict]]) -> None:
    run_dir, cells = run
    table = results_table(load_run(run_dir))
    row = table.query("task == 'cartpole' and prior == 'rl' and method == 'rql' and omega == 0.1")
    expected = _episodes(cells, task="cartpole", prior="rl", method="rql", omega=0.1)
    assert row["episodes"].item() == len(expected) == 3 * EPISODES
    assert row["seeds"].item() == 3
    assert row["basic_mean"].item() == pytest.approx(expected["basic_return"].mean())
    assert row["basic_std"].item() == pytest.approx(expected["basic_return"].std(ddof=0))
    assert row["addon_mean"].item() == pytest.approx(expected["addon_return"].mean())
    assert row["success_rate"].item() == pytest.approx(expected["success"].mean())
    # the paper's cartpole RL-prior row sits beside ours
    prior = table.query("task == 'cartpole' and prior == 'rl' and method == 'prior'")
    assert prior["paper_success_rate"].item() == 1.0
    assert prior["paper_basic_mean"].item() == pytest.approx(427.21)
    assert prior["paper_addon_std"].item() == pytest.approx(22.82)
    assert table.query("method == 'greedy'")["paper_basic_mean"].isna().all()
    markdown = table_markdown(table)
    assert "427.21 ± 2.25" in markdown and "-31.11 ± 22.82" in markdown
    assert f"{100 * expected['success'].mean():.2f}%" in markdown
    assert "mean \\|x\\|" in markdown  # the metric's name, its pipes escaped
    parking = _episodes(cells, task="parking", prior="il", method="prior")
    assert f"{100 * parking['metric'].mean():.2f}%" in markdown  # no-violation rate in percent
    assert "57.61%" in markdown  # the paper's parking RL-prior no-violation rate


def test_statistics(run: tuple[Path, list[dict]]) -> None:
    run_dir, _ = run
    stats = run_statistics(load_run(run_dir).cells, reps=REPS)
    assert (stats["ci_low"] <= stats["estimate"] + 1e-12).all()
    assert (stats["estimate"] <= stats["ci_high"] + 1e-12).all()
    aggregates = stats[stats["versus"].isna()]
    assert aggregates["estimate"].between(0, 1).all()
    # parking has 2 greedy runs, cartpole 3: rliable gets 2 runs on each task
    greedy = aggregates.query("method == 'greedy' and prior == 'rl'")
    assert set(greedy["runs"]) == {2} and set(greedy["tasks"]) == {"cartpole, parking"}
    versus = stats[stats["versus"].notna()].set_index(["prior", "versus", "score"])
    assert versus["estimate"].between(0, 1).all()
    assert versus.loc[("rl", "greedy", "add-on"), "estimate"] > 0.9
    assert versus.loc[("il", "prior", "add-on"), "estimate"] > 0.9
    assert "rql-mcts" not in set(versus.index.get_level_values("versus"))


def test_single_seed_statistics(tmp_path: Path) -> None:
    cells = [_cell("cartpole", m, "rl", 0, None if m == "prior" else 0.01) for m in ADDON]
    cells = [c for c in cells if c["cell"]["method"] != "rql-mcts"]
    stats = run_statistics(load_run(_write_run(tmp_path, cells)).cells, reps=REPS)
    assert np.allclose(stats["ci_low"], stats["estimate"])
    assert np.allclose(stats["ci_high"], stats["estimate"])


# --- the vectorised estimators against rliable, the definition they implement ---


def _rliable_iqm_and_mean(scores: np.ndarray) -> np.ndarray:
    from rliable import metrics

    return np.array([metrics.aggregate_iqm(scores), metrics.aggregate_mean(scores)])


def _rliable_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from rliable import metrics

    return np.array([metrics.probability_of_improvement(x, y)])


def _ours_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return bootstrap.probability_of_improvement(x, y)[..., None]


def _score_matrices() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pairs of runs × tasks matrices: continuous, tied, identical, single-run, unequal runs."""
    rng = np.random.default_rng(3)
    grid = np.linspace(0, 1, 5)  # few distinct values: ties within and across methods
    shared = rng.random((4, 3))
    return {
        "continuous": (rng.random((5, 3)), rng.random((5, 3))),
        "ties": (rng.choice(grid, (6, 4)), rng.choice(grid, (6, 4))),
        "identical": (shared, shared.copy()),
        "one run": (rng.random((1, 2)), rng.random((1, 2))),
        "unequal runs": (rng.random((3, 2)), rng.choice(grid, (7, 2))),
        "one task, many runs": (rng.random((13, 1)), rng.random((9, 1))),
    }


@pytest.mark.parametrize("case", list(_score_matrices()))
def test_point_estimates_equal_rliable(case: str) -> None:
    x, y = _score_matrices()[case]
    for scores in (x, y):
        np.testing.assert_allclose(
            bootstrap.iqm_and_mean(scores), _rliable_iqm_and_mean(scores), rtol=1e-13, atol=0
        )
    ours = bootstrap.probability_of_improvement(x, y)
    assert ours == pytest.approx(_rliable_improvement(x, y)[0], rel=1e-13, abs=0)
    reverse = bootstrap.probability_of_improvement(y, x)
    assert ours + reverse == pytest.approx(1.0, abs=1e-12)  # ties count half to each side


def test_vectorised_estimators_equal_rliable_replicate_by_replicate() -> None:
    # The same resampled matrices through both: the vectorisation changes no replicate.
    rng = np.random.default_rng(4)
    for x, y in _score_matrices().values():
        xs = bootstrap.stratified_resamples(x, 50, rng)
        ys = bootstrap.stratified_resamples(y, 50, rng)
        expected = np.array([_rliable_iqm_and_mean(sample) for sample in xs])
        np.testing.assert_allclose(bootstrap.iqm_and_mean(xs), expected, rtol=1e-13, atol=0)
        expected = np.array([_rliable_improvement(a, b)[0] for a, b in zip(xs, ys, strict=True)])
        ours = bootstrap.probability_of_improvement(xs, ys)
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=0)


def test_probability_of_improvement_chunks_give_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, y = _score_matrices()["ties"]
    rng = np.random.default_rng(5)
    xs, ys = (bootstrap.stratified_resamples(m, 40, rng) for m in (x, y))
    whole = bootstrap.probability_of_improvement(xs, ys)
    monkeypatch.setattr(bootstrap, "MAX_PAIR_ELEMENTS", 1)  # one replicate per chunk
    np.testing.assert_array_equal(bootstrap.probability_of_improvement(xs, ys), whole)


def test_stratified_resamples_redraw_runs_within_each_task() -> None:
    scores = np.arange(12.0).reshape(4, 3)  # task t holds t, t+3, t+6, t+9
    samples = bootstrap.stratified_resamples(scores, 2000, np.random.default_rng(0))
    assert samples.shape == (2000, 4, 3)
    for task in range(3):
        drawn = samples[:, :, task].ravel()
        assert set(drawn) == set(scores[:, task])  # every run of the task, no other task's
        counts = np.unique(drawn, return_counts=True)[1]
        # 8000 draws of 4 runs: each count is Binomial(8000, 1/4), sd ≈ 39
        assert np.all(np.abs(counts - 2000) < 5 * 39)
    again = bootstrap.stratified_resamples(scores, 2000, np.random.default_rng(0))
    np.testing.assert_array_equal(samples, again)


@pytest.fixture
def numpy_global_seed() -> Iterator[None]:
    """rliable resamples with numpy's global RNG (it ignores random_state): seed, then restore."""
    state = np.random.get_state()
    np.random.seed(2021)
    yield
    np.random.set_state(state)


# (statistic, ours, rliable's, rliable's replicates): rliable's probability of improvement
# costs a scipy call per task and replicate (~0.3 ms), so it gets fewer replicates.
CI_CASES = {
    "IQM and mean": (bootstrap.iqm_and_mean, _rliable_iqm_and_mean, 5000),
    "P(improvement)": (_ours_improvement, _rliable_improvement, 1000),
}


@pytest.mark.parametrize("name", list(CI_CASES))
def test_intervals_agree_with_rliable_within_monte_carlo_error(
    name: str, numpy_global_seed: None
) -> None:
    from rliable import library

    ours_statistic, rliable_statistic, rliable_reps = CI_CASES[name]
    rng = np.random.default_rng(6)
    # Tasks on different scales, so a bootstrap that mixed tasks would give other intervals.
    x = np.column_stack([rng.normal(0.2, 0.05, 5), rng.normal(0.8, 0.1, 5), rng.random(5)])
    y = np.column_stack([rng.normal(0.25, 0.05, 4), rng.normal(0.6, 0.2, 4), rng.random(4)])
    matrices = (x,) if name == "IQM and mean" else (x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch on rliable's RandomState use
        points, intervals = library.get_interval_estimates(
            {name: list(matrices) if len(matrices) > 1 else x}, rliable_statistic,
            reps=rliable_reps,
        )  # fmt: skip
    reps = 100_000
    point, interval = bootstrap.interval_estimates(
        ours_statistic, matrices, reps, np.random.default_rng(7)
    )
    np.testing.assert_allclose(point, points[name], rtol=1e-13)
    replicates = _replicates(ours_statistic, matrices, reps, np.random.default_rng(7))
    np.testing.assert_array_equal(interval, np.percentile(replicates, [2.5, 97.5], axis=0))
    # rliable's bound is its replicates' 2.5% (97.5%) quantile. Where it falls in our replicates'
    # distribution differs from that level by sampling error only: the level of an empirical
    # p-quantile of R draws has sd sqrt(p (1 - p) / R), so the difference of the two has sd
    # sigma = sqrt(p (1 - p) (1 / R_rliable + 1 / R_ours)); we allow 4 sigma (an atom of a
    # discrete statistic counts as anywhere between its two sides).
    for row, level in ((0, 0.025), (1, 0.975)):
        sigma = np.sqrt(level * (1 - level) * (1 / rliable_reps + 1 / reps))
        for column, bound in enumerate(intervals[name][row]):
            below = np.mean(replicates[:, column] < bound)
            at_or_below = np.mean(replicates[:, column] <= bound)
            assert below - 4 * sigma <= level <= at_or_below + 4 * sigma, (row, column, bound)


def _replicates(
    statistic: Callable[..., np.ndarray], matrices: tuple, reps: int, rng: np.random.Generator
) -> np.ndarray:
    samples = [bootstrap.stratified_resamples(matrix, reps, rng) for matrix in matrices]
    return statistic(*samples)


def test_run_statistics_match_rliable_on_a_run(run: tuple[Path, list[dict]]) -> None:
    cells = load_run(run[0]).cells
    stats = run_statistics(cells, reps=REPS)
    scores = normalized_scores(cells)
    aggregates = stats[stats["versus"].isna()].set_index(["prior", "method", "score", "statistic"])
    for keys, matrix in aggregate_inputs(scores):
        key = (keys["prior"], keys["method"], keys["score"])
        ours = [aggregates.loc[(*key, statistic), "estimate"] for statistic in AGGREGATES]
        np.testing.assert_allclose(ours, _rliable_iqm_and_mean(matrix), rtol=1e-13)
    versus = stats[stats["versus"].notna()].set_index(["prior", "versus", "score"])
    pairs = improvement_inputs(scores)
    assert len(pairs) == len(versus) > 0
    for keys, (x, y) in pairs:
        row = versus.loc[(keys["prior"], keys["versus"], keys["score"])]
        assert row["estimate"] == pytest.approx(_rliable_improvement(x, y)[0], rel=1e-13)
        assert row["runs"] == len(x) and row["versus_runs"] == len(y)


def test_run_statistics_reproducible_from_the_seed(run: tuple[Path, list[dict]]) -> None:
    # rliable drew its resamples from numpy's global RNG, so the CIs changed on every report.
    cells = load_run(run[0]).cells
    first = run_statistics(cells, reps=REPS, seed=1)
    np.random.seed(99)  # the global RNG must not matter
    pd.testing.assert_frame_equal(run_statistics(cells, reps=REPS, seed=1), first)
    other = run_statistics(cells, reps=REPS, seed=2)
    assert not np.allclose(other["ci_low"], first["ci_low"])
    pd.testing.assert_series_equal(other["estimate"], first["estimate"])


def test_bootstrap_rejects_bad_input() -> None:
    scores = np.zeros((3, 2))
    with pytest.raises(ValueError, match="reps=0: the bootstrap needs at least one replicate"):
        bootstrap.interval_estimates(bootstrap.iqm_and_mean, (scores,), 0, np.random.default_rng())
    with pytest.raises(ValueError, match=r"shape \(3,\) are not a runs × tasks matrix"):
        bootstrap.stratified_resamples(np.zeros(3), 10, np.random.default_rng())
    with pytest.raises(ValueError, match=r"shapes \(3, 2\) and \(3, 4\) do not pair up"):
        bootstrap.probability_of_improvement(scores, np.zeros((3, 4)))


def test_statistics_import_neither_rliable_nor_arch(tmp_path: Path) -> None:
    # rliable brings arch and statsmodels (~0.2-0.6 s of imports); the report must not need it.
    code = (
        "import sys; from rqlbench.report import write_report; "
        "from rqlbench.report.stats import run_statistics; "
        "print(sorted({'rliable', 'arch'} & set(sys.modules)))"
    )
    out = subprocess.run(  # outside the checkout: the installed package, not ./rqlbench
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_write_report(run: tuple[Path, list[dict]], tmp_path: Path) -> None:
    run_dir, _ = run
    out = tmp_path / "report"
    with pytest.raises(FileNotFoundError, match="make the report first"):
        summary_markdown(run_dir, out)
    paths = write_report(run_dir, out, reps=REPS)
    names = {path.name for path in paths}
    expected = {"table.md", "table.csv", "stats.md", "stats.csv"}
    for stem in ("results_cartpole", "results_parking", "results_highway", "curves_cartpole",
                 "curves_parking", "omega_cartpole", "mcts_highway"):  # fmt: skip
        expected |= {f"{stem}.png", f"{stem}.pdf"}
    assert names == expected
    assert all(path.parent == out and path.stat().st_size > 0 for path in paths)
    assert not list(out.glob(".*tmp*"))
    table = pd.read_csv(out / "table.csv")
    assert pd.api.types.is_float_dtype(table["basic_mean"])
    summary = summary_markdown(run_dir, out)
    assert "### cartpole" in summary and "Probability that rql improves" in summary


def test_plots_skip_missing_data(tmp_path: Path) -> None:
    cells = [_cell("cartpole", "prior", kind, seed) for kind in ("rl", "il") for seed in range(2)]
    results = load_run(_write_run(tmp_path / "run", cells))
    out = tmp_path / "plots"
    out.mkdir()
    assert curve_plots(results, out) == []
    assert omega_plots(results, out) == []
    assert mcts_plots(results, out) == []
    assert [path.name for path in task_plots(results, out)] == [
        "results_cartpole.png",
        "results_cartpole.pdf",
    ]


def test_bad_run_directories(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no finished cells"):
        load_run(tmp_path / "missing")
    (tmp_path / "cells").mkdir()
    with pytest.raises(ValueError, match="no finished cells"):
        load_run(tmp_path)
    cell = _cell("cartpole", "prior", "rl", 0)
    (tmp_path / "cells" / "a.json").write_text(json.dumps({**cell, "schema": 2}))
    with pytest.raises(ValueError, match=r"a\.json has result schema 2"):
        load_run(tmp_path)
    (tmp_path / "cells" / "a.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read cell file"):
        load_run(tmp_path)
    del cell["cell"]["seed"]
    (tmp_path / "cells" / "a.json").write_text(json.dumps(cell))
    with pytest.raises(ValueError, match=r"lacks cell\.seed"):
        load_run(tmp_path)
