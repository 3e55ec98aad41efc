"""Aggregate statistics over tasks the rliable way (Agarwal et al. 2021), with bootstrap CIs.

Choices, all per prior kind (an RL and an IL prior are separate experiments):

- A run is one cell; its scores are its mean add-on return and mean basic return over its
  evaluation episodes.
- Scores are min-max normalized per (task, prior kind) over every cell of that task and prior
  kind, all methods and settings together: 0 is the worst run there, 1 the best. When all those
  runs score the same the normalized score is 0.5 (nothing to tell them apart).
- A method's cells with several ω' or MCTS budgets in one task all count as its runs there: a
  sweep gives every method the same settings, so the aggregate is over the swept settings. The
  table and the ω' and budget plots show the settings one by one.
- The estimators take a runs × tasks matrix (rliable's layout): the same number of runs on every
  task of an algorithm. Where a method has more runs on some tasks, each task keeps its first
  runs in (seed, ω', budget) order, down to the smallest count; the `runs` column says how many
  were used. One run per task works: its bootstrap CIs collapse to the point estimate.
- IQM and mean over runs × tasks come with 95% stratified-bootstrap percentile CIs. Methods may
  cover different tasks (rql-mcts runs on highway only); the `tasks` column lists them.
- The probability of improvement P(rql > X) is computed on the tasks both have; it is the
  Mann-Whitney statistic per task, averaged over tasks, so the normalization does not change it.
  X is every method outside the RQL family, the prior included.
- The estimators and the bootstrap are rliable's definitions, computed vectorised over the
  replicates (``rqlbench.report.bootstrap``); every estimate draws its replicates from its own
  Generator seeded with `seed`, so a report's CIs are reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rqlbench.report.bootstrap import interval_estimates, iqm_and_mean, probability_of_improvement
from rqlbench.report.output import MISSING, estimate_ci, markdown_table

SCORES = {"add-on": "addon_return", "basic": "basic_return"}
AGGREGATES = ("IQM", "mean")
RQL = "rql"
RQL_FAMILY = ("rql", "rql-mcts")
RUN_ORDER = ["seed", "omega", "simulations"]  # which runs a task keeps when truncating
DEFAULT_REPS = 2000
COLUMNS = [
    "prior",
    "method",
    "versus",
    "score",
    "statistic",
    "estimate",
    "ci_low",
    "ci_high",
    "tasks",
    "runs",
    "versus_runs",
]


def normalized_scores(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells with an '<score> score' column per score, min-max normalized per task and prior."""
    scores = cells.copy()
    for score, column in SCORES.items():
        groups = scores.groupby(["task", "prior"])[column]
        scores[f"{score} score"] = groups.transform(_min_max)
    return scores


def _min_max(values: pd.Series) -> pd.Series:
    low, high = values.min(), values.max()
    if high == low:
        return pd.Series(0.5, index=values.index)
    return (values - low) / (high - low)


def run_statistics(cells: pd.DataFrame, reps: int = DEFAULT_REPS, seed: int = 0) -> pd.DataFrame:
    """Aggregate scores per method and P(rql > X), as one long table (COLUMNS)."""
    scores = normalized_scores(cells)
    frames = [aggregate_scores(scores, reps, seed), improvement(scores, reps, seed)]
    stats = pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)
    return stats.astype({"runs": "Int64", "versus_runs": "Int64"})


def aggregate_scores(scores: pd.DataFrame, reps: int, seed: int) -> pd.DataFrame:
    """IQM and mean of each method's normalized scores, with 95% bootstrap CIs."""
    rows = []
    for keys, matrix in aggregate_inputs(scores):
        rng = np.random.default_rng(seed)
        point, interval = interval_estimates(iqm_and_mean, (matrix,), reps, rng)
        for i, statistic in enumerate(AGGREGATES):
            rows.append({
                **keys, "statistic": statistic, "estimate": point[i], "ci_low": interval[0, i],
                "ci_high": interval[1, i], "runs": len(matrix),
            })  # fmt: skip
    return pd.DataFrame(rows)


def aggregate_inputs(scores: pd.DataFrame) -> list[tuple[dict[str, str], np.ndarray]]:
    """Per prior kind, score and method: its row keys and its runs × tasks score matrix."""
    inputs = []
    for prior, group in scores.groupby("prior", sort=False):
        methods = dict(list(group.groupby("method", sort=False)))
        for score in SCORES:
            for method, runs in methods.items():
                keys = {"prior": prior, "method": method, "score": score, "tasks": _tasks(runs)}
                inputs.append((keys, _matrix(runs, score)))
    return inputs


def improvement(scores: pd.DataFrame, reps: int, seed: int) -> pd.DataFrame:
    """P(rql > X) for every method X outside the RQL family, on the tasks both have."""
    rows = []
    for keys, (x, y) in improvement_inputs(scores):
        rng = np.random.default_rng(seed)
        point, interval = interval_estimates(probability_of_improvement, (x, y), reps, rng)
        rows.append({
            **keys, "statistic": "P(improvement)", "estimate": float(point),
            "ci_low": interval[0], "ci_high": interval[1], "runs": len(x), "versus_runs": len(y),
        })  # fmt: skip
    return pd.DataFrame(rows)


def improvement_inputs(
    scores: pd.DataFrame,
) -> list[tuple[dict[str, str], tuple[np.ndarray, np.ndarray]]]:
    """Per prior kind, compared method and score: row keys and (rql, X) matrices, shared tasks."""
    inputs = []
    for prior, group in scores.groupby("prior", sort=False):
        ours = group[group["method"] == RQL]
        others = group[~group["method"].isin(RQL_FAMILY)]
        for versus, theirs in others.groupby("method", sort=False):
            shared = set(ours["task"]) & set(theirs["task"])
            if not shared:
                continue
            x, y = ours[ours["task"].isin(shared)], theirs[theirs["task"].isin(shared)]
            for score in SCORES:
                keys = {"prior": prior, "method": RQL, "versus": versus, "score": score}
                keys["tasks"] = _tasks(x)
                inputs.append((keys, (_matrix(x, score), _matrix(y, score))))
    return inputs


def _matrix(runs: pd.DataFrame, score: str) -> np.ndarray:
    """Runs × tasks (tasks by name), each task truncated to the smallest run count."""
    columns = [
        task_runs.sort_values(RUN_ORDER)[f"{score} score"].to_numpy()
        for _, task_runs in runs.groupby("task")
    ]
    count = min(len(column) for column in columns)
    return np.column_stack([column[:count] for column in columns])


def _tasks(runs: pd.DataFrame) -> str:
    return ", ".join(sorted(runs["task"].unique()))


def stats_markdown(stats: pd.DataFrame) -> str:
    """The aggregate scores and the probabilities of improvement as Markdown tables."""
    stats = stats.assign(text=list(map(estimate_ci, stats.estimate, stats.ci_low, stats.ci_high)))
    aggregates = stats[stats["versus"].isna()]
    table = aggregates.pivot_table(
        index=["prior", "method", "tasks", "runs"],
        columns=["score", "statistic"],
        values="text",
        aggfunc="first",
        sort=False,
    )
    table.columns = [f"{score} {statistic}" for score, statistic in table.columns]
    text = (
        "### Aggregate normalized scores\n\nPer run, the mean return over its episodes, min-max "
        "normalized over all runs of its task and prior kind (0 worst, 1 best); IQM and mean "
        "over runs × tasks with 95% stratified-bootstrap CIs (rliable's estimators).\n\n"
        + markdown_table(_headers(table.reset_index()))
    )
    versus = stats[stats["versus"].notna()]
    text += f"\n### Probability that {RQL} improves on another method\n\n"
    if versus.empty:
        return text + f"No task has both {RQL} and another method.\n"
    table = versus.pivot_table(
        index=["prior", "versus", "tasks", "runs", "versus_runs"],
        columns="score",
        values="text",
        aggfunc="first",
        sort=False,
    )
    table.columns = [f"P({RQL} better), {score}" for score in table.columns]
    return text + markdown_table(_headers(table.reset_index()))


def _headers(table: pd.DataFrame) -> pd.DataFrame:
    table = table.astype(object).where(table.notna(), MISSING)
    table["prior"] = table["prior"].str.upper()
    names = {"versus_runs": "runs of the other", "runs": "runs/task"}
    return table.rename(columns=lambda name: _capitalized(names.get(name, name)))


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
