"""rliable's aggregate estimators and stratified-bootstrap CIs, vectorised over the replicates.

rliable (Agarwal et al. 2021) calls its estimator once per bootstrap replicate through arch, and
its probability of improvement runs scipy's Mann-Whitney U per task and replicate: a report took
minutes. Here every estimator takes score arrays of shape (..., runs, tasks) and reduces the last
two axes, so all replicates are one array operation. The definitions are rliable's (its
`metrics` and `library` modules; tests/test_report.py checks them against rliable):

- IQM: scipy.stats.trim_mean(scores, 0.25) over all runs × tasks.
- mean: the mean over tasks of each task's mean over runs.
- probability of improvement P(X > Y): per task, the Mann-Whitney U of X's runs against Y's
  over nx·ny, i.e. P(x > y) + P(x = y) / 2 over all run pairs; averaged over tasks.
- stratified bootstrap: each replicate redraws every task's runs from that task's runs, with
  replacement; X and Y are redrawn independently.
- CI: arch's percentile interval of the replicates (numpy's linear percentiles).

Unlike rliable, whose resampling draws from numpy's global RNG whatever `random_state` says,
the replicates come from the Generator passed in, so a seed reproduces the CIs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CONFIDENCE = 0.95
TRIM = 0.25  # the IQM cuts this fraction of the scores at each end
MAX_PAIR_ELEMENTS = 1 << 21  # replicates × run pairs × tasks compared at once: 16 MB

Statistic = Callable[..., np.ndarray]


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over runs × tasks (the last two axes), as scipy.stats.trim_mean(0.25)."""
    flat = scores.reshape(*scores.shape[:-2], -1)
    count = flat.shape[-1]
    cut = int(TRIM * count)  # scipy's rounding: int(proportiontocut * nobs)
    return np.sort(flat, axis=-1)[..., cut : count - cut].mean(axis=-1)


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over tasks of the per-task mean over runs (the last two axes), as rliable's."""
    return scores.mean(axis=-2).mean(axis=-1)


def iqm_and_mean(scores: np.ndarray) -> np.ndarray:
    """IQM and mean of runs × tasks scores, stacked on a new last axis."""
    return np.stack([iqm(scores), mean(scores)], axis=-1)


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + P(X = Y) / 2 per task, averaged over tasks, as rliable's Mann-Whitney form.

    x has shape (..., runs_x, tasks) and y (..., runs_y, tasks) with the same leading axes.
    """
    _check_same_tasks(x, y)
    lead = x.shape[:-2]
    x = x.reshape(-1, *x.shape[-2:])
    y = y.reshape(-1, *y.shape[-2:])
    pairs_per_item = x.shape[1] * y.shape[1] * x.shape[2]
    step = max(1, MAX_PAIR_ELEMENTS // pairs_per_item)
    chunks = [_improvement(x[i : i + step], y[i : i + step]) for i in range(0, len(x), step)]
    return np.concatenate(chunks).reshape(lead)


def _improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # sign(x - y) is +1, 0 or -1 exactly (a difference of unequal floats is never 0), so
    # (pairs + sum of signs) / 2 = #(x > y) + #(x = y) / 2, which is Mann-Whitney's U.
    signs = np.sign(x[:, :, None, :] - y[:, None, :, :]).sum(axis=(1, 2))
    pairs = x.shape[1] * y.shape[1]
    return ((pairs + signs) / 2 / pairs).mean(axis=-1)


def _check_same_tasks(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim < 2 or x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"scores of shapes {x.shape} and {y.shape} do not pair up: pass (..., runs, tasks) "
            "arrays with the same tasks (last axis) and leading axes"
        )


def stratified_resamples(scores: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """`reps` bootstrap copies of runs × tasks scores, each task's runs redrawn from its own."""
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(
            f"scores of shape {scores.shape} are not a runs × tasks matrix: pass a 2-D array "
            "with at least one run and one task"
        )
    runs, tasks = scores.shape
    rows = rng.integers(runs, size=(reps, runs, tasks))
    return scores[rows, np.arange(tasks)]


def percentile_interval(replicates: np.ndarray, size: float = CONFIDENCE) -> np.ndarray:
    """Lower and upper percentile bounds over the first axis (arch's 'percentile' method)."""
    alpha = (1.0 - size) / 2  # arch's arithmetic, so the percentiles are the same floats
    return np.percentile(replicates, [100 * alpha, 100 * (1.0 - alpha)], axis=0)


def interval_estimates(
    statistic: Statistic,
    matrices: tuple[np.ndarray, ...],
    reps: int,
    rng: np.random.Generator,
    size: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """The statistic of the runs × tasks matrices and its stratified-bootstrap percentile CI.

    Returns (point, interval): interval has the lower bounds in row 0 and the upper in row 1,
    like rliable's `get_interval_estimates`. Each matrix is resampled independently.
    """
    if reps < 1:
        raise ValueError(f"reps={reps}: the bootstrap needs at least one replicate")
    point = np.asarray(statistic(*matrices))
    samples = [stratified_resamples(np.asarray(matrix), reps, rng) for matrix in matrices]
    return point, percentile_interval(np.asarray(statistic(*samples)), size)
