"""Choosing each method's weight on validation episodes, never on the evaluation episodes.

Every method's weight multiplies a log-likelihood or a reward the same way ω' does (RQL's ω',
KL-reward's β, log-likelihood's w', greedy's λ, full-reward's ω·α), so every method is swept over
the same candidates of the task's YAML (``tuning.omega``): the same tuning budget. Cells run on
the validation episodes (env seeds from VALIDATION_SEED) beside the prior on the same episodes,
and the rule picks, per method and prior kind, the highest mean add-on return among candidates
whose success rate and basic return are no worse than the prior's minus stated margins. The
choice and the sweep behind it go to configs/tuned/TASK.yaml, which the task's config reads.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rqlbench.files import write_text
from rqlbench.methods import METHODS
from rqlbench.runner.grid import PRIOR_KINDS, VALIDATION_SEED
from rqlbench.runner.store import RunStore
from rqlbench.tasks import task_config
from rqlbench.tasks.registry import tuned_config_path


@dataclass(frozen=True)
class TuningRule:
    """Feasible: success ≥ prior's − success_margin, basic ≥ prior's − basic_margin·|prior's|."""

    success_margin: float = 0.1
    basic_margin: float = 0.1

    def describe(self) -> str:
        return (
            "the highest mean add-on return among the candidates whose success rate is at least "
            f"the prior's minus {self.success_margin:g} and whose mean basic return is at least "
            f"the prior's minus {self.basic_margin:g} of its magnitude, on the same validation "
            f"episodes (env seeds from {VALIDATION_SEED}); if none qualifies, the candidate with "
            "the highest success rate, then basic return"
        )


def tuning_settings(task: str) -> tuple[list[float], TuningRule]:
    """The task's candidate weights and rule (its YAML's ``tuning`` section)."""
    section = task_config(task).get("tuning")
    if not section or not section.get("omega"):
        raise ValueError(
            f"task {task!r} has no tuning candidates: add tuning.omega (a list of weights) to "
            f"its YAML (rqlbench/tasks/configs/{task}.yaml)"
        )
    candidates = [float(v) for v in section["omega"]]
    if any(v < 0 for v in candidates):
        raise ValueError(f"task {task!r}: tuning.omega must be >= 0, got {candidates}")
    margins = {k: float(section[k]) for k in ("success_margin", "basic_margin") if k in section}
    return candidates, TuningRule(**margins)


def tuned_methods(
    task: str, methods: list[str] | None, priors: list[str] | None = None
) -> list[str]:
    """The methods tuning sweeps (those with a weight), plus the prior as the reference.

    A method that ignores the prior policy (full-reward) runs under the RL prior wherever there
    is one (its ω = ω'/α takes that prior's α), so `priors` without "rl" cannot tune it.
    """
    swept = [
        name for name, method in METHODS.items()
        if "omega" in method.sweeps and method.supports(task)
    ]  # fmt: skip
    chosen = swept if methods is None else [m for m in methods if m in swept]
    if methods is not None and (unknown := sorted(set(methods) - set(swept))):
        raise ValueError(f"{', '.join(unknown)} has no weight to tune: choose from {swept}")
    if priors and PRIOR_KINDS[0] not in priors:
        once = [m for m in chosen if not METHODS[m].uses_prior_policy]
        if methods is not None and once:
            raise ValueError(
                f"{', '.join(once)} runs under the {PRIOR_KINDS[0]} prior: tune it with "
                f"--priors {PRIOR_KINDS[0]}, or leave it out of --methods"
            )
        chosen = [m for m in chosen if m not in once]
    return ["prior", *chosen]


def _summaries(store: RunStore) -> dict[tuple[str, str, float | None], dict[str, float]]:
    """Mean success, basic and add-on return and metric per (method, prior, ω'), over seeds."""
    episodes: dict[tuple, list[dict]] = defaultdict(list)
    for path in sorted(store.cells_dir.glob("*.json")):
        record = json.loads(path.read_text())
        cell = record["cell"]
        if cell.get("split") != "validation":
            raise ValueError(f"{path} was not evaluated on validation episodes: not a tuning run")
        episodes[(cell["method"], cell["prior"], cell["omega"])] += record["episodes"]
    return {
        key: {
            "success": float(np.mean([e["success"] for e in eps])),
            "basic": float(np.mean([e["basic_return"] for e in eps])),
            "addon": float(np.mean([e["addon_return"] for e in eps])),
            "metric": float(np.mean([e["metric"] for e in eps])),
            "episodes": len(eps),
        }
        for key, eps in episodes.items()
    }


def select(store: RunStore, rule: TuningRule) -> dict[str, Any]:
    """The chosen weight per method and prior kind, and the sweep it was chosen from."""
    summaries = _summaries(store)
    priors = {kind: s for (method, kind, _), s in summaries.items() if method == "prior"}
    sweep: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for (method, kind, omega), summary in sorted(summaries.items(), key=_by_weight):
        if method != "prior":
            sweep[method][kind].append({"omega": omega, **summary})
    chosen: dict[str, dict[str, Any]] = {}
    for method, kinds in sweep.items():
        for kind, candidates in kinds.items():
            if kind not in priors:
                raise ValueError(f"the tuning run has no prior cell for prior kind {kind!r}")
            chosen.setdefault(method, {})[kind] = _choose(candidates, priors[kind], rule)
    return {"chosen": chosen, "prior": priors, "sweep": {m: dict(k) for m, k in sweep.items()}}


def _by_weight(item: tuple) -> tuple:
    (method, kind, omega), _ = item
    return method, kind, -1.0 if omega is None else omega


def _choose(candidates: list[dict], prior: dict, rule: TuningRule) -> dict[str, Any]:
    least_success = prior["success"] - rule.success_margin
    least_basic = prior["basic"] - rule.basic_margin * abs(prior["basic"])
    qualified = [
        c for c in candidates if c["success"] >= least_success and c["basic"] >= least_basic
    ]
    if qualified:
        best = max(qualified, key=lambda c: c["addon"])
    else:
        best = max(candidates, key=lambda c: (c["success"], c["basic"]))
    return {"omega": best["omega"], "met_rule": bool(qualified)}


def check_retune(
    task: str,
    methods: list[str],
    kinds: list[str],
    context: dict[str, Any],
    path: Path | None = None,
) -> None:
    """Refuses, before any cell runs, to tune some prior kinds of a method whose other kinds
    were tuned with another rule or validation settings (write_tuned_config keeps those)."""
    path = path or tuned_config_path(task)
    entries = yaml.safe_load(path.read_text())["methods"] if path.is_file() else {}
    for method in methods:
        earlier = entries.get(method) if METHODS[method].uses_prior_policy else None
        if earlier and (kept := sorted(set(_by_kind(earlier)) - set(kinds))):
            _check_same_tuning(task, method, kept, earlier, context)


def _check_same_tuning(
    task: str, method: str, kept: list[str], earlier: dict[str, Any], context: dict[str, Any]
) -> None:
    differing = sorted(k for k in context if k != "tuned_by" and earlier.get(k) != context[k])
    if differing:
        raise ValueError(
            f"configs/tuned/{task}.yaml: {method}'s weight for the {', '.join(kept)} prior was "
            f"tuned with another {', '.join(differing)}; tune every prior kind again (without "
            "--priors) so one entry describes them all"
        )


def _by_kind(earlier: dict[str, Any]) -> dict[str, Any]:
    """An earlier entry's weight per prior kind (a single weight served every kind it lists)."""
    omega = earlier.get("omega")
    if isinstance(omega, dict):
        return omega
    return {kind: omega for kind in earlier.get("met_rule", {})}


def write_tuned_config(
    task: str, selection: dict[str, Any], context: dict[str, Any], path: Path | None = None
) -> Path:
    """Writes each tuned method's weight (per prior kind), how and from what sweep it was chosen.

    Methods tuned earlier and not in `selection` keep their entries, and so does a method's
    other prior kind when only one kind was tuned again (`--priors rl`), provided it was tuned
    with the same rule and validation settings (the entry states them once for every kind).
    """
    path = path or tuned_config_path(task)
    methods = yaml.safe_load(path.read_text())["methods"] if path.is_file() else {}
    for method, kinds in selection["chosen"].items():
        per_kind = METHODS[method].uses_prior_policy
        earlier = methods.get(method, {}) if per_kind else {}
        if kept := sorted(set(_by_kind(earlier)) - set(kinds)):
            _check_same_tuning(task, method, kept, earlier, context)
        omegas = {**_by_kind(earlier), **{k: c["omega"] for k, c in kinds.items()}}
        methods[method] = {
            # A method that ignores the prior policy ran under one kind: its weight serves both.
            "omega": omegas if per_kind else next(iter(omegas.values())),
            "met_rule": {
                **earlier.get("met_rule", {}),
                **{k: c["met_rule"] for k, c in kinds.items()},
            },
            **copy.deepcopy(context),  # plain YAML: no anchors between methods
            "prior": {**earlier.get("prior", {}), **{k: selection["prior"][k] for k in kinds}},
            "sweep": {**earlier.get("sweep", {}), **selection["sweep"][method]},
        }
    header = "# Generated by `rqlbench tune`: rerun it instead of editing.\n"
    path.parent.mkdir(parents=True, exist_ok=True)  # the first tuned task creates configs/tuned
    write_text(path, header + yaml.safe_dump({"methods": methods}, sort_keys=False))
    return path
