"""`rqlbench results`: claims judged by their stated rules on run directories built here, the
document regenerating byte for byte, and the committed docs/RESULTS.md matching its evidence."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest

from rqlbench.cli import main
from rqlbench.report import claims
from rqlbench.report.claims import (
    INCONCLUSIVE,
    NO_DATA,
    NOT_REPRODUCED,
    REPRODUCED,
    Estimate,
    Region,
)
from rqlbench.report.evidence import README_MARKERS, find_runs, load_evidence, write_results
from rqlbench.runner.grid import TUNING_TRAINING_SEED
from rqlbench.runner.tuning import TuningRule

REPO = Path(__file__).resolve().parents[1]
EPISODES = 100  # success rates in steps of 0.01
METRICS = {  # task: (metric name, higher is better)
    "cartpole": ("mean |x|", False),
    "highway": ("mean lane / 2", True),
    "parking": ("no-violation rate", True),
    "mountaincar": ("negative actions", False),
    "halfcheetah": ("mean power (W)", False),
}
# (task, method, prior): (success, basic return, metric) at the middle seed; seed k adds
# (k - 2) * NOISE to each, so a row's IQM is these values and its CI spans at most ±2 * NOISE.
NOISE = (0.01, 0.01, 0.0005)
SCENARIO = {
    ("cartpole", "prior", "rl"): (1.0, 426.0, 0.07),
    ("cartpole", "rql", "rl"): (1.0, 424.0, 0.04),
    ("cartpole", "full-reward", "rl"): (1.0, 425.0, 0.0405),  # serves the IL prior too
    ("cartpole", "prior", "il"): (1.0, 414.0, 0.125),
    ("cartpole", "rql", "il"): (1.0, 421.0, 0.041),
    ("highway", "prior", "rl"): (0.90, 30.0, 0.50),
    ("highway", "rql", "rl"): (0.90, 29.5, 0.90),
    ("highway", "rql-mcts", "rl"): (0.88, 29.4, 0.92),
    ("highway", "full-reward", "rl"): (0.90, 30.0, 0.50),  # rql far better: not "≈"
    ("highway", "prior", "il"): (0.85, 29.0, 0.45),
    ("highway", "rql", "il"): (0.80, 28.5, 0.88),
    ("highway", "rql-mcts", "il"): (0.82, 28.6, 0.90),
    ("parking", "prior", "rl"): (0.95, -5.0, 0.60),
    ("parking", "rql", "rl"): (0.93, -5.2, 0.95),
    ("parking", "greedy", "rl"): (0.93, -5.3, 0.70),  # success tied, metric worse: "any" holds
    ("parking", "kl-reward", "rl"): (0.10, -12.0, 0.50),
    ("parking", "full-reward", "rl"): (0.95, -5.0, 0.95),
    ("parking", "prior", "il"): (0.70, -6.0, 0.50),
    ("parking", "rql", "il"): (0.30, -9.0, 0.90),  # success drops 40 points: (b) fails
    ("parking", "greedy", "il"): (0.25, -9.5, 0.60),
    ("parking", "kl-reward", "il"): (0.00, -15.0, 0.40),
    ("mountaincar", "prior", "rl"): (1.0, 94.0, 58.0),
    ("mountaincar", "rql", "rl"): (1.0, 93.0, 10.0),
    ("mountaincar", "prior", "il"): (1.0, 93.0, 53.0),
    ("mountaincar", "rql", "il"): (1.0, 92.5, 20.0),
    ("halfcheetah", "prior", "rl"): (0.9, 4400.0, 2800.0),
    ("halfcheetah", "rql", "rl"): (0.9, 4300.0, 2400.0),
    ("halfcheetah", "prior", "il"): (1.0, 4460.0, 2830.0),
    ("halfcheetah", "rql", "il"): (1.0, 4400.0, 2500.0),
}
EXPECTED = {
    "a": REPRODUCED,
    "b": NOT_REPRODUCED,  # parking IL: success 30 % against the prior's 70 %
    "c": NOT_REPRODUCED,  # highway: rql's lane 0.9 against full-reward's 0.5 is not "≈"
    "d": REPRODUCED,
    "e": REPRODUCED,
    "f": REPRODUCED,
}


def _cell(task, method, prior, seed, values, split="evaluation", omega=0.01, seconds=10.0):
    """A cell record in the runner's format (rqlbench/runner/cell.py)."""
    success, basic, metric = (v + (seed - 2) * n for v, n in zip(values, NOISE, strict=True))
    successes = round(success * EPISODES)
    name, higher = METRICS[task]
    episodes = [
        {"seed": 10_000 + i, "basic_return": basic, "addon_return": -metric, "metric": metric,
         "success": i < successes, "length": 100}
        for i in range(EPISODES)
    ]  # fmt: skip
    return {
        "schema": 1,
        "cell": {"task": task, "method": method, "prior": prior, "seed": seed,
                 "omega": None if method == "prior" else omega, "simulations": None,
                 "split": split},
        "metric_name": name, "metric_higher_is_better": higher, "steps": 1000, "settings": {},
        "simulator": "reference", "episodes": episodes, "curve": [],
        "train_seconds": seconds, "eval_seconds": 2.0, "decision_seconds": None,
    }  # fmt: skip


def _write_run(run_dir, rows, seeds=range(5), config=None, **cell_options):
    """A run directory: config.yaml, environment.json and one cell file per row and seed."""
    (run_dir / "cells").mkdir(parents=True, exist_ok=True)
    config = config or {"store_version": 1, "tasks": ["cartpole"], "preset": "quick"}
    (run_dir / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    environment = {"packages": {"torch": "2.13.0"}, "git": "0123456789abcdef", "python": "3.11",
                   "machine": "Linux-test", "cpus": 2}  # fmt: skip
    (run_dir / "environment.json").write_text(json.dumps(environment))
    for (task, method, prior), values in rows.items():
        for seed in seeds:
            record = _cell(task, method, prior, seed, values, **cell_options)
            name = f"{task}__{method}__{prior}__seed{seed}.json"
            (run_dir / "cells" / name).write_text(json.dumps(record))


def _verdicts(runs: Path) -> dict[str, str]:
    main_cells = load_evidence(runs).cells.query("kind == 'main'")
    return {result.claim.key: result.verdict for result in claims.judge_all(main_cells)}


def _parts(runs: Path, key: str) -> dict[tuple[str, str], str]:
    main_cells = load_evidence(runs).cells.query("kind == 'main'")
    result = next(r for r in claims.judge_all(main_cells) if r.claim.key == key)
    return {(part.task, part.prior): part.verdict for part in result.parts}


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "results"
    _write_run(root / "main", SCENARIO)
    return root


def test_each_claim_gets_the_verdict_its_rule_gives_on_designed_numbers(runs):
    assert _verdicts(runs) == EXPECTED
    assert _parts(runs, "b") == {
        ("cartpole", "rl"): REPRODUCED, ("cartpole", "il"): REPRODUCED,
        ("highway", "rl"): REPRODUCED, ("highway", "il"): REPRODUCED,
        ("parking", "rl"): REPRODUCED, ("parking", "il"): NOT_REPRODUCED,
        ("mountaincar", "rl"): REPRODUCED, ("mountaincar", "il"): REPRODUCED,
        ("halfcheetah", "rl"): REPRODUCED, ("halfcheetah", "il"): REPRODUCED,
    }  # fmt: skip
    # full-reward ran under the RL prior only and is the reference for the IL prior as well
    assert _parts(runs, "c")[("cartpole", "il")] == REPRODUCED


def test_a_claim_in_every_task_cannot_be_reproduced_while_a_task_has_not_run(tmp_path):
    rows = {key: values for key, values in SCENARIO.items() if key[0] != "halfcheetah"}
    _write_run(tmp_path / "r" / "main", rows)
    parts = _parts(tmp_path / "r", "a")
    assert parts[("halfcheetah", "rl")] == parts[("halfcheetah", "il")] == NO_DATA
    assert _verdicts(tmp_path / "r")["a"] == INCONCLUSIVE  # every task that ran: reproduced


def test_fewer_than_five_seeds_is_inconclusive_even_with_a_clear_ci(tmp_path):
    rows = dict(SCENARIO)
    few = {("cartpole", "rql", "rl"): rows.pop(("cartpole", "rql", "rl"))}
    _write_run(tmp_path / "r" / "main", rows)
    _write_run(tmp_path / "r" / "few", few, seeds=range(3))
    assert _parts(tmp_path / "r", "a")[("cartpole", "rl")] == INCONCLUSIVE
    assert _verdicts(tmp_path / "r")["a"] == INCONCLUSIVE
    text = _document(tmp_path / "r", tmp_path / "out")
    assert "| RL | rql | ω' 0.01; 1000 steps | 3 ⚠ |" in text


def test_worse_straddling_and_missing_numbers_turn_the_verdicts(tmp_path):
    rows = dict(SCENARIO)
    rows[("highway", "rql", "rl")] = (0.90, 29.5, 0.30)  # lane worse than the prior's 0.5
    rows[("parking", "greedy", "rl")] = (0.97, -5.0, 0.98)  # greedy better on both
    del rows[("parking", "greedy", "il")]
    for key in [k for k in rows if k[1] == "rql-mcts"]:
        del rows[key]
    del rows[("parking", "kl-reward", "il")]
    _write_run(tmp_path / "r" / "main", rows)
    _write_run(tmp_path / "r" / "kl", {("parking", "kl-reward", "il"): (0.0, -15.0, 0.4)})
    for seed in range(5):  # success 0, 10, ..., 40 % against the prior's 70 %: straddles -50
        path = tmp_path / "r" / "kl" / "cells" / f"parking__kl-reward__il__seed{seed}.json"
        record = json.loads(path.read_text())
        for i, episode in enumerate(record["episodes"]):
            episode["success"] = i < 10 * seed
        path.write_text(json.dumps(record))
    verdicts = _verdicts(tmp_path / "r")
    assert verdicts["a"] == NOT_REPRODUCED
    assert _parts(tmp_path / "r", "e") == {("parking", "rl"): NOT_REPRODUCED,
                                           ("parking", "il"): NO_DATA}  # fmt: skip
    assert verdicts["e"] == NOT_REPRODUCED
    assert verdicts["d"] == NO_DATA
    assert _parts(tmp_path / "r", "f") == {("parking", "rl"): REPRODUCED,
                                           ("parking", "il"): INCONCLUSIVE}  # fmt: skip
    assert verdicts["f"] == INCONCLUSIVE


def test_region_bounds_decide_as_documented():
    better = Region(0.0, math.inf, open=True)
    assert better.verdict(Estimate(0.1, 0.01, 0.2)) == REPRODUCED
    assert better.verdict(Estimate(0.0, 0.0, 0.0)) == NOT_REPRODUCED  # a tie is no improvement
    assert better.verdict(Estimate(0.0, -0.1, 0.1)) == INCONCLUSIVE
    not_worse = Region(-0.1, math.inf, open=False)
    assert not_worse.verdict(Estimate(-0.1, -0.1, -0.1)) == REPRODUCED  # the margin is allowed
    assert not_worse.verdict(Estimate(-0.3, -0.4, -0.2)) == NOT_REPRODUCED
    within = Region(-0.1, 0.1, open=False)
    assert within.verdict(Estimate(0.3, 0.2, 0.4)) == NOT_REPRODUCED  # better is not "≈"
    assert within.verdict(Estimate(0.0, -0.2, 0.2)) == INCONCLUSIVE
    assert within.text() == "|Δ| ≤ 0.1" and better.text() == "Δ > 0"


def test_margins_are_those_rqlbench_tune_uses():
    rule = TuningRule()
    expected = (rule.success_margin, rule.basic_margin)
    assert expected == (claims.SUCCESS_MARGIN, claims.RELATIVE_MARGIN)


def test_validation_cells_and_sweeps_stay_out_of_the_claims(runs, tmp_path):
    bad = {("parking", "rql", "il"): (0.95, -5.0, 0.95)}  # would reproduce (b) if it counted
    _write_run(runs / "tuning" / "parking", bad, split="validation", omega=0.02)
    sweep = {"store_version": 1, "tasks": ["cartpole"], "omegas": [0.1, 1.0]}
    worse = {("cartpole", "rql", "rl"): (1.0, 300.0, 0.3)}  # would break (a) and (b)
    _write_run(runs / "omega-cartpole", worse, config=sweep, omega=1.0)
    assert _verdicts(runs) == EXPECTED
    text = _document(runs, tmp_path / "out")
    assert "| tuning/parking | tuning | 0 | 5 |" in text
    assert "| omega-cartpole | sweep | 5 | 0 |" in text
    assert "### omega-cartpole: cartpole, mean |x| (lower is better)" in text


def test_a_main_cell_whose_model_the_tuning_trained_is_left_out(runs, tmp_path):
    # Tuning trained seed 0 of parking's rql from the IL prior at the main run's weight and steps:
    # the main run's seed 0 is that model, picked for its validation score.
    picked = {("parking", "rql", "il"): (0.3, -9.0, 0.9)}
    _write_run(runs / "tuning" / "parking", picked, seeds=[0], split="validation")
    _write_run(runs / "tuning" / "other", picked, seeds=[1000], split="validation")  # a seed
    _write_run(runs / "tuning" / "other-weight", picked, seeds=[1], split="validation", omega=0.1)
    evidence = load_evidence(runs)
    left_out = evidence.cells.query("kind == 'tuned-model'")
    assert left_out[["run", "method", "prior", "seed"]].values.tolist() == [
        ["main", "rql", "il", 0]
    ]
    assert evidence.runs.set_index("name")["left_out"].to_dict() == {
        "main": 1,
        "tuning/other": 0,
        "tuning/other-weight": 0,
        "tuning/parking": 0,
    }
    # Four seeds are left, so parking's claim (b) from the IL prior is no longer decided.
    assert _parts(runs, "b")[("parking", "il")] == INCONCLUSIVE
    environment = json.loads((runs / "main" / "environment.json").read_text())
    environment["extensions"] = [{"seeds": 6, "git": "fedcba9876543210"}]  # `run --seeds 6`
    (runs / "main" / "environment.json").write_text(json.dumps(environment))
    text = _document(runs, tmp_path / "out")
    assert "| Left out (tuned model) |" in text and "| main | main | 145 | 0 | 1 |" in text
    assert "torch 2.13.0; extended to 6 seeds at git fedcba9876\n" in text


def test_planner_sweeps_show_the_median_planning_time_per_decision(runs, tmp_path):
    budget = {"store_version": 1, "tasks": ["highway"], "simulations": [150]}
    _write_run(runs / "budget", {("highway", "rql-mcts", "rl"): (0.5, 20.0, 0.9)}, config=budget)
    for seed, path in enumerate(sorted((runs / "budget" / "cells").glob("*.json"))):
        record = json.loads(path.read_text())
        record["decision_seconds"] = 0.010 + 0.001 * seed  # 10 to 14 ms: the median is 12
        path.write_text(json.dumps(record))
    section = _document(runs, tmp_path / "out").split("### budget: highway")[1]
    assert "| Planning (ms/decision, median) |" in section
    assert section.split("| RL | rql-mcts |")[1].split("\n")[0].endswith("| 12 |")


def test_tuning_sweeps_are_shown_with_the_weight_the_main_run_used(runs, tmp_path):
    tuning = runs / "tuning" / "parking"
    for omega, values in ((0.002, (0.2, -9.0, 0.9)), (0.01, (0.3, -8.0, 0.7))):
        _write_run(tuning, {("parking", "rql", "il"): values}, seeds=[0], split="validation",
                   omega=omega)  # fmt: skip
        for path in (tuning / "cells").glob("*seed0.json"):  # as tuning trains: seed 1000
            record = json.loads(path.read_text())
            record["cell"]["seed"] = TUNING_TRAINING_SEED
            stem = path.stem.replace("seed0", f"seed{TUNING_TRAINING_SEED}")
            path.with_name(f"{stem}__omega{omega}__validation.json").write_text(json.dumps(record))
            path.unlink()
    text = _document(runs, tmp_path / "out", figures=True)
    section = text.split("## Tuning sweeps (validation episodes)")[1]
    # one seed: the row holds that cell's means (seed 0 shifts each value by -2 * NOISE)
    assert "| IL | rql | 0.002 | 100 | 18.00 | -9.02 | 89.90 | -0.899 |" in section
    assert "| IL | rql | **0.01** | 100 | 28.00 | -8.02 | 69.90 | -0.699 |" in section
    assert "![parking: the tuning sweeps](figures/tuning-parking.png)" in section
    assert (tmp_path / "out" / "figures" / "tuning-parking.png").stat().st_size > 0
    assert _verdicts(runs) == EXPECTED  # validation cells stay out of the claims


def _document(runs: Path, out_dir: Path, figures: bool = False) -> str:
    """The document's text; its figures are drawn only when asked (most of the time it takes,
    and the text never depends on them: it links the figures directory)."""
    no_figures = patch("rqlbench.report.evidence.write_figures", lambda *_: [])
    with contextlib.nullcontext() if figures else no_figures:
        paths = write_results(runs, out_dir / "RESULTS.md")
    return paths[0].read_text(encoding="utf-8")


def test_document_numbers_come_from_the_cells(runs, tmp_path):
    text = _document(runs, tmp_path / "out", figures=True)
    # parking, IL prior, rql: success 29, 30, 31 % over the middle seeds -> IQM 30 %
    assert "| IL | rql | ω' 0.01; 1000 steps | 5 | 100 | 30.0 [" in text
    assert (
        "| (b) | Their basic-task performance stays at the prior's level | **not reproduced** |"
        in text
    )
    assert "| parking | prior | 10 | 12.0 s | 2.0 min |" in text  # 10 s training + 2 s eval
    assert "![parking: per-seed values, IQM and 95 % CI](figures/evidence-parking.png)" in text
    assert (tmp_path / "out" / "figures" / "evidence-parking.png").stat().st_size > 0


def test_regenerating_gives_identical_bytes_wherever_the_files_are(runs, tmp_path):
    first = _document(runs, tmp_path / "one")
    moved = tmp_path / "elsewhere" / "results"
    shutil.copytree(runs, moved)
    assert _document(moved, tmp_path / "two") == first
    assert _document(runs, tmp_path / "one") == first
    assert str(tmp_path) not in first


def test_duplicate_main_cells_are_refused_naming_both(runs):
    _write_run(runs / "again", {("cartpole", "rql", "rl"): SCENARIO[("cartpole", "rql", "rl")]})
    with pytest.raises(ValueError, match=r"again/cells/cartpole__rql__rl__seed0\.json"):
        load_evidence(runs)


def test_no_runs_give_a_no_results_document_with_every_rule(tmp_path):
    (tmp_path / "results").mkdir()
    text = _document(tmp_path / "results", tmp_path / "out")
    assert "**No results yet:**" in text
    for claim in claims.CLAIMS:
        assert f"| ({claim.key}) | {claim.statement} | **no data** |" in text
        assert claims.rule_text(claim) in text


def test_cli_results_writes_the_document_without_torch_or_envs(runs, tmp_path):
    out = tmp_path / "doc" / "RESULTS.md"
    start, end = README_MARKERS
    (tmp_path / "README.md").write_text(f"intro\n{start}\nold\n{end}\nend\n")
    heavy = ("torch", "stable_baselines3", "gymnasium", "highway_env", "imitation")
    code = (
        "import sys\nfrom rqlbench.cli import main\n"
        f"assert main(['results', '--runs', {str(runs)!r}, '--out', {str(out)!r}]) == 0\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert out.read_text(encoding="utf-8").startswith("# Results")
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")  # the default --readme
    assert readme.startswith("intro\n") and readme.endswith(f"{README_MARKERS[1]}\nend\n")
    assert "old" not in readme and "[doc/RESULTS.md](doc/RESULTS.md)" in readme


def test_cli_refuses_a_missing_runs_directory(tmp_path, capsys):
    assert main(["results", "--runs", str(tmp_path / "nope"), "--out", str(tmp_path / "R.md")]) == 2
    assert "is not a directory: pass --runs DIR" in capsys.readouterr().err


def test_committed_results_md_regenerates_byte_for_byte(tmp_path):
    runs, committed = REPO / "docs" / "results", REPO / "docs" / "RESULTS.md"
    readme = tmp_path / "README.md"
    shutil.copy(REPO / "README.md", readme)
    regenerated = write_results(runs, tmp_path / "docs" / "RESULTS.md", readme=readme)[0]
    assert regenerated.read_bytes() == committed.read_bytes(), (
        "docs/RESULTS.md does not match docs/results/: regenerate it with `rqlbench results`"
    )
    if not find_runs(runs):
        assert "**No results yet:**" in committed.read_text(encoding="utf-8")
    generated = readme.read_text(encoding="utf-8").split(README_MARKERS[0])[1]
    committed_block = (REPO / "README.md").read_text(encoding="utf-8").split(README_MARKERS[0])[1]
    assert generated == committed_block, "README's results block is stale: run `rqlbench results`"
