"""Reading a run directory's finished cells into pandas tables.

A run directory holds ``cells/<cell_id>.json``, one per finished cell (written by the runner).
``load_run`` turns them into three DataFrames: one row per evaluation episode, one per cell
(its per-episode means) and one per training-curve point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rqlbench.methods.registry import method_names
from rqlbench.results_format import STORE_VERSION

CELL_KEYS = ("task", "method", "prior", "omega", "simulations", "seed")
SETTING_KEYS = ("task", "prior", "method", "omega", "simulations")  # one table row each
RETURN_COLUMNS = ("basic_return", "addon_return")
TIMINGS = ("train_seconds", "eval_seconds", "decision_seconds")
# Display order; names not listed here come after, alphabetically.
ORDER = {
    "task": ("cartpole", "mountaincar", "highway", "parking", "halfcheetah"),
    "prior": ("rl", "il"),
    "method": tuple(method_names()),  # the registry's order
}


@dataclass(frozen=True)
class RunResults:
    """A run's finished cells as DataFrames (see the module docstring)."""

    run_dir: Path
    episodes: pd.DataFrame  # cell columns + episode_seed, returns, metric, success, length
    cells: pd.DataFrame  # cell columns + per-cell means, timings and a display label
    curves: pd.DataFrame  # cell columns + step, basic_return, addon_return


def load_run(run_dir: str | Path) -> RunResults:
    """Reads every finished cell of a run directory."""
    run_dir = Path(run_dir)
    files = sorted((run_dir / "cells").glob("*.json"))
    if not files:
        raise ValueError(
            f"{run_dir} has no finished cells (no {run_dir / 'cells'}/*.json): pass the directory "
            "a `rqlbench run` wrote (its --out), and let at least one cell finish"
        )
    records = [_read_cell(path) for path in files]
    episodes = _frame([_rows(record, "episodes") for record in records])
    curves = _frame([_rows(record, "curve") for record in records])
    cells = pd.DataFrame([_cell_row(record) for record in records])
    cells = cells.astype(dict.fromkeys(TIMINGS, float))
    means = episodes.groupby("cell_id")[["success", *RETURN_COLUMNS, "metric"]].mean()
    cells = cells.join(means.rename(columns={"success": "success_rate"}), on="cell_id")
    cells["episodes"] = cells["cell_id"].map(episodes.groupby("cell_id").size())
    cells["label"] = setting_labels(cells)
    return RunResults(run_dir, ordered(episodes), ordered(cells), ordered(curves))


def _read_cell(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read cell file {path}: {error}; delete it and re-run") from error
    schema = record.get("schema") if isinstance(record, dict) else None
    if schema != STORE_VERSION:
        raise ValueError(
            f"{path} has result schema {schema!r}, but this report reads schema "
            f"{STORE_VERSION}: make the report with the rqlbench version that ran it, or re-run "
            "the cell"
        )
    missing = [key for key in ("cell", "metric_name", "episodes") if key not in record]
    missing += [f"cell.{key}" for key in CELL_KEYS if key not in record.get("cell", {})]
    if missing or not record["episodes"]:
        what = f"lacks {', '.join(missing)}" if missing else "has no evaluation episodes"
        raise ValueError(f"cell file {path} {what}: delete it and re-run the cell")
    return {**record, "cell_id": path.stem}


def _cell_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {"cell_id": record["cell_id"], **{key: record["cell"][key] for key in CELL_KEYS}}


def _rows(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The cell's episodes or curve points, each with the cell's columns."""
    columns = _cell_columns(record)
    return [{**columns, **_own_fields(row)} for row in record.get(key) or []]


def _own_fields(row: dict[str, Any]) -> dict[str, Any]:
    # An episode's own env seed is not the cell's training seed.
    return {("episode_seed" if name == "seed" else name): value for name, value in row.items()}


def _frame(groups: list[list[dict[str, Any]]]) -> pd.DataFrame:
    rows = [row for group in groups for row in group]
    return pd.DataFrame(rows, columns=None if rows else ["cell_id", *CELL_KEYS])


def _cell_row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **_cell_columns(record),
        "metric_name": record["metric_name"],
        "metric_higher_is_better": bool(record.get("metric_higher_is_better", True)),
        **{timing: record.get(timing) for timing in TIMINGS},
    }


def setting_labels(cells: pd.DataFrame) -> pd.Series:
    """Method names, plus ω' and MCTS budget where the method sweeps them in a task.

    A sweep means several values for one prior kind: the default ω' (the prior's temperature)
    may differ between an RL and an IL prior without making a sweep.
    """
    per_prior = cells.groupby(["task", "prior", "method"])
    labels = cells["method"].astype(str)
    for key, symbol in (("omega", "ω'="), ("simulations", "n=")):
        count = per_prior[key].transform(lambda values: values.nunique(dropna=False))
        varies = count.groupby([cells["task"], cells["method"]]).transform("max") > 1
        text = cells[key].map(lambda value: "" if pd.isna(value) else f"{value:g}")
        labels = labels.where(~varies, labels + " " + symbol + text)
    return labels


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by task, prior kind, method (display order), then ω', budget and seed."""
    keys = [key for key in (*SETTING_KEYS, "seed") if key in frame.columns]
    return frame.sort_values(keys, key=_rank, na_position="first").reset_index(drop=True)


def _rank(column: pd.Series) -> pd.Series:
    order = ORDER.get(str(column.name))
    if order is None:
        return column
    known = [*order, *sorted(set(column) - set(order))]
    return column.map(known.index)


def is_rate_metric(metric_name: str) -> bool:
    """Whether a task metric is a per-episode 0/1 indicator, reported as a percentage."""
    return metric_name.endswith("rate")
