"""The report package on a synthetic run directory: tables, paper columns, statistics, plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rqlbench.report import load_run, summary_markdown, write_report
from rqlbench.report.plots import curve_plots, mcts_plots, omega_plots, task_plots
from rqlbench.report.stats import run_statistics
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
