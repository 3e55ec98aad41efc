"""The real `rqlbench` command end to end: run, kill, resume, report; bad input."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from rqlbench.runner import RunSpec, plan_grid

SMOKE = ["run", "cartpole", "mountaincar", "--preset", "smoke"]


def rqlbench(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rqlbench.cli", *args],
        capture_output=True, text=True, timeout=600, env=_env(), **kwargs,
    )  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _cells(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (run / "cells").glob("*.json")}


def _report_files(run: Path) -> set[str]:
    return {p.name for p in (run / "report").iterdir()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "whole"
    done = rqlbench(*SMOKE, "--out", str(run), "--workers", "2")
    assert done.returncode == 0, done.stderr
    return run


def test_run_writes_config_environment_cells_and_report(uninterrupted):
    run = uninterrupted
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["tasks"] == ["cartpole", "mountaincar"] and config["preset"] == "smoke"
    assert (run / "environment.json").stat().st_size > 0
    cells = _cells(run)
    assert "cartpole__rql__il__seed0.json" in cells and "mountaincar__rql__rl__seed0.json" in cells
    assert "cartpole__full-reward__rl__seed0.json" in cells  # full-reward: once, not per kind
    assert "cartpole__full-reward__il__seed0.json" not in cells
    assert len(cells) == len(plan_grid(RunSpec(tasks=("cartpole", "mountaincar"), preset="smoke")))
    report = run / "report"
    for name in ("table.md", "table.csv"):
        assert (report / name).stat().st_size > 0
    plots = [p for p in report.iterdir() if p.suffix in (".png", ".pdf")]
    assert plots and all(p.stat().st_size > 0 for p in plots)


def test_killed_run_resumes_without_losing_finished_cells(uninterrupted, tmp_path):
    run = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "rqlbench.cli", *SMOKE, "--out", str(run), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(_cells(run)) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = _cells(run)
    assert 3 <= len(finished) < len(_cells(uninterrupted)), "killed before the run could finish"

    resumed = rqlbench(*SMOKE, "--out", str(run), "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    after = _cells(run)
    assert all(after[name] == data for name, data in finished.items())  # untouched, not redone
    assert after.keys() == _cells(uninterrupted).keys()
    assert _report_files(run) == _report_files(uninterrupted)

    again = rqlbench("report", str(run))
    assert again.returncode == 0, again.stderr
    assert _report_files(run) == _report_files(uninterrupted)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "cartpole", "--preset", "huge"], "invalid choice: 'huge'"),
        (["run", "cartpol"], "unknown task 'cartpol': choose one of cartpole"),
        (["run", "cartpole", "--methods", "rsql"], "invalid choice: 'rsql'"),
        (["run", "cartpole", "--seeds", "0"], "must be an integer >= 1, got 0"),
        (["run", "cartpole", "--omega", "-1"], "must be a number >= 0, got -1"),
    ],
)
def test_bad_arguments_exit_nonzero_naming_the_value(args, message, tmp_path):
    out = tmp_path / "never"
    result = rqlbench(*args, "--out", str(out))
    assert result.returncode != 0 and message in result.stderr
    assert not out.exists()  # nothing half-written


def test_unwritable_out_and_foreign_results_are_refused(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = rqlbench(*SMOKE, "--out", str(blocker / "run"))
    assert result.returncode == 2 and "cannot write results to" in result.stderr

    old = tmp_path / "old"
    old.mkdir()
    (old / "config.yaml").write_text(yaml.safe_dump({"store_version": 0}))
    result = rqlbench(*SMOKE, "--out", str(old))
    assert result.returncode == 2 and "store version 0" in result.stderr
    assert os.listdir(old) == ["config.yaml"]


def test_list_shows_tasks_methods_and_presets():
    result = rqlbench("list")
    assert result.returncode == 0
    for name in ("cartpole", "highway", "rql-mcts", "kl-reward", "smoke", "paper"):
        assert name in result.stdout


def test_mcts_command_sweeps_budgets_and_plots_them(tmp_path):
    run = tmp_path / "mcts"
    result = rqlbench(
        "mcts", "--preset", "smoke", "--simulations", "2", "4", "--priors", "rl", "--out", str(run)
    )
    assert result.returncode == 0, result.stderr
    assert set(_cells(run)) == {
        "highway__prior__rl__seed0.json",
        "highway__rql-mcts__rl__seed0__sims2.json",
        "highway__rql-mcts__rl__seed0__sims4.json",
    }
    assert (run / "report" / "mcts_highway.png").stat().st_size > 0
