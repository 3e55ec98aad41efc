"""docs/RESULTS.md from the committed run directories: main table, claims, sweeps, runtime.

``write_results(runs, out)`` reads every run directory under `runs` (a directory holding
config.yaml and cells/), keeps the evaluation cells (validation cells are tuning's and are
skipped) and writes the Markdown document and one figure per task. A run that fixes no ω' and no
MCTS budget in its config.yaml ran every method at its default (tuned) setting: a **main** run,
whose cells feed the main table, the claims and the runtime table. A run that sets ω' or budgets
is a **sweep**, shown in its own tables. Everything is sorted and every bootstrap seeded, and the
document holds no date or absolute path, so regenerating gives the same bytes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
import yaml
from matplotlib.figure import Figure

from rqlbench.files import write_atomic, write_text
from rqlbench.report import claims
from rqlbench.report.claims import MEASURES, MIN_SEEDS, ClaimResult, Estimate
from rqlbench.report.output import MISSING, markdown_table, number, plain
from rqlbench.report.results import is_rate_metric, ordered
from rqlbench.results_format import STORE_VERSION

COMMAND = "rqlbench results --runs docs/results --out docs/RESULTS.md"
NOTES = "NOTES.md"  # hand-written discussion in the runs directory, included verbatim
FIGURE_PREFIX = "evidence-"
TUNING_PREFIX = "tuning-"
COLUMNS = ("success", "basic_return", "metric", "addon_return")  # per-seed means of episodes
PRIOR_COLORS = {"RL prior": "#4c72b0", "IL prior": "#dd8452"}
README_MARKERS = ("<!-- results:start -->", "<!-- results:end -->")  # the headline in README.md


@dataclass(frozen=True)
class Evidence:
    """The runs found and their evaluation cells, one row per cell (= one seed of a setting)."""

    runs: pd.DataFrame  # name, kind, cells, skipped, config, environment
    cells: pd.DataFrame  # run, kind, cell keys, per-seed means (COLUMNS), timings, metric info
    validation: pd.DataFrame  # the tuning sweeps' cells (validation episodes), same columns


def find_runs(root: Path) -> list[Path]:
    """Run directories under `root` (config.yaml beside cells/), sorted by relative path."""
    if not root.is_dir():
        raise ValueError(
            f"{root} is not a directory: pass --runs DIR holding run directories (the committed "
            "evidence is docs/results)"
        )
    found = [path.parent for path in root.rglob("config.yaml") if (path.parent / "cells").is_dir()]
    return sorted(found, key=lambda run: run.relative_to(root).as_posix())


def load_evidence(root: Path) -> Evidence:
    """Every run under `root` and its evaluation cells (main runs checked for duplicate cells)."""
    runs, cells, validation = [], [], []
    for run in find_runs(root):
        name = run.relative_to(root).as_posix()
        config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8")) or {}
        records = [_read_cell(path) for path in sorted((run / "cells").glob("*.json"))]
        kept = [r for r in records if _split(r) == "evaluation"]
        kind = _run_kind(config, kept)
        runs.append({
            "name": name, "kind": kind, "cells": len(kept), "skipped": len(records) - len(kept),
            "config": _config_text(config), **_environment(run),
            "left_out": 0,  # counted below, once the tuning cells are known
        })  # fmt: skip
        cells += [_cell_row(record, name, kind) for record in kept]
        validation += [_cell_row(r, name, "tuning") for r in records if _split(r) == "validation"]
    frame = pd.DataFrame(cells, columns=CELL_COLUMNS)
    _check_duplicates(frame[frame["kind"] == "main"])
    tuning = ordered(pd.DataFrame(validation, columns=CELL_COLUMNS))
    frame = _mark_tuned_models(frame, tuning)
    table = pd.DataFrame(runs, columns=RUN_COLUMNS)
    left_out = frame[frame["kind"] == TUNED_MODEL].groupby("run").size()
    table["left_out"] = table["name"].map(left_out).fillna(0).astype(int)
    return Evidence(table, ordered(frame), tuning)


RUN_COLUMNS = [
    "name", "kind", "cells", "skipped", "config", "machine", "git", "environment", "left_out"
]  # fmt: skip
TUNED_MODEL = "tuned-model"
MODEL_KEYS = ["task", "method", "prior", "seed", "omega", "steps"]  # what fixes a trained model


def _mark_tuned_models(cells: pd.DataFrame, tuning: pd.DataFrame) -> pd.DataFrame:
    """Main-run cells whose model a tuning cell trained become kind TUNED_MODEL.

    Same task, method, prior kind, training seed, weight and steps is the same model: its weight
    was chosen on that very model's validation score, so its evaluation carries the selection's
    luck (a winner's curse). Left out of the main table, the claims and the plots.
    """
    trained = tuning[tuning["steps"].fillna(0) > 0]
    tuned = set(_model_keys(trained))
    hit = (cells["kind"] == "main") & pd.Series(
        [key in tuned for key in _model_keys(cells)], index=cells.index, dtype=bool
    )
    return cells.assign(kind=cells["kind"].where(~hit, TUNED_MODEL))


def _model_keys(cells: pd.DataFrame) -> list[tuple]:
    keys = (
        cells[MODEL_KEYS]
        .astype({"seed": int})
        .assign(
            omega=cells["omega"].astype(float).fillna(-1.0),
            steps=cells["steps"].fillna(0).astype(int),
        )
    )
    return list(keys.itertuples(index=False, name=None))


CELL_COLUMNS = [
    "run", "file", "kind", "task", "method", "prior", "seed", "omega", "simulations", "steps",
    "episodes", *COLUMNS, "metric_name", "metric_higher_is_better", "train_seconds",
    "eval_seconds", "decision_seconds",
]  # fmt: skip


def _read_cell(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read cell file {path}: {error}; delete it and re-run") from error
    if not isinstance(record, dict) or record.get("schema") != STORE_VERSION:
        raise ValueError(
            f"{path} is not a result cell of schema {STORE_VERSION}: remove it from the runs "
            "directory or regenerate it with this rqlbench"
        )
    missing = [key for key in ("cell", "metric_name", "episodes") if not record.get(key)]
    if missing:
        raise ValueError(f"cell file {path} lacks {', '.join(missing)}: delete it and re-run")
    return {**record, "file": path.name}


def _split(record: dict[str, Any]) -> str:
    return record["cell"].get("split", "evaluation")


def _run_kind(config: dict[str, Any], kept: list[dict[str, Any]]) -> str:
    if not kept:
        return "tuning"  # validation cells only: nothing here is evidence
    return "sweep" if config.get("omegas") or config.get("simulations") else "main"


def _cell_row(record: dict[str, Any], run: str, kind: str) -> dict[str, Any]:
    cell, episodes = record["cell"], record["episodes"]
    simulations = cell.get("simulations") or (record.get("settings") or {}).get("num_simulations")
    means = {column: float(np.mean([float(e[column]) for e in episodes])) for column in COLUMNS}
    return {
        "run": run, "file": record["file"], "kind": kind,
        **{key: cell[key] for key in ("task", "method", "prior", "seed")},
        "omega": cell.get("omega"), "simulations": simulations, "steps": record.get("steps"),
        "episodes": len(episodes), **means, "metric_name": record["metric_name"],
        "metric_higher_is_better": bool(record.get("metric_higher_is_better", True)),
        "train_seconds": record.get("train_seconds"), "eval_seconds": record.get("eval_seconds"),
        "decision_seconds": record.get("decision_seconds"),
    }  # fmt: skip


def _check_duplicates(main: pd.DataFrame) -> None:
    keys = ["task", "method", "prior", "seed"]
    twice = main[main.duplicated(keys, keep=False)]
    if not twice.empty:
        places = ", ".join(sorted(f"{r.run}/cells/{r.file}" for r in twice.itertuples()))
        raise ValueError(
            f"main runs hold the same task, method, prior kind and seed more than once: "
            f"{places}; keep one (move the other run out of the runs directory)"
        )


def _config_text(config: dict[str, Any]) -> str:
    shown = {k: v for k, v in config.items() if v is not None and k != "store_version"}
    return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in shown.items())  # fmt: skip


def _environment(run: Path) -> dict[str, str]:
    """The run's machine, the commit it started at, and the whole record as text."""
    path = run / "environment.json"
    if not path.is_file():
        return {"machine": "an unrecorded machine", "git": MISSING, "environment": MISSING}
    env = json.loads(path.read_text(encoding="utf-8"))
    packages = ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items() if v)
    git = (env.get("git") or MISSING)[:10]
    machine = f"{env.get('machine')}, {env.get('cpus')} CPUs, Python {env.get('python')}"
    extended = "".join(
        f"; extended to {e.get('seeds')} seeds at git {(e.get('git') or MISSING)[:10]}"
        for e in env.get("extensions") or []
    )
    return {
        "machine": machine,
        "git": git,
        "environment": f"{machine}, git {git}; {packages}{extended}",
    }


# --- the document -------------------------------------------------------------------------


def write_results(
    runs: Path, out: Path, figures: Path | None = None, readme: Path | None = None
) -> list[Path]:
    """Writes the results document and its figures (default OUT_DIR/figures); returns them.

    With `readme`, also rewrites its headline block (between README_MARKERS).
    """
    evidence = load_evidence(runs)
    figures = figures or out.parent / "figures"
    out.parent.mkdir(parents=True, exist_ok=True)
    main = evidence.cells[evidence.cells["kind"] == "main"]
    figure_paths = write_figures(main, evidence.validation, figures)
    link = Path(os.path.relpath(figures, out.parent)).as_posix()
    notes = runs / NOTES
    verdicts = claims.judge_all(main)
    text = results_markdown(
        evidence, verdicts, link, notes.read_text("utf-8") if notes.is_file() else ""
    )
    if readme is not None:
        document = Path(os.path.relpath(out, readme.parent)).as_posix()
        write_text(readme, with_block(readme, headline(evidence, verdicts, document)))
    return [write_text(out, text), *figure_paths]


def headline(evidence: Evidence, verdicts: list[ClaimResult], document: str) -> str:
    """README's results block: the claims' verdicts and the main table, from the same cells."""
    main = evidence.cells[evidence.cells["kind"] == "main"]
    summary = pd.DataFrame({
        "Claim": [f"({r.claim.key}) {r.claim.statement}" for r in verdicts],
        "Verdict": [f"**{r.verdict}**" for r in verdicts],
    })  # fmt: skip
    text = (
        f"Generated by `rqlbench results` from `docs/results/` (rules, CIs, sweeps, runtimes and "
        f"discussion: [{document}]({document})).\n\n" + markdown_table(summary)
    )
    for task, rows in main.groupby("task", sort=False):
        text += f"\n**{task}**: {_metric_title(rows)}; IQM over seeds [95 % CI]\n\n"
        text += markdown_table(summary_table(rows, ["prior", "method"]))
    return text


def with_block(readme: Path, block: str) -> str:
    """README's text with the block between README_MARKERS replaced by `block`."""
    if not readme.is_file():
        raise ValueError(f"{readme} not found: run from the repository root or pass --readme none")
    text = readme.read_text(encoding="utf-8")
    start, end = README_MARKERS
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(
            f"{readme} needs one {start} and one {end} line around the results block: add "
            "them where the headline should go, or pass --readme none"
        )
    head, rest = text.split(start)
    return f"{head}{start}\n{block}{end}{rest.split(end)[1]}"


def results_markdown(
    evidence: Evidence, verdicts: list[ClaimResult], figures: str, notes: str = ""
) -> str:
    """The whole document: method, claims, main table, sweeps, tuning, runtime, runs."""
    main = evidence.cells[evidence.cells["kind"] == "main"]
    sections = [_header(evidence), _claims_section(verdicts)]
    if not main.empty:
        sections.append(_main_section(main, figures))
    if notes:
        sections.append(f"## Discussion (hand-written: docs/results/{NOTES})\n\n{notes.strip()}\n")
    sweeps = evidence.cells[evidence.cells["kind"] == "sweep"]
    if not sweeps.empty:
        sections.append(_sweep_section(sweeps))
    if not evidence.validation.empty:
        sections.append(_tuning_section(evidence.validation, main, figures))
    if not main.empty:
        ran = evidence.cells[evidence.cells["kind"].isin(["main", TUNED_MODEL])]
        sections.append(_runtime_section(ran, evidence.runs))
    sections.append(_runs_section(evidence.runs))
    return "\n".join(sections)


def _header(evidence: Evidence) -> str:
    text = (
        "# Results: the paper's claims against our runs\n\n"
        "Generated from the run directories under `docs/results/` (every number comes from "
        "their cell files); do not edit, regenerate from the repository root with\n\n"
        f"```bash\n{COMMAND}\n```\n\n"
    )
    if evidence.cells.empty:
        return text + (
            "**No results yet:** `docs/results/` holds no run directory with evaluation cells. "
            "Commit run directories there (`config.yaml`, `environment.json`, `cells/*.json`) and "
            "regenerate. The claims below are judged by the stated rules once there are cells.\n"
        )
    return text + (
        "How the numbers are made:\n\n"
        "- A cell is one seed of one task × method × prior kind; its value of a measure is the "
        "mean over its evaluation episodes. Only evaluation cells count: cells evaluated on "
        "the validation episodes (`rqlbench tune`) are skipped.\n"
        "- Every cell of a task is evaluated on the same episodes (env seeds from 10000), so "
        "methods are compared on common episodes; the seed changes training and search. A "
        "deterministic prior repeats one value over its seeds (a CI of zero width): its "
        "uncertainty is the episodes', which the comparison shares.\n"
        "- Per row, the IQM over seeds with a 95 % stratified-bootstrap percentile CI "
        f"({claims.BOOTSTRAP_REPS} replicates, generator seed {claims.BOOTSTRAP_SEED}; rliable's "
        "estimators, `rqlbench/report/bootstrap.py`). With fewer than 4 seeds the IQM is the "
        "mean.\n"
        "- Main runs (no ω' or MCTS budget fixed on the command line: every method at its "
        "default, tuned setting) feed the main table, the claims and the runtime table; sweeps "
        "have their own tables.\n"
        "- A main-run cell whose model a tuning cell trained (same task, method, prior kind, "
        "training seed, weight and steps) is left out of the tables, claims and plots: its "
        "weight was chosen on that model's validation score, so its evaluation would carry the "
        "selection's luck. `rqlbench tune` trains from seed 1000; tunings made before it did "
        "trained seed 0 and so repeat the main runs' seed 0. The runs table counts them.\n"
        f"- ⚠ marks rows with fewer than {MIN_SEEDS} seeds; a claim needs {MIN_SEEDS} per side.\n"
    )


def _claims_section(verdicts: list[ClaimResult]) -> str:
    summary = pd.DataFrame({
        "Claim": [f"({r.claim.key})" for r in verdicts],
        "Statement": [r.claim.statement for r in verdicts],
        "Verdict": [f"**{r.verdict}**" for r in verdicts],
    })  # fmt: skip
    text = "## The paper's claims\n\n" + markdown_table(summary) + "\n" + _rules_preamble() + "\n"
    return text + "\n".join(_claim_detail(result) for result in verdicts)


def _rules_preamble() -> str:
    return (
        "Decision rules (written once in `rqlbench/report/claims.py`, never tuned to the "
        "paper): per task, prior kind and measure, Δ = IQM(X) − IQM(Y) over seeds, signed so "
        "that Δ > 0 means X is better in the measure's direction, with its 95 % "
        "stratified-bootstrap CI (X's and Y's seeds redrawn independently). The claim names a "
        "region for Δ: **reproduced** when the whole CI lies in it, **not reproduced** when the "
        "whole CI lies outside it on one side, **inconclusive** when the CI straddles a "
        f"boundary or a side has fewer than {MIN_SEEDS} seeds, **no data** when a side has no "
        "cell. The margin m is "
        f"{100 * claims.SUCCESS_MARGIN:g} points for success rates and rate metrics and "
        f"{100 * claims.RELATIVE_MARGIN:g} % of Y's |IQM| for returns and other metrics "
        "(the margins `rqlbench tune` uses). A task's measures combine as the claim says; "
        "tasks combine as: any part not reproduced → not reproduced, all reproduced → "
        "reproduced, no part with data → no data, otherwise inconclusive (a part without data "
        "counts as inconclusive). P(X better) is "
        "rliable's probability of improvement over seeds, shown, not used.\n"
    )


def _claim_detail(result: ClaimResult) -> str:
    claim = result.claim
    head = f"### ({claim.key}) {claim.statement}: **{result.verdict}**\n\n"
    head += f"Rule: {claims.rule_text(claim)}\n\n"
    if not result.parts:
        return head + f"No task has cells of {claim.method} or {claim.reference}.\n"
    rows = []
    for part in result.parts:
        for i, m in enumerate(part.measures):
            rows.append(_measure_row(part.task, part.prior, m, part.verdict if i == 0 else ""))
    return head + markdown_table(pd.DataFrame(rows))


def _measure_row(task: str, prior: str, m: claims.MeasureResult, part_verdict: str) -> dict:
    rate = m.measure == "success" or (m.measure == "metric" and m.rate_metric)
    scale = 100.0 if rate else 1.0
    return {
        "Task": task, "Prior": prior.upper(), "Measure": _measure_name(m, rate),
        "Seeds X / Y": f"{m.seeds[0]} / {m.seeds[1]}", "X: IQM [CI]": _ci(m.x, scale),
        "Y: IQM [CI]": _ci(m.y, scale), "Δ [CI]": _ci(m.delta, scale),
        "Claimed region": m.region.text(scale) if m.region else MISSING,
        "P(X better) [CI]": _ci(m.p_better, 1.0), "Verdict": m.verdict,
        "Task verdict": f"**{part_verdict}**" if part_verdict else "",
    }  # fmt: skip


def _measure_name(m: claims.MeasureResult, rate: bool) -> str:
    name = m.metric_name if m.measure == "metric" else MEASURES[m.measure]
    return f"{name} (%)" if rate else name


def _ci(estimate: Estimate | None, scale: float) -> str:
    if estimate is None:
        return MISSING
    values = [scale * v for v in (estimate.value, estimate.low, estimate.high)]
    text = [f"{v:.1f}" for v in values] if scale != 1.0 else [number(v) for v in values]
    return f"{text[0]} [{text[1]}, {text[2]}]"


def _main_section(main: pd.DataFrame, figures: str) -> str:
    text = (
        "## Main table\n\nIQM over seeds [95 % CI] of each seed's mean over its evaluation "
        "episodes; the prior's row leads each prior kind.\n\n"
    )
    for task, rows in main.groupby("task", sort=False):
        text += f"### {task}: {_metric_title(rows)}\n\n"
        text += markdown_table(summary_table(rows, ["prior", "method"]))
        text += f"\n![{task}: per-seed values, IQM and 95 % CI]({figures}/{_figure_name(task)})\n\n"
    return text


def _metric_title(rows: pd.DataFrame) -> str:
    direction = "higher" if rows["metric_higher_is_better"].iloc[0] else "lower"
    return f"{rows['metric_name'].iloc[0]} ({direction} is better)"


def _metric_column(metric_name: str) -> tuple[str, float]:
    """The task metric's column title and display scale (rate metrics as percentages)."""
    return (f"{metric_name} (%)", 100.0) if is_rate_metric(metric_name) else (metric_name, 1.0)


def summary_table(cells: pd.DataFrame, keys: list[str], planning: bool = False) -> pd.DataFrame:
    """One row per group of `keys`: seeds, setting and IQM [CI] of every measure; with
    `planning`, also the median planning time per decision (planners' cells)."""
    metric, scale = _metric_column(cells["metric_name"].iloc[0])
    rows = []
    for _, group in cells.groupby(keys, sort=False, dropna=False):
        seeds = len(group)
        rows.append({
            "Prior": group["prior"].iloc[0].upper(), "Method": group["method"].iloc[0],
            "Setting": _setting(group),
            "Seeds": f"{seeds} ⚠" if seeds < MIN_SEEDS else str(seeds),
            "Episodes/seed": _values(group["episodes"]),
            "Success (%)": _ci(claims.iqm_estimate(group["success"].to_numpy()), 100.0),
            "Basic return": _ci(claims.iqm_estimate(group["basic_return"].to_numpy()), 1.0),
            metric: _ci(claims.iqm_estimate(group["metric"].to_numpy()), scale),
            "Add-on return": _ci(claims.iqm_estimate(group["addon_return"].to_numpy()), 1.0),
        })  # fmt: skip
        if planning:
            times = group["decision_seconds"].dropna()
            median = round(1e3 * times.median(), 1) if len(times) else None
            rows[-1]["Planning (ms/decision, median)"] = plain(median)
    return pd.DataFrame(rows)


def _setting(group: pd.DataFrame) -> str:
    parts = []
    if group["omega"].notna().any():
        parts.append(f"ω' {_values(group['omega'])}")
    if (group["steps"].fillna(0) > 0).any():
        parts.append(f"{_values(group['steps'])} steps")
    if group["simulations"].notna().any():
        parts.append(f"{_values(group['simulations'])} simulations")
    return "; ".join(parts) or MISSING


def _values(column: pd.Series) -> str:
    return ", ".join(plain(float(v)) for v in sorted(column.dropna().unique()))


def _sweep_section(sweeps: pd.DataFrame) -> str:
    text = "## Sweeps\n\nOne table per sweep run and task, one row per setting (IQM [95 % CI]).\n\n"
    keys = ["prior", "method", "omega", "simulations"]
    for (run, task), rows in sweeps.groupby(["run", "task"], sort=False):
        table = summary_table(rows, keys, planning=rows["decision_seconds"].notna().any())
        text += f"### {run}: {task}, {_metric_title(rows)}\n\n{markdown_table(table)}\n"
    return text


def _tuning_section(validation: pd.DataFrame, main: pd.DataFrame, figures: str) -> str:
    text = (
        "## Tuning sweeps (validation episodes)\n\n"
        "`rqlbench tune TASK` ran every method at each candidate weight on the validation "
        "episodes (env seeds from 20000, disjoint from the evaluation seeds) and chose by the "
        "rule in `rqlbench/tasks/configs/tuned/TASK.yaml`; **bold** marks the weight the main "
        "run used. The figure is the ω' trade-off: basic against add-on return along each "
        "method's sweep (bigger dots for bigger ω'), the prior as a star, the chosen weight "
        "ringed.\n\n"
    )
    for task, rows in validation.groupby("task", sort=False):
        chosen = _chosen_weights(main[main["task"] == task])
        table = pd.DataFrame([_tuning_row(row, chosen) for row in rows.itertuples()])
        text += f"### {task}: {_metric_title(rows)}\n\n"
        text += f"![{task}: the tuning sweeps]({figures}/{_figure_name(task, TUNING_PREFIX)})\n\n"
        text += f"<details><summary>{len(rows)} validation cells</summary>\n\n"
        text += markdown_table(table) + "\n</details>\n\n"
    return text


def _chosen_weights(main: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(method, prior) → the ω' its main-run cells used."""
    return {(r.method, r.prior): r.omega for r in main.itertuples() if pd.notna(r.omega)}


def _tuning_row(row: Any, chosen: dict[tuple[str, str], float]) -> dict[str, str]:
    metric, scale = _metric_column(row.metric_name)
    weight = MISSING if pd.isna(row.omega) else plain(float(row.omega))
    if chosen.get((row.method, row.prior)) == row.omega:
        weight = f"**{weight}**"
    return {
        "Prior": row.prior.upper(), "Method": row.method, "ω'": weight,
        "Episodes": str(row.episodes), "Success (%)": number(100 * row.success),
        "Basic return": number(row.basic_return),
        metric: number(row.metric * scale),
        "Add-on return": number(row.addon_return),
    }  # fmt: skip


def _runtime_section(main: pd.DataFrame, runs: pd.DataFrame) -> str:
    seconds = main.assign(wall=main["train_seconds"] + main["eval_seconds"])
    rows = []
    for task, task_rows in seconds.groupby("task", sort=False):
        for method, cells in task_rows.groupby("method", sort=False):
            rows.append(_runtime_row(task, method, cells["wall"]))
        rows.append(_runtime_row(task, "**all methods**", task_rows["wall"]))
    rows.append(_runtime_row("**all tasks**", "", seconds["wall"]))
    ran = runs[runs["name"].isin(main["run"].unique())]
    where = "; ".join(
        f"{machine} (runs started at git {', '.join(sorted(set(rows['git'])))})"
        for machine, rows in ran.groupby("machine", sort=False)
    )
    return (
        "## Runtime\n\nWall time per cell (training + evaluation) of the main runs, on "
        f"{where}; each run's `environment.json` records its environment and extensions.\n\n"
        + markdown_table(pd.DataFrame(rows))
        + "\n"
    )


def _runtime_row(task: str, method: str, wall: pd.Series) -> dict[str, str]:
    return {
        "Task": task, "Method": method, "Cells": str(len(wall)),
        "Median per cell": duration(wall.median()), "Total": duration(wall.sum(min_count=1)),
    }  # fmt: skip


def duration(seconds: float) -> str:
    """Seconds as '12.3 s', '4.5 min' or '1.25 h'."""
    if pd.isna(seconds):
        return MISSING
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


def _runs_section(runs: pd.DataFrame) -> str:
    if runs.empty:
        return "## Runs\n\nNone yet.\n"
    table = pd.DataFrame({
        "Run (under docs/results)": runs["name"], "Kind": runs["kind"],
        "Evaluation cells": runs["cells"].map(str), "Validation cells (skipped)":
        runs["skipped"].map(str), "Left out (tuned model)": runs["left_out"].map(str),
        "Config": runs["config"],
    })  # fmt: skip
    machines = "".join(f"- `{r.name}`: {r.environment}\n" for r in runs.itertuples())
    return "## Runs\n\n" + markdown_table(table) + "\nEnvironments:\n\n" + machines


# --- figures ------------------------------------------------------------------------------


def _figure_name(task: str, prefix: str = FIGURE_PREFIX) -> str:
    return f"{prefix}{task}.png"


def write_figures(main: pd.DataFrame, validation: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per task: the main results (seeds, IQM, CI) and the tuning trade-off; stale removed."""
    if not (main.empty and validation.empty):
        out_dir.mkdir(parents=True, exist_ok=True)
    paths = [_task_figure(task, rows, out_dir) for task, rows in main.groupby("task", sort=False)]
    for task, rows in validation.groupby("task", sort=False):
        paths.append(_tuning_figure(task, rows, main[main["task"] == task], out_dir))
    for prefix in (FIGURE_PREFIX, TUNING_PREFIX):
        for stale in set(out_dir.glob(f"{prefix}*.png")) - set(paths):
            stale.unlink()
    return paths


def _task_figure(task: str, rows: pd.DataFrame, out_dir: Path) -> Path:
    metric, scale = _metric_column(rows["metric_name"].iloc[0])
    data = rows.assign(**{"Prior kind": rows["prior"].str.upper() + " prior"})
    data = data.assign(success=100 * data["success"], metric=data["metric"] * scale)
    panels = {"success": "Success rate (%)", "basic_return": "Basic return", "metric": metric}
    two = data["Prior kind"].nunique() > 1
    fig = Figure(figsize=(15, 4.5), layout="constrained")
    for i, (ax, (column, label)) in enumerate(zip(fig.subplots(1, 3), panels.items(), strict=True)):
        common = {
            "data": data,
            "x": "method",
            "y": column,
            "hue": "Prior kind",
            "palette": PRIOR_COLORS,
            "order": list(data["method"].unique()),
            "ax": ax,
        }
        sns.stripplot(**common, dodge=two, alpha=0.35, jitter=0.08, legend=False)
        sns.pointplot(**common, estimator=_iqm, errorbar=_iqm_ci, dodge=0.4 if two else False,
                      linestyle="none", capsize=0.1, legend=i == 2)  # fmt: skip
        ax.set(xlabel="Method", ylabel=label, title=label)
        ax.tick_params(axis="x", labelrotation=30)
    fig.suptitle(f"{task}: per-seed values (dots), IQM and 95 % stratified-bootstrap CI")
    return _save(fig, out_dir / _figure_name(task))


def _tuning_figure(task: str, rows: pd.DataFrame, main: pd.DataFrame, out_dir: Path) -> Path:
    kinds = list(rows["prior"].unique())
    fig = Figure(figsize=(6 * len(kinds) + 1.5, 5), layout="constrained")
    chosen = _chosen_weights(main)
    methods = [m for m in rows["method"].unique() if m != "prior"]
    weights = sorted(rows["omega"].dropna().unique())
    step = 105 / max(len(weights) - 1, 1)  # dot areas 15 to 120, growing with ω'
    sizes = {plain(float(w)): 15 + step * i for i, w in enumerate(weights)}
    legend: dict[str, Any] = {}
    for ax, kind in zip(fig.subplots(1, len(kinds), squeeze=False)[0], kinds, strict=True):
        data = rows[rows["prior"] == kind]
        sweeps = data[data["method"] != "prior"].sort_values("omega")
        sweeps = sweeps.assign(**{"ω'": sweeps["omega"].map(lambda w: plain(float(w)))})
        common = {"data": sweeps, "x": "addon_return", "y": "basic_return", "hue": "method",
                  "hue_order": methods, "ax": ax}  # fmt: skip
        sns.lineplot(**common, sort=False, legend=False, estimator=None)
        sns.scatterplot(**common, size="ω'", sizes=sizes, size_order=list(sizes))
        prior = data[data["method"] == "prior"]
        ax.scatter(prior["addon_return"], prior["basic_return"], marker="*", s=300, c="black",
                   label="prior", zorder=3)  # fmt: skip
        is_chosen = [chosen.get((r.method, kind)) == r.omega for r in sweeps.itertuples()]
        ax.scatter(sweeps[is_chosen]["addon_return"], sweeps[is_chosen]["basic_return"], s=250,
                   facecolors="none", edgecolors="black", label="chosen", zorder=3)  # fmt: skip
        ax.set(xlabel="Add-on return", ylabel="Basic return", title=f"{kind.upper()} prior")
        legend |= dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
        ax.get_legend().remove()
    fig.legend(legend.values(), legend.keys(), loc="outside right upper", fontsize="small")
    fig.suptitle(f"{task}: the tuning sweeps on validation episodes (one seed per weight)")
    return _save(fig, out_dir / _figure_name(task, TUNING_PREFIX))


def _save(fig: Figure, path: Path) -> Path:
    save = partial(fig.savefig, format="png", dpi=110, metadata={"Software": None})
    return write_atomic(path, save)


def _iqm(values: pd.Series) -> float:
    return claims.iqm_estimate(np.asarray(values, dtype=float)).value


def _iqm_ci(values: pd.Series) -> tuple[float, float]:
    estimate = claims.iqm_estimate(np.asarray(values, dtype=float))
    return estimate.low, estimate.high
