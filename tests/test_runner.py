"""The runner: grid, per-cell plans, the results store and both executors."""

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from rqlbench import runner
from rqlbench.cli import main
from rqlbench.files import FILE_MODE, write_text
from rqlbench.methods import prior_temperature
from rqlbench.prior_files import prior_path
from rqlbench.results_format import STORE_VERSION
from rqlbench.runner import RunSpec, RunStore, grid, plan_grid, run_benchmark
from rqlbench.runner.executors import _as_workers_free, execute
from rqlbench.runner.grid import Cell, build_grid, plan_cell, sweep_budgets
from rqlbench.runner.timing import Deadline, DeadlineReached
from rqlbench.tasks import task_config
from rqlbench.zoo import load_shipped_prior

REPO = Path(__file__).resolve().parents[1]


def test_grid_crosses_tasks_methods_priors_omegas_and_seeds():
    cells = build_grid(["cartpole"], ["prior", "rql"], ["rl", "il"], seeds=2, omegas=[0.1, 0.2])
    # the prior ignores omega': one cell per (kind, seed); rql: one per omega' too
    assert len([c for c in cells if c.method == "prior"]) == 2 * 2
    assert len([c for c in cells if c.method == "rql"]) == 2 * 2 * 2
    assert len({c.id for c in cells}) == len(cells)
    assert all(c.omega is None for c in cells if c.method == "prior")


def test_full_reward_learns_without_the_prior_policy_so_runs_once_per_grid():
    cells = build_grid(["cartpole"], ["full-reward", "rql"], ["rl", "il"], seeds=1)
    assert [c.prior for c in cells if c.method == "full-reward"] == ["rl"]
    assert [c.prior for c in cells if c.method == "rql"] == ["rl", "il"]
    # under the RL prior (whose α converts its ω'), whatever the order the kinds were asked in
    cells = build_grid(["cartpole"], ["full-reward"], ["il", "rl"], seeds=1)
    assert [c.prior for c in cells] == ["rl"]


def test_mcts_runs_on_tasks_with_a_planning_model_and_sweeps_simulations():
    tasks = ["cartpole", "highway", "mountaincar"]  # mountaincar offers no planning model
    cells = build_grid(tasks, None, ["rl"], seeds=1, simulations=[10, 50])
    mcts = [c for c in cells if c.method == "rql-mcts"]
    assert {(c.task, c.simulations) for c in mcts} == {
        (task, budget) for task in ("cartpole", "highway") for budget in (10, 50)
    }
    assert all(c.simulations is None for c in cells if c.method != "rql-mcts")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(tasks=["cartpol"]), "unknown task 'cartpol': choose one of cartpole"),
        (dict(methods=["rsql"]), "unknown method 'rsql': choose one of prior, rql"),
        (dict(priors=["bc"]), "unknown prior kind 'bc': choose from rl, il"),
        (dict(priors=[]), "no prior kind given: choose from rl, il"),
        (dict(seeds=0), "seeds must be >= 1, got 0"),
        (dict(seeds=1001), "seeds must be at most 1000, got 1001: .* from 1000 on are the tuning"),
    ],
)
def test_bad_grid_input_names_the_value_and_the_choices(kwargs, message):
    args = {**dict(tasks=["cartpole"], methods=None, priors=["rl"], seeds=1), **kwargs}
    with pytest.raises(ValueError, match=message):
        build_grid(**args)


def test_plan_resolves_preset_method_and_cell_settings():
    trained = plan_cell(Cell("cartpole", "rql", "rl", 0), "smoke")
    assert trained.steps == 300 and trained.episodes == 2
    assert trained.settings["learning_starts"] == 100  # the smoke preset's learner settings
    prior = plan_cell(Cell("cartpole", "prior", "rl", 0), "smoke")
    assert prior.steps == 0 and prior.settings == {}  # nothing to train, no learner settings
    mcts = plan_cell(Cell("highway", "rql-mcts", "rl", 0, simulations=7), "quick")
    assert mcts.settings["num_simulations"] == 7 and mcts.episodes == 20
    assert plan_cell(Cell("cartpole", "rql", "rl", 0, omega=0.5), "quick").omega == 0.5


def test_highway_presets_train_natively_and_nothing_else_does():
    for preset in ("smoke", "quick", "paper"):
        assert plan_cell(Cell("highway", "rql", "rl", 0), preset).simulator == "native"
    # Planning and the prior train nothing; other tasks have no native simulator.
    assert plan_cell(Cell("highway", "rql-mcts", "rl", 0), "quick").simulator == "reference"
    assert plan_cell(Cell("highway", "prior", "rl", 0), "quick").simulator == "reference"
    assert plan_cell(Cell("cartpole", "rql", "rl", 0), "quick").simulator == "reference"


def _patch_config(monkeypatch, name: str) -> dict:
    """The task's config as the grid reads it, to be edited by the test."""
    settings, real = task_config(name), grid.task_config
    monkeypatch.setattr(grid, "task_config", lambda task: settings if task == name else real(task))
    return settings


def test_a_preset_simulator_must_be_known(monkeypatch):
    settings = _patch_config(monkeypatch, "cartpole")
    settings["presets"]["quick"]["simulator"] = "fast"
    with pytest.raises(ValueError, match="preset 'quick': simulator must be one of"):
        plan_cell(Cell("cartpole", "rql", "rl", 0), "quick")


def test_a_preset_may_tune_with_its_own_steps_and_episodes(monkeypatch):
    settings = _patch_config(monkeypatch, "cartpole")
    quick = settings["presets"]["quick"]
    quick.update(tuning_steps=1234, tuning_episodes=50)
    tuning = plan_cell(Cell("cartpole", "rql", "rl", 0, omega=0.01, split="validation"), "quick")
    main = plan_cell(Cell("cartpole", "rql", "rl", 0), "quick")
    assert (tuning.steps, tuning.episodes) == (1234, 50)
    assert (main.steps, main.episodes) == (quick["steps"], quick["episodes"])
    assert plan_cell(Cell("cartpole", "prior", "rl", 0, split="validation"), "quick").steps == 0


def test_a_task_may_set_omega_per_prior_kind(monkeypatch):
    settings = _patch_config(monkeypatch, "cartpole")
    settings["methods"]["rql"] = {"omega": {"rl": 0.002, "il": 0.02}}
    assert plan_cell(Cell("cartpole", "rql", "rl", 0), "quick").omega == 0.002
    assert plan_cell(Cell("cartpole", "rql", "il", 0), "quick").omega == 0.02
    assert plan_cell(Cell("cartpole", "rql", "il", 0, omega=0.5), "quick").omega == 0.5
    settings["methods"]["rql"] = {"omega": {"rl": 0.002}}  # e.g. tuned with --priors rl only
    with pytest.raises(ValueError, match=r"not for the il prior: run `rqlbench tune cartpole --"):
        plan_cell(Cell("cartpole", "rql", "il", 0), "quick")
    with pytest.raises(ValueError, match="unknown preset 'fast': choose one of smoke"):
        plan_cell(Cell("cartpole", "rql", "rl", 0), "fast")


def test_sweep_budgets_reach_500_and_join_the_tasks_lists(monkeypatch):
    highway = sweep_budgets(["highway"])
    assert highway[0] == 10 and highway[-1] == 500 and 150 in highway  # the paper's budget in it
    assert list(highway) == sorted(set(highway))
    settings = _patch_config(monkeypatch, "cartpole")
    settings["methods"]["rql-mcts"]["budgets"] = [5, 150, 1000]
    assert sweep_budgets(["highway", "cartpole"]) == tuple(sorted({*highway, 5, 1000}))


def test_sweep_budgets_refuse_a_task_without_a_valid_list(monkeypatch):
    settings = _patch_config(monkeypatch, "cartpole")
    settings["methods"]["rql-mcts"].pop("budgets", None)
    with pytest.raises(
        ValueError, match=r"task 'cartpole' has no budget sweep: add methods\.rql-mcts\.budgets"
    ):
        sweep_budgets(["cartpole"])
    settings["methods"]["rql-mcts"]["budgets"] = [10, 0]
    with pytest.raises(ValueError, match=r"budgets must be integers >= 1, got \[10, 0\]"):
        sweep_budgets(["cartpole"])


def test_missing_prior_fails_before_any_work(tmp_path):
    spec = RunSpec(tasks=("cartpole",), preset="smoke", prior_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no prior for task 'cartpole'"):
        plan_grid(spec)


def test_store_resumes_the_same_run_and_refuses_another(tmp_path):
    config = RunSpec(tasks=("cartpole",), preset="smoke").as_config()
    store = RunStore.open(tmp_path / "run", config)
    (store.cells_dir / ".x.json.abc.tmp").write_text("half")  # a write killed midway
    cell = Cell("cartpole", "prior", "rl", 0)
    store.save(cell, {"schema": 1})
    again = RunStore.open(tmp_path / "run", config)
    assert again.is_done(cell) and not list(again.cells_dir.glob(".*.tmp"))
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["preset"] == "smoke"
    assert json.loads((tmp_path / "run" / "environment.json").read_text())["packages"]["torch"]
    with pytest.raises(ValueError, match="different preset: rerun it with the same arguments"):
        RunStore.open(tmp_path / "run", {**config, "preset": "quick"})


def test_more_seeds_extend_a_run_and_fewer_are_refused(tmp_path):
    config = RunSpec(tasks=("cartpole",), preset="smoke", seeds=2).as_config()
    RunStore.open(tmp_path / "run", config)
    RunStore.open(tmp_path / "run", {**config, "seeds": 3})
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["seeds"] == 3
    record = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert record["packages"] and [e["seeds"] for e in record["extensions"]] == [3]
    with pytest.raises(ValueError, match="different seeds: rerun it with the same arguments"):
        RunStore.open(tmp_path / "run", {**config, "seeds": 2})


def test_a_resumed_run_refuses_cells_outside_its_grid(tmp_path):
    # e.g. a tuning directory from before tuning trained from seed 1000: its seed-0 cells would
    # be averaged in with the new ones by the selection
    spec = RunSpec(tasks=("cartpole",), preset="smoke", methods=("prior",), split="validation")
    cells = plan_grid(spec)
    store = RunStore.open(tmp_path / "run", spec.as_config())
    store.refuse_unplanned_cells(cells)  # empty: nothing to refuse
    store.save(cells[0], {"schema": 1})
    store.refuse_unplanned_cells(cells)  # its own cells are fine
    store.save(Cell("cartpole", "prior", "rl", 0, split="validation"), {"schema": 1})
    with pytest.raises(
        ValueError,
        match=r"holds 1 cell\(s\) this run does not plan, e\.g\. "
        r"cartpole__prior__rl__seed0__validation\.json .*move them out",
    ):
        run_benchmark(spec, tmp_path / "run", progress=False)


def _as_planned(cell: Cell, preset: str) -> dict:
    """The part of a cell's record that says how it was computed, as its plan says."""
    plan = plan_cell(cell, preset)
    return {
        "cell": {**cell.as_dict(), "omega": plan.omega}, "steps": plan.steps,
        "settings": plan.settings, "simulator": plan.simulator, "episodes": [{}] * plan.episodes,
    }  # fmt: skip


def test_a_resumed_run_refuses_cells_computed_with_another_weight_or_budget(tmp_path, capsys):
    # a cell's file name leaves out its weight and steps: a re-tuned weight must not mix in
    spec = RunSpec(tasks=("cartpole",), preset="smoke", methods=("rql",), priors=("rl",), seeds=1)
    (cell,) = plan_grid(spec)
    plan = plan_cell(cell, "smoke")
    store = RunStore.open(tmp_path / "run", spec.as_config())
    record = _as_planned(cell, "smoke")
    store.save(cell, record)
    store.refuse_changed_plans({cell: plan})  # computed as planned
    store.save(cell, {**record, "cell": {**record["cell"], "omega": 10 * plan.omega}})
    message = f"computed with omega' {10 * plan.omega!r}; the task's config now gives omega' "
    with pytest.raises(ValueError, match=re.escape(f"{message}{plan.omega!r}")):
        run_benchmark(spec, tmp_path / "run", progress=False)
    store.save(cell, {**record, "steps": plan.steps + 1})
    args = ["run", "cartpole", "--preset", "smoke", "--methods", "rql", "--priors", "rl", "--seeds"]
    assert main([*args, "1", "--out", str(tmp_path / "run"), "--dry-run"]) == 2  # dry runs check
    assert re.search(f"computed with steps {plan.steps + 1}; .*new --out", capsys.readouterr().err)
    # an extension refused for it leaves the directory as it was, so the old command still resumes
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").glob("*.*")}
    with pytest.raises(ValueError, match=f"computed with steps {plan.steps + 1}"):
        run_benchmark(RunSpec(**{**vars(spec), "seeds": 2}), tmp_path / "run", progress=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").glob("*.*")} == before
    store.save(cell, {**record, "episodes": [{}] * 3, "settings": {"batch_size": 1}})
    with pytest.raises(ValueError, match=r"computed with settings \{'batch_size': 1\}, episodes 3"):
        run_benchmark(spec, tmp_path / "run", progress=False)


def test_a_run_refuses_cells_of_a_prior_retrained_in_place(tmp_path, monkeypatch):
    priors = tmp_path / "priors" / "cartpole" / "rl"
    priors.mkdir(parents=True)
    shutil.copy(prior_path("cartpole", "rl"), priors / "prior.zip")
    spec = RunSpec(
        tasks=("cartpole",), preset="smoke", methods=("prior",), priors=("rl",), seeds=1,
        prior_dir=str(tmp_path / "priors"),
    )  # fmt: skip
    store = run_benchmark(spec, tmp_path / "run", progress=False)
    (path,) = store.cells_dir.glob("*.json")
    digest = json.loads(path.read_text())["prior_sha256"]
    assert digest == hashlib.sha256((priors / "prior.zip").read_bytes()).hexdigest()
    run_benchmark(spec, tmp_path / "run", progress=False)  # the same prior resumes
    shutil.copy(prior_path("cartpole", "il"), priors / "prior.zip")  # "retrained" in place
    with pytest.raises(ValueError, match=f"computed with prior_sha256 '{digest}'; .*new --out"):
        run_benchmark(spec, tmp_path / "run", progress=False)
    # ... or while the run runs: the cell that customized the new file is not saved
    shutil.copy(prior_path("cartpole", "rl"), priors / "prior.zip")
    executed = runner.execute

    def retrained_once_the_run_started(*args, **kwargs):
        shutil.copy(prior_path("cartpole", "il"), priors / "prior.zip")
        yield from executed(*args, **kwargs)

    monkeypatch.setattr(runner, "execute", retrained_once_the_run_started)
    more = RunSpec(**{**vars(spec), "seeds": 2})
    with pytest.raises(
        ValueError, match="prior changed during the run: cartpole__prior__rl__seed1"
    ):
        run_benchmark(more, tmp_path / "run", progress=False)
    assert list(store.cells_dir.glob("*.json")) == [path]


def test_dry_run_counts_the_cells_left_and_times_them_from_the_finished_ones(tmp_path, capsys):
    args = ["run", "cartpole", "--preset", "smoke", "--methods", "prior", "rql", "--seeds", "2"]
    spec = RunSpec(tasks=("cartpole",), preset="smoke", methods=("prior", "rql"), seeds=2)
    assert main([*args, "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    assert not (tmp_path / "new").exists()  # nothing written, nothing run
    assert "8 of 8 cells to run" in capsys.readouterr().out

    store = RunStore.open(tmp_path / "run", spec.as_config())
    for cell, seconds in zip(plan_grid(spec)[-2:], (40.0, 60.0), strict=True):  # rql, il prior
        timed = {"train_seconds": seconds, "eval_seconds": 20.0}
        store.save(cell, {**_as_planned(cell, "smoke"), **timed})
    assert main([*args, "--out", str(tmp_path / "run"), "--workers", "2", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "6 of 8 cells to run" in printed
    assert re.search(r"rql +2 of 4 +~70 s each \(2 timed\)", printed)
    # two rql cells left at the median 70 s, on two workers; the prior's four are untimed
    assert "time left ~70 s on 2 worker(s) for the timed cells, plus 4 cell(s) not" in printed
    assert main([*args[:-1], "3", "--out", str(tmp_path / "run"), "--dry-run"]) == 0  # extends
    assert main([*args, "--preset", "quick", "--out", str(tmp_path / "run"), "--dry-run"]) == 2
    assert "different preset" in capsys.readouterr().err


def test_a_deadline_admits_a_cell_only_if_its_kind_says_it_will_finish_in_time():
    rql, prior = Cell("cartpole", "rql", "rl", 0, 0.1), Cell("cartpole", "prior", "rl", 0)
    greedy, mcts = Cell("cartpole", "greedy", "rl", 0, 0.1), Cell("cartpole", "rql-mcts", "rl", 0)
    highway = Cell("highway", "rql", "rl", 0)
    now = [1000.0]
    deadline = Deadline(1300.0, {("cartpole", "rql", None): [100.0, 200.0]}, lambda: now[0])
    assert deadline.expected_seconds(rql) == 200.0  # the slowest of its kind
    assert deadline.expected_seconds(greedy) == 200.0  # untimed: the slowest alike kind (trains)
    assert deadline.expected_seconds(mcts) == 0.0  # nothing alike (a planner) timed: it starts
    assert deadline.expected_seconds(highway) == 0.0
    deadline.record(prior, {"train_seconds": 0.0, "eval_seconds": 2.0})
    assert deadline.expected_seconds(prior) == 2.0
    assert deadline.expected_seconds(mcts) == 0.0  # a prior's evaluation says nothing of planning
    assert list(deadline.admitted([rql, prior, highway])) == [rql, prior, highway]
    now[0] = 1050.0  # 200 s and a minute's setup no longer fit
    assert list(deadline.admitted([rql, prior, highway])) == [prior, highway]
    now[0] = 1240.0  # nor does a minute's setup alone
    assert list(deadline.admitted([prior])) == []
    assert deadline.held_back == [rql, prior]
    message = "2 cell(s) would not have finished in time (e.g. cartpole__rql__rl__seed0"
    assert message in deadline.stop_message()


def test_workers_take_the_next_cell_only_when_one_is_free():
    # the deadline judges a cell when it would start, knowing every cell finished before it
    pulled, handled = [], []

    def cells():
        for cell in range(5):
            pulled.append(len(handled))
            yield cell

    with ThreadPoolExecutor(2) as pool:
        for cell, result in _as_workers_free(cells(), 2, lambda c: pool.submit(int, c * 10)):
            assert result == cell * 10
            handled.append(cell)
    assert pulled == [0, 0, 1, 2, 3] and sorted(handled) == list(range(5))


def test_a_run_with_a_deadline_starts_no_cell_it_cannot_finish(tmp_path, capsys):
    spec = RunSpec(tasks=("cartpole",), preset="smoke", methods=("prior",), priors=("rl",), seeds=3)
    first, *rest = plan_grid(spec)
    store = RunStore.open(tmp_path / "run", spec.as_config())
    store.save(first, {**_as_planned(first, "smoke"), "train_seconds": 0, "eval_seconds": 7200})
    with pytest.raises(DeadlineReached, match="2 cell\\(s\\) would not have finished in time"):
        run_benchmark(spec, tmp_path / "run", progress=False, stop_by=time.time() + 3600)
    assert [p.name for p in store.cells_dir.glob("*.json")] == [f"{first.id}.json"]
    args = ["run", "cartpole", "--preset", "smoke", "--methods", "prior", "--priors", "rl"]
    args += ["--seeds", "3", "--out", str(tmp_path / "run"), "--stop-by"]
    for when, message in [("2000-01-01", "2000-01-01 has passed"), ("9:61", "not a time: '9:61'")]:
        with pytest.raises(SystemExit):
            main([*args, when])
        assert message in capsys.readouterr().err
    later = (dt.datetime.now() + dt.timedelta(hours=1)).strftime("%H:%M")  # the next occurrence
    assert main([*args, later]) == 75
    assert "rerun the same command to resume" in capsys.readouterr().err
    store.save(first, {**_as_planned(first, "smoke"), "train_seconds": 0, "eval_seconds": 1})
    run_benchmark(spec, tmp_path / "run", progress=False, stop_by=time.time() + 3600)
    assert all(store.is_done(cell) for cell in rest)  # cells that fit run as before


def test_a_fresh_run_is_timed_from_another_runs_cells_at_the_same_steps(tmp_path, capsys):
    spec = RunSpec(
        tasks=("cartpole",), preset="smoke", methods=("prior", "rql"), priors=("rl",), seeds=2
    )
    rql, prior = (next(c for c in plan_grid(spec) if c.method == m) for m in ("rql", "prior"))
    tuning = RunStore.open(tmp_path / "tuning", spec.as_config())
    tuning.save(rql, {**_as_planned(rql, "smoke"), "train_seconds": 3000, "eval_seconds": 600})
    other_steps = {**_as_planned(prior, "smoke"), "steps": 7}  # not the same budget: not used
    tuning.save(prior, {**other_steps, "train_seconds": 0, "eval_seconds": 7200})
    args = ["run", "cartpole", "--preset", "smoke", "--methods", "prior", "rql", "--priors", "rl"]
    args += ["--seeds", "2", "--workers", "1", "--out", str(tmp_path / "main")]
    borrow = ["--timings-from", str(tmp_path / "tuning")]
    assert main([*args, *borrow, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"rql +2 of 2 +~60 min each \(1 timed\)", printed)
    assert re.search(r"prior +2 of 2 +not timed yet", printed)
    # An hour-long rql cell does not fit in 30 minutes; the untimed prior cells start
    soon = (dt.datetime.now() + dt.timedelta(minutes=30)).strftime("%H:%M")
    assert main([*args, *borrow, "--stop-by", soon]) == 75
    done = sorted(p.name for p in RunStore(tmp_path / "main").cells_dir.glob("*.json"))
    assert done == sorted(f"{c.id}.json" for c in plan_grid(spec) if c.method == "prior")
    assert main([*args, "--timings-from", str(tmp_path / "nowhere"), "--dry-run"]) == 2
    assert "--timings-from " + str(tmp_path / "nowhere") + ": not a run directory" in (
        capsys.readouterr().err
    )


def test_store_refuses_results_of_another_version(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.yaml").write_text(yaml.safe_dump({"store_version": 0}))
    with pytest.raises(
        ValueError, match=f"store version 0; this rqlbench writes version {STORE_VERSION}"
    ):
        RunStore.open(tmp_path / "old", {})


def test_store_refuses_an_unwritable_directory(tmp_path):
    blocker = tmp_path / "a-file"  # a path under a file cannot be written, even by root
    blocker.write_text("")
    with pytest.raises(ValueError, match=r"cannot write results to .*choose another --out"):
        RunStore.open(blocker / "run", {})


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "x.json"
    write_text(target, "whole")
    with pytest.raises(TypeError):
        write_text(target, 1)  # type: ignore[arg-type]
    assert target.read_text() == "whole" and sorted(os.listdir(tmp_path)) == ["x.json"]
    assert target.stat().st_mode & 0o777 == FILE_MODE  # as open() makes it, not mkstemp's 0600


def test_local_pool_matches_in_process_results(tmp_path):
    cells = build_grid(["cartpole"], ["prior", "rql"], ["rl"], seeds=1)
    serial = dict(execute(cells, "smoke", workers=1))
    pooled = dict(execute(cells, "smoke", workers=2))
    for cell in cells:  # same seed, same result, whichever process ran it
        assert pooled[cell]["episodes"] == serial[cell]["episodes"]
        assert pooled[cell]["curve"] == serial[cell]["curve"]


def test_ray_executor_runs_the_same_cells_from_the_source_checkout(monkeypatch, tmp_path):
    pytest.importorskip("ray")
    # Ray's socket paths must stay under 108 bytes: pytest's tmp_path is too deep.
    monkeypatch.setenv("RAY_TMPDIR", tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    priors = tmp_path / "priors" / "cartpole" / "rl"
    priors.mkdir(parents=True)
    shutil.copy(prior_path("cartpole", "rl"), priors / "prior.zip")
    # Started in the checkout, whose rqlbench/ lacks the compiled core and rqlbench.baselines:
    # the workers must still import the installed package, and find a relative --prior-dir.
    monkeypatch.chdir(REPO)
    prior_dir = os.path.relpath(tmp_path / "priors")
    cells = build_grid(["cartpole"], ["prior"], ["rl"], seeds=1)
    serial = dict(execute(cells, "smoke", prior_dir))
    remote = dict(execute(cells, "smoke", prior_dir, executor="ray"))
    assert remote[cells[0]]["episodes"] == serial[cells[0]]["episodes"]


def test_a_cell_records_where_training_left_alpha_hat():
    from rqlbench.runner.cell import run_cell

    prior_cell, rql_cell = build_grid(["mountaincar"], ["prior", "rql"], ["rl"], seeds=1)
    assert run_cell(prior_cell, "smoke")["alpha_hat_final"] is None  # nothing trained
    start = prior_temperature(load_shipped_prior("mountaincar", "rl"))  # α̂ auto starts here
    alpha_hat = run_cell(rql_cell, "smoke")["alpha_hat_final"]
    assert alpha_hat > 0 and alpha_hat != pytest.approx(start, rel=1e-3)


def test_run_benchmark_skips_finished_cells(tmp_path):
    spec = RunSpec(tasks=("cartpole",), preset="smoke", methods=("prior",), priors=("rl",))
    store = run_benchmark(spec, tmp_path / "run", progress=False)
    (path,) = store.cells_dir.glob("*.json")
    before = path.stat().st_mtime_ns
    run_benchmark(spec, tmp_path / "run", progress=False)
    assert path.stat().st_mtime_ns == before
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_benchmark(spec, tmp_path / "run", workers=0)
