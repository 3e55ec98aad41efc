"""The paper's claims as mechanical decision rules over per-seed scores, written once, here.

A comparison takes the per-seed values of a method X and a reference Y (each seed's value is the
mean over that seed's evaluation episodes) and estimates Δ = IQM(X) − IQM(Y), signed so that
Δ > 0 means X is better in the measure's direction, with a 95 % stratified-bootstrap percentile
CI (X's and Y's seeds redrawn independently; rliable's estimators, ``rqlbench.report.bootstrap``;
every estimate draws from its own generator seeded with BOOTSTRAP_SEED). A claim says in which
region Δ lies; per task, prior kind and measure the verdict is

- reproduced: the whole CI lies in the region;
- not reproduced: the whole CI lies outside it, on one side;
- inconclusive: the CI straddles a boundary of the region, or a side has < MIN_SEEDS seeds;
- no data: a side has no evaluation cell.

A task's measures combine by the claim's rule ("all" must hold, or "any" one), and the tasks
combine by "all": any part not reproduced makes the claim not reproduced; every part reproduced
makes it reproduced; parts without data alone make it "no data"; anything else is inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rqlbench.methods.registry import get_method
from rqlbench.report.bootstrap import interval_estimates, iqm, probability_of_improvement
from rqlbench.report.results import is_rate_metric
from rqlbench.tasks.registry import task_names  # the registry alone: no gymnasium

MIN_SEEDS = 5  # fewer seeds on either side: inconclusive whatever the CI says
BOOTSTRAP_REPS = 10_000
BOOTSTRAP_SEED = 0
# The margins of `rqlbench tune`'s default TuningRule (rqlbench/runner/tuning.py), reused as the
# tolerance of "stays at the prior's level" and of "≈": tests/test_evidence.py keeps them equal.
SUCCESS_MARGIN = 0.1  # success rate and rate metrics: absolute (10 percentage points)
RELATIVE_MARGIN = 0.1  # returns and other metrics: this fraction of the reference's |IQM|
FAILURE_DROP = 0.5  # "fails": success rate more than 50 points below the reference's

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NO_DATA = (
    "reproduced", "not reproduced", "inconclusive", "no data",
)  # fmt: skip
# Per measure: the column of per-seed values and its display name (the metric's is the task's).
MEASURES = {"success": "success rate", "basic_return": "basic return", "metric": "task metric"}


@dataclass(frozen=True)
class Claim:
    """One claim: X against reference Y, a test on Δ, the measures it covers and where."""

    key: str
    statement: str
    method: str
    reference: str
    test: str  # a key of TESTS
    measures: tuple[str, ...]  # keys of MEASURES
    tasks: tuple[str, ...] = ()  # () = every registered task (one without cells: no data)
    combine: str = "all"  # how a task's measures combine: "all" or "any"


# The region Δ must lie in, with m the measure's margin (SUCCESS_MARGIN or RELATIVE_MARGIN);
# success rates and rate metrics in percentage points.
TESTS = {
    "better": "Δ > 0 ({x} better than {y})",
    "not worse": "Δ ≥ −m ({x} no worse than {y} minus the margin m)",
    "equivalent": "|Δ| ≤ m ({x} within the margin m of {y}, either way)",
    "fails": f"Δ < −{100 * FAILURE_DROP:g} points ({{x}}'s success rate more than "
    f"{100 * FAILURE_DROP:g} points below {{y}}'s)",
}

CLAIMS = (
    Claim("a", "RQL-customized policies beat their priors on the add-on metric in every task",
          "rql", "prior", "better", ("metric",)),
    Claim("b", "Their basic-task performance stays at the prior's level",
          "rql", "prior", "not worse", ("success", "basic_return")),
    Claim("c", "RQL ≈ full-reward RL (on the add-on metric and success)",
          "rql", "full-reward", "equivalent", ("metric", "success")),
    Claim("d", "Residual ME-MCTS zero-shot (rql-mcts) ≈ RSQL (rql) on highway",
          "rql-mcts", "rql", "equivalent", ("metric", "success"), ("highway",)),
    Claim("e", "Greedy decomposition is worse than RQL on parking (success and/or metric)",
          "rql", "greedy", "better", ("success", "metric"), ("parking",), "any"),
    Claim("f", "The KL-augmented reward fails on parking (success far below the prior's)",
          "kl-reward", "prior", "fails", ("success",), ("parking",)),
)  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95 % CI."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Region:
    """An interval of Δ: (low, high) when open, [low, high] otherwise; infinite ends allowed."""

    low: float
    high: float
    open: bool

    def verdict(self, ci: Estimate) -> str:
        """Reproduced when the CI lies inside, not reproduced when wholly on one side outside."""
        if self._inside(ci.low) and self._inside(ci.high):
            return REPRODUCED
        below = ci.high < self.low or (self.open and ci.high == self.low)
        above = ci.low > self.high or (self.open and ci.low == self.high)
        return NOT_REPRODUCED if below or above else INCONCLUSIVE

    def _inside(self, x: float) -> bool:
        if self.open:
            return self.low < x < self.high
        return self.low <= x <= self.high

    def text(self, scale: float = 1.0) -> str:
        """The region as 'Δ > 0', 'Δ ≥ -1.5' or '|Δ| ≤ 0.1', values times `scale`."""
        low, high = f"{self.low * scale:.3g}", f"{self.high * scale:.3g}"
        if math.isinf(self.high) and math.isinf(self.low):
            return "any Δ"
        if math.isinf(self.high):
            return f"Δ {'>' if self.open else '≥'} {low}"
        if math.isinf(self.low):
            return f"Δ {'<' if self.open else '≤'} {high}"
        if self.low == -self.high:
            return f"|Δ| {'<' if self.open else '≤'} {high}"
        return f"{low} {'<' if self.open else '≤'} Δ {'<' if self.open else '≤'} {high}"


@dataclass(frozen=True)
class MeasureResult:
    """One measure of one task and prior kind: both sides, Δ, P(X better), region, verdict."""

    measure: str
    metric_name: str  # the task's metric
    rate_metric: bool  # a 0/1-per-episode metric, shown in percent
    seeds: tuple[int, int]  # X's, Y's
    x: Estimate | None
    y: Estimate | None
    delta: Estimate | None
    p_better: Estimate | None
    region: Region | None
    verdict: str


@dataclass(frozen=True)
class Part:
    """A claim on one task and prior kind."""

    task: str
    prior: str
    measures: tuple[MeasureResult, ...]
    verdict: str


@dataclass(frozen=True)
class ClaimResult:
    """A claim, its parts and its verdict."""

    claim: Claim
    parts: tuple[Part, ...]
    verdict: str


def margin(measure: str, reference: float, rate_metric: bool) -> float:
    """The measure's tolerance: absolute for rates, relative to the reference's |IQM| otherwise."""
    if measure == "success" or (measure == "metric" and rate_metric):
        return SUCCESS_MARGIN
    return RELATIVE_MARGIN * abs(reference)


def region(test: str, measure: str, reference: float, rate_metric: bool) -> Region:
    """Where the claim puts Δ for this measure (see TESTS)."""
    m = margin(measure, reference, rate_metric)
    regions = {
        "better": Region(0.0, math.inf, open=True),
        "not worse": Region(-m, math.inf, open=False),
        "equivalent": Region(-m, m, open=False),
        "fails": Region(-math.inf, -FAILURE_DROP, open=True),
    }
    return regions[test]


def iqm_estimate(values: np.ndarray) -> Estimate:
    """IQM over seeds with its 95 % stratified-bootstrap CI."""
    return _estimate(iqm, (values,), 1.0)


def _estimate(statistic, samples: tuple[np.ndarray, ...], sign: float) -> Estimate:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    matrices = tuple(sign * np.asarray(s, dtype=float).reshape(-1, 1) for s in samples)
    point, interval = interval_estimates(statistic, matrices, BOOTSTRAP_REPS, rng)
    return Estimate(float(point), float(interval[0]), float(interval[1]))


def _difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return iqm(x) - iqm(y)


def judge_all(seeds: pd.DataFrame) -> list[ClaimResult]:
    """Every claim of CLAIMS judged on the per-seed values (one row per evaluation cell)."""
    return [judge(claim, seeds) for claim in CLAIMS]


def judge(claim: Claim, seeds: pd.DataFrame) -> ClaimResult:
    """One claim on every task and prior kind it covers."""
    parts = tuple(_part(claim, seeds, task, prior) for task, prior in _places(claim, seeds))
    verdict = combine([part.verdict for part in parts], "all") if parts else NO_DATA
    return ClaimResult(claim, parts, verdict)


def _places(claim: Claim, seeds: pd.DataFrame) -> list[tuple[str, str]]:
    """(task, prior kind) pairs the claim covers: its tasks (or every registered task: a claim
    "in every task" cannot hold while one has not run), each under every prior kind that task
    has cells of (both kinds if none)."""
    either = seeds["method"].isin([claim.method, claim.reference])
    ran = tuple(dict.fromkeys(seeds.loc[either, "task"]))
    tasks = claim.tasks or (*ran, *(name for name in task_names() if name not in ran))
    places = []
    for task in tasks:
        kinds = list(dict.fromkeys(seeds.loc[seeds["task"] == task, "prior"])) or ["rl", "il"]
        places += [(task, kind) for kind in kinds]
    return places


def _part(claim: Claim, seeds: pd.DataFrame, task: str, prior: str) -> Part:
    x = _side(seeds, task, prior, claim.method)
    y = _side(seeds, task, prior, claim.reference)
    results = tuple(_measure(claim, measure, x, y) for measure in claim.measures)
    return Part(task, prior, results, combine([r.verdict for r in results], claim.combine))


def _side(seeds: pd.DataFrame, task: str, prior: str, method: str) -> pd.DataFrame:
    """The method's cells on the task under this prior kind; a method that ignores the prior
    policy (full-reward) ran under one kind only and serves both."""
    rows = seeds[(seeds["task"] == task) & (seeds["method"] == method)]
    own = rows[rows["prior"] == prior]
    return own if not own.empty or get_method(method).uses_prior_policy else rows


def _measure(claim: Claim, measure: str, x: pd.DataFrame, y: pd.DataFrame) -> MeasureResult:
    counts = (len(x), len(y))
    names = pd.concat([x, y])["metric_name"]
    name = names.iloc[0] if len(names) else MEASURES["metric"]
    info = (measure, name, is_rate_metric(name), counts)
    if x.empty or y.empty:
        return MeasureResult(*info, None, None, None, None, None, NO_DATA)
    higher = measure != "metric" or bool(x["metric_higher_is_better"].iloc[0])
    sign = 1.0 if higher else -1.0
    xs, ys = x[measure].to_numpy(float), y[measure].to_numpy(float)
    x_est, y_est = iqm_estimate(xs), iqm_estimate(ys)
    delta = _estimate(_difference, (xs, ys), sign)
    p_better = _estimate(probability_of_improvement, (xs, ys), sign)
    where = region(claim.test, measure, y_est.value, is_rate_metric(name))
    verdict = where.verdict(delta) if min(counts) >= MIN_SEEDS else INCONCLUSIVE
    return MeasureResult(*info, x_est, y_est, delta, p_better, where, verdict)


def combine(verdicts: list[str], how: str) -> str:
    """Verdicts of several measures ("all" or "any" must hold) or parts ("all") as one."""
    if all(v == NO_DATA for v in verdicts):
        return NO_DATA
    if how == "any":
        if REPRODUCED in verdicts:
            return REPRODUCED
        return NOT_REPRODUCED if all(v == NOT_REPRODUCED for v in verdicts) else INCONCLUSIVE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


def rule_text(claim: Claim) -> str:
    """The claim's decision rule in words, for the document."""
    where = ", ".join(claim.tasks) if claim.tasks else f"every task ({', '.join(task_names())})"
    names = " and ".join(MEASURES[m] for m in claim.measures)
    joined = {"all": "all must hold", "any": "at least one must hold"}[claim.combine]
    test = TESTS[claim.test].format(x=claim.method, y=claim.reference)
    return (
        f"X = {claim.method}, Y = {claim.reference}; on {where}, per prior kind, for {names} "
        f"({joined}): {test}, Δ = IQM({claim.method}) − IQM({claim.reference}) over seeds."
    )
