"""The real `rqlbench` command end to end: run, kill, resume, report; bad input.

Every command runs the installed `rqlbench` script in the repository root, where a user types it:
what it imports must not depend on the working directory or on how rqlbench was installed.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from rqlbench.runner import RunSpec, plan_grid

REPO = Path(__file__).resolve().parents[1]
# A discrete and a continuous task, a learner, a planner and the once-per-task full-reward cell:
# every path of the command (each method on its own: test_methods.py).
SMOKE_METHODS = ("prior", "rql", "rql-mcts", "full-reward")
SMOKE = ["run", "cartpole", "mountaincar", "--preset", "smoke", "--methods", *SMOKE_METHODS]


def _installed_command() -> str:
    # The script pip wrote beside this interpreter: it imports the installed package, whatever
    # the working directory (`python -m` would import ./rqlbench first).
    found = shutil.which("rqlbench", path=sysconfig.get_path("scripts"))
    assert found, "no `rqlbench` command beside this Python: install the package (pip install .)"
    return found


RQLBENCH = _installed_command()


def rqlbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RQLBENCH, *args], capture_output=True, text=True, timeout=600, env=_env(), cwd=REPO
    )


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
    cells = _cells(run)
    assert "cartpole__rql__il__seed0.json" in cells and "mountaincar__rql__rl__seed0.json" in cells
    assert "cartpole__full-reward__rl__seed0.json" in cells  # full-reward: once, not per kind
    assert "cartpole__full-reward__il__seed0.json" not in cells
    spec = RunSpec(tasks=("cartpole", "mountaincar"), preset="smoke", methods=SMOKE_METHODS)
    assert len(cells) == len(plan_grid(spec))
    environment = json.loads((run / "environment.json").read_text())
    assert environment["packages"]["rqlbench"] == version("rqlbench")
    report = run / "report"
    for name in ("table.md", "table.csv"):
        assert (report / name).stat().st_size > 0
    plots = [p for p in report.iterdir() if p.suffix in (".png", ".pdf")]
    assert plots and all(p.stat().st_size > 0 for p in plots)


def test_killed_run_resumes_without_losing_finished_cells(uninterrupted, tmp_path):
    run = tmp_path / "killed"
    process = subprocess.Popen(
        [RQLBENCH, *SMOKE, "--out", str(run), "--workers", "1"], cwd=REPO,
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

    shutil.rmtree(run / "report")  # `report` alone must write every file again
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
        (["mcts", "--sweep", "--simulations", "10"], "not allowed with argument --sweep"),
        (["mcts", "cartpole", "--sweep"], "task 'cartpole' has no budget sweep"),
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


def _sections(listing: str) -> dict[str, dict[str, str]]:
    """`rqlbench list` output as {section: {name: rest of its line}}."""
    sections: dict[str, dict[str, str]] = {}
    for line in listing.splitlines():
        if not line.startswith(" "):
            section = sections.setdefault(line.removesuffix(":"), {})
        else:
            name, _, rest = line.strip().partition(" ")
            section[name] = rest.strip()
    return sections


# The shipped priors are package data: listed from a regular install too.
def test_list_shows_tasks_methods_and_presets():
    from rqlbench.methods import METHODS
    from rqlbench.runner import PRESETS, available_priors
    from rqlbench.runner.grid import build_grid
    from rqlbench.tasks import get_task, task_names

    result = rqlbench("list")
    assert result.returncode == 0, result.stderr
    listed = _sections(result.stdout)
    assert list(listed) == ["tasks", "methods", "presets"]

    assert list(listed["tasks"]) == list(task_names())
    for name, line in listed["tasks"].items():
        metric, _, priors = line.partition("priors:")
        assert metric.strip() == f"metric: {get_task(name).metric_name}"
        shipped = ", ".join(available_priors(name)) or "none shipped (rqlbench train-prior)"
        assert priors.strip() == shipped

    assert list(listed["methods"]) == list(METHODS)
    for name, line in listed["methods"].items():
        description = METHODS[name].description
        assert description and line.startswith(description)
        # the tasks the grid runs the method on: all of them, or those the line names
        runs_on = {cell.task for cell in build_grid(task_names(), [name], ["rl"], seeds=1)}
        note = line.removeprefix(description).strip()
        if runs_on == set(task_names()):
            assert note == "", f"{name} runs on every task, yet the list says {note!r}"
        else:
            assert note.startswith("[") and note.endswith(" only]"), line
            assert set(note[1 : -len(" only]")].split(", ")) == runs_on

    assert list(listed["presets"]) == list(PRESETS)
    assert all(listed["presets"].values())  # each with what it is for


def test_mcts_sweep_runs_the_tasks_budget_curve_natively(tmp_path):
    from rqlbench.runner.grid import sweep_budgets

    run = tmp_path / "sweep"
    result = rqlbench("mcts", "--preset", "smoke", "--sweep", "--priors", "rl", "--out", str(run))
    assert result.returncode == 0, result.stderr
    budgets = sweep_budgets(["highway"])
    assert yaml.safe_load((run / "config.yaml").read_text())["simulations"] == list(budgets)
    cells = {name: json.loads(data) for name, data in _cells(run).items()}
    assert set(cells) == {"highway__prior__rl__seed0.json"} | {
        f"highway__rql-mcts__rl__seed0__sims{n}.json" for n in budgets
    }
    for n in budgets:
        cell = cells[f"highway__rql-mcts__rl__seed0__sims{n}.json"]
        assert cell["settings"]["num_simulations"] == n and cell["settings"]["native"] is True
        # Planning time only: below the evaluation's wall time per step (highway-env's steps).
        steps = sum(e["length"] for e in cell["episodes"])
        assert 0 < cell["decision_seconds"] < cell["eval_seconds"] / steps
    assert (run / "report" / "mcts_highway.png").stat().st_size > 0


def test_the_source_tree_alone_refuses_to_import_naming_the_fix():
    # Without site-packages (-S), `python -c` in the checkout finds only its rqlbench/, which has
    # neither the compiled core nor rqlbench.baselines.
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import rqlbench"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode != 0
    assert f"imported from the source tree {REPO / 'rqlbench'}" in result.stderr
    assert "no rqlbench._mcts and no rqlbench.baselines" in result.stderr
    assert "pip install -e ." in result.stderr
