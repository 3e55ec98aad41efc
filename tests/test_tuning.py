"""`rqlbench tune`: weights chosen on validation episodes only, by the stated rule, read back."""

import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from rqlbench.cli import main
from rqlbench.runner.grid import (
    EVAL_SEED,
    TUNING_TRAINING_SEED,
    VALIDATION_SEED,
    Cell,
    plan_cell,
    preset_config,
)
from rqlbench.runner.store import RunStore
from rqlbench.runner.tuning import (
    TuningRule,
    check_retune,
    select,
    tuned_methods,
    tuning_settings,
    write_tuned_config,
)
from rqlbench.tasks import get_task, registry

PAPER_EPISODES = 4000  # the most evaluation episodes any preset runs
RESULTS = Path(__file__).resolve().parents[1] / "docs" / "results"


def test_tuning_runs_only_on_validation_episodes_and_writes_its_choice(tmp_path):
    out, tuned = tmp_path / "run", tmp_path / "tuned" / "cartpole.yaml"  # a directory to create
    argv = ["tune", "cartpole", "--preset", "smoke", "--methods", "rql", "--omega", "0.01", "0.1"]
    assert main([*argv, "--out", str(out), "--write-to", str(tuned), "--workers", "1"]) == 0
    records = [json.loads(p.read_text()) for p in (out / "cells").glob("*.json")]
    assert {(r["cell"]["method"], r["cell"]["omega"]) for r in records} == {
        ("prior", None),
        ("rql", 0.01),
        ("rql", 0.1),
    } and len(records) == 6  # both prior kinds
    # Trained with a seed no main run uses (0, 1, ...): the chosen model is never evaluated again.
    assert {r["cell"]["seed"] for r in records} == {TUNING_TRAINING_SEED}
    seeds = {e["seed"] for r in records for e in r["episodes"]}
    assert seeds and min(seeds) >= VALIDATION_SEED
    assert not seeds & set(range(EVAL_SEED, EVAL_SEED + PAPER_EPISODES))
    chosen = yaml.safe_load(tuned.read_text())["methods"]["rql"]
    assert set(chosen["omega"]) == {"rl", "il"}
    assert chosen["validation"]["candidates"] == [0.01, 0.1]
    assert chosen["validation"]["first_env_seed"] == VALIDATION_SEED
    assert chosen["validation"]["first_training_seed"] == TUNING_TRAINING_SEED
    budget = preset_config("cartpole", "smoke", "validation")  # the tuning cells' budget
    assert (chosen["validation"]["steps"], chosen["validation"]["episodes"]) == (
        budget["steps"],
        budget["episodes"],
    )
    # The choice is the rule's on the stored sweep.
    expected = select(RunStore(out), TuningRule())["chosen"]["rql"]
    assert chosen["omega"] == {kind: c["omega"] for kind, c in expected.items()}


def _write_cell(store: RunStore, method: str, omega, success: float, basic: float, addon: float):
    episodes = [
        {"seed": VALIDATION_SEED + i, "success": i < success * 10, "basic_return": basic,
         "addon_return": addon, "metric": addon, "length": 1}
        for i in range(10)
    ]  # fmt: skip
    cell = {"task": "t", "method": method, "prior": "rl", "seed": 0, "omega": omega,
            "simulations": None, "split": "validation"}  # fmt: skip
    name = f"{method}_{omega}.json"
    (store.cells_dir / name).write_text(json.dumps({"cell": cell, "episodes": episodes}))


def test_rule_takes_the_best_addon_among_candidates_that_keep_the_basic_task(tmp_path):
    store = RunStore(tmp_path)
    store.cells_dir.mkdir()
    _write_cell(store, "prior", None, success=0.9, basic=100.0, addon=-5.0)
    _write_cell(store, "rql", 0.01, success=0.5, basic=100.0, addon=-0.1)  # success too low
    _write_cell(store, "rql", 0.03, success=0.9, basic=80.0, addon=-0.5)  # basic too low
    _write_cell(store, "rql", 0.1, success=0.8, basic=91.0, addon=-2.0)  # within both margins
    _write_cell(store, "rql", 0.3, success=1.0, basic=100.0, addon=-4.0)
    chosen = select(store, TuningRule(success_margin=0.1, basic_margin=0.1))["chosen"]
    assert chosen["rql"]["rl"] == {"omega": 0.1, "met_rule": True}
    # No candidate qualifies: the most successful, flagged.
    chosen = select(store, TuningRule(success_margin=0.0, basic_margin=0.0))["chosen"]
    assert chosen["rql"]["rl"] == {"omega": 0.3, "met_rule": True}
    _write_cell(store, "prior", None, success=1.0, basic=200.0, addon=-5.0)
    chosen = select(store, TuningRule(success_margin=0.0, basic_margin=0.0))["chosen"]
    assert chosen["rql"]["rl"] == {"omega": 0.3, "met_rule": False}


def test_a_tuning_run_refuses_cells_evaluated_on_evaluation_episodes(tmp_path):
    store = RunStore(tmp_path)
    store.cells_dir.mkdir()
    _write_cell(store, "prior", None, success=1.0, basic=1.0, addon=0.0)
    path = store.cells_dir / "prior_None.json"
    record = json.loads(path.read_text())
    record["cell"]["split"] = "evaluation"
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="not evaluated on validation episodes"):
        select(store, TuningRule())


def test_tuned_weights_override_the_task_yaml_per_method(tmp_path, monkeypatch):
    tuned = tmp_path / "cartpole.yaml"
    monkeypatch.setattr(registry, "tuned_config_path", lambda name: tuned)
    before = get_task("cartpole").config()["methods"]
    selection = {
        "chosen": {"rql": {"rl": {"omega": 0.1, "met_rule": True},
                           "il": {"omega": 0.03, "met_rule": True}}},
        "prior": {"rl": {}, "il": {}},
        "sweep": {"rql": {}},
    }  # fmt: skip
    write_tuned_config("cartpole", selection, {"rule": "r"}, tuned)
    methods = get_task("cartpole").config()["methods"]
    assert methods["rql"]["omega"] == {"rl": 0.1, "il": 0.03}
    # Methods sharing a YAML alias with rql keep their own value.
    assert methods["greedy"] == before["greedy"]
    # Tuning one prior kind again (--priors rl) keeps the other kind's choice and sweep.
    again = {
        "chosen": {"rql": {"rl": {"omega": 0.3, "met_rule": False}}},
        "prior": {"rl": {"success": 1.0}},
        "sweep": {"rql": {"rl": [{"omega": 0.3}]}},
    }
    write_tuned_config("cartpole", again, {"rule": "r"}, tuned)
    entry = get_task("cartpole").config()["tuned"]["methods"]["rql"]
    assert entry["omega"] == {"rl": 0.3, "il": 0.03}
    assert entry["met_rule"] == {"rl": False, "il": True}
    assert entry["prior"] == {"rl": {"success": 1.0}, "il": {}}
    assert entry["sweep"] == {"rl": [{"omega": 0.3}]}  # il's sweep was empty
    # ... but only if the kept kind was tuned the same way (one entry describes both)
    with pytest.raises(ValueError, match="weight for the il prior was tuned with another rule"):
        write_tuned_config("cartpole", again, {"rule": "other"}, tuned)
    with pytest.raises(ValueError, match="tuned with another rule; tune every prior kind again"):
        check_retune("cartpole", ["prior", "rql"], ["rl"], {"rule": "other"}, tuned)
    check_retune("cartpole", ["prior", "rql"], ["rl", "il"], {"rule": "other"}, tuned)  # all again
    # A single weight written for both kinds by an older rqlbench is kept for the other kind.
    entry = {"omega": 0.01, "met_rule": {"rl": True, "il": True}, "rule": "r"}
    tuned.write_text(yaml.safe_dump({"methods": {"rql": entry}}))
    write_tuned_config("cartpole", again, {"rule": "r"}, tuned)
    assert get_task("cartpole").config()["methods"]["rql"]["omega"] == {"rl": 0.3, "il": 0.01}


def test_full_reward_is_tuned_only_with_the_rl_prior_it_runs_under():
    assert "full-reward" in tuned_methods("cartpole", None, ["rl"])
    assert "full-reward" not in tuned_methods("cartpole", None, ["il"])  # left out, not retuned
    assert "rql" in tuned_methods("cartpole", None, ["il"])
    with pytest.raises(ValueError, match="full-reward runs under the rl prior: tune it with"):
        tuned_methods("cartpole", ["rql", "full-reward"], ["il"])


def test_only_methods_with_a_weight_are_tuned():
    assert tuned_methods("mountaincar", None)[0] == "prior"
    assert "rql-mcts" not in tuned_methods("mountaincar", None)  # no planning model there
    with pytest.raises(ValueError, match="prior has no weight to tune"):
        tuned_methods("cartpole", ["prior"])


@pytest.mark.parametrize(
    "tuning", sorted((RESULTS / "tuning").iterdir()), ids=lambda path: path.name
)
def test_shipped_weights_are_the_rule_applied_to_the_committed_sweep(tuning):
    """The weight each method and prior kind trains at (configs/tuned/TASK.yaml, read as a run
    reads it) is what the task's rule chooses from its committed validation cells, and the
    committed main run (once there) trained every cell at that weight."""
    task = tuning.name
    chosen = select(RunStore(tuning), tuning_settings(task)[1])["chosen"]
    shipped = registry.task_config(task)["tuned"]["methods"]
    trained = defaultdict(set)  # (method, prior kind) → the weights of its main-run cells
    for path in (RESULTS / f"quick-{task}" / "cells").glob("*.json"):
        cell = json.loads(path.read_text())["cell"]
        trained[cell["method"], cell["prior"]].add(cell["omega"])
    assert chosen.keys() == shipped.keys()
    for method, kinds in chosen.items():
        for kind, choice in kinds.items():
            assert plan_cell(Cell(task, method, kind, seed=0), "quick").omega == choice["omega"]
            assert shipped[method]["met_rule"][kind] == choice["met_rule"]
            assert trained[method, kind] <= {choice["omega"]}, (method, kind)
