"""The results store: one directory per run, one atomically written file per finished cell.

RUN/config.yaml       the resolved run configuration (what `rqlbench run` was asked)
RUN/environment.json  package versions, git hash, machine
RUN/cells/<id>.json   one finished cell: per-episode records and its training curve

A cell file appears only when the cell is finished (written to a temporary file, then renamed),
so re-running the same command skips finished cells and redoes any cell killed midway. The same
command with more --seeds extends a run.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from rqlbench.files import write_text
from rqlbench.provenance import environment
from rqlbench.results_format import STORE_VERSION
from rqlbench.runner.grid import Cell, CellPlan


class RunStore:
    """A run directory: its configuration, environment record and finished cells."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.cells_dir = self.path / "cells"

    @classmethod
    def open(cls, path: str | Path, config: dict[str, Any]) -> RunStore:
        """Creates the run directory, or reopens it if it holds the same configuration."""
        store = cls(path)
        config = {"store_version": STORE_VERSION, **config}
        if (store.path / "config.yaml").exists():
            if store.check_resumable(config):
                store._extend(config)
        else:
            _check_writable(store.path)
            store.cells_dir.mkdir(parents=True, exist_ok=True)
            write_text(store.path / "environment.json", json.dumps(environment(), indent=2))
            write_text(store.path / "config.yaml", yaml.safe_dump(config, sort_keys=False))
        for stale in store.cells_dir.glob(".*.tmp"):  # left by a run killed mid-write
            stale.unlink()
        return store

    def config(self) -> dict[str, Any]:
        return yaml.safe_load((self.path / "config.yaml").read_text())

    def cell_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.id}.json"

    def is_done(self, cell: Cell) -> bool:
        return self.cell_path(cell).exists()

    def save(self, cell: Cell, result: dict[str, Any]) -> None:
        write_text(self.cell_path(cell), json.dumps(result, indent=1))

    def refuse_unplanned_cells(self, cells: list[Cell]) -> None:
        """A resumed run must hold only cells of its grid: a cell from an older rqlbench (e.g. a
        tuning cell of training seed 0) would otherwise be averaged in with the new ones."""
        planned = {self.cell_path(cell).name for cell in cells}
        unplanned = sorted(p.name for p in self.cells_dir.glob("*.json") if p.name not in planned)
        if unplanned:
            raise ValueError(
                f"{self.cells_dir} holds {len(unplanned)} cell(s) this run does not plan, e.g. "
                f"{unplanned[0]} (from another configuration or an older rqlbench): move them "
                "out, or choose a new --out directory"
            )

    def refuse_changed_plans(self, plans: dict[Cell, CellPlan]) -> None:
        """A finished cell must have been computed as its plan says now: a cell's file name
        leaves out its weight, budget and prior file, so a re-tuned weight, a changed YAML or a
        prior retrained in place would otherwise mix old and new cells in one row. Compared: ω'
        (where the plan fixes one), steps, evaluation episodes, learner settings, simulator and
        the prior file's SHA-256 (where the plan has it; a key an older record lacks is
        skipped)."""
        for cell, plan in plans.items():
            if not self.is_done(cell):
                continue
            record = json.loads(self.cell_path(cell).read_text())
            kept = ("steps", "settings", "simulator", "prior_sha256")
            found = {k: record[k] for k in kept if k in record}
            if "episodes" in record:
                found["episodes"] = len(record["episodes"])
            if record["cell"].get("omega") is not None and plan.omega is not None:
                found["omega'"] = record["cell"]["omega"]
            wanted = {
                "steps": plan.steps, "episodes": plan.episodes, "omega'": plan.omega,
                "settings": json.loads(json.dumps(plan.settings)),  # as a record holds them
                "simulator": plan.simulator, "prior_sha256": plan.prior_sha256,
            }  # fmt: skip
            if plan.prior_sha256 is None:
                found.pop("prior_sha256", None)
            if changed := [k for k in found if found[k] != wanted[k]]:
                raise ValueError(
                    f"{self.cell_path(cell)} was computed with "
                    + ", ".join(f"{k} {found[k]!r}" for k in changed)
                    + "; the task's config now gives "
                    + ", ".join(f"{k} {wanted[k]!r}" for k in changed)
                    + " (re-tuned, its YAML edited or its prior retrained since): choose a new "
                    "--out directory"
                )

    def check_resumable(self, config: dict[str, Any]) -> bool:
        """Raises unless `config` resumes this run; True if it extends it (more seeds)."""
        config = {"store_version": STORE_VERSION, **config}
        found = self.config()
        version = found.get("store_version") if isinstance(found, dict) else None
        if version != STORE_VERSION:
            raise ValueError(
                f"{self.path} holds results of store version {version!r}; this rqlbench writes "
                f"version {STORE_VERSION}: choose a new --out directory"
            )
        differing = sorted(k for k in {*found, *config} if found.get(k) != config.get(k))
        if differing == ["seeds"] and _is_more(config["seeds"], found["seeds"]):
            return True
        if differing:
            raise ValueError(
                f"{self.path} holds a run with different {', '.join(differing)}: rerun it with "
                "the same arguments to resume, or choose a new --out directory"
            )
        return False

    def _extend(self, config: dict[str, Any]) -> None:
        """More seeds extend the run (its cells are the first seeds of the larger grid); the
        environment record keeps the original and notes each extension's environment."""
        record = json.loads((self.path / "environment.json").read_text())
        record.setdefault("extensions", []).append({"seeds": config["seeds"], **environment()})
        write_text(self.path / "environment.json", json.dumps(record, indent=2))
        write_text(self.path / "config.yaml", yaml.safe_dump(config, sort_keys=False))


def _is_more(new: Any, old: Any) -> bool:
    return isinstance(new, int) and isinstance(old, int) and new > old


def _check_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(
            f"cannot write results to {path} ({error.strerror}): choose another --out"
        ) from error
