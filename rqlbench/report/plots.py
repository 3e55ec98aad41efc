"""The run's figures (seaborn, PNG and PDF): results per task, learning curves, ω', MCTS budget.

Figures are drawn on matplotlib ``Figure`` objects, never through pyplot, so making a report
neither needs a display nor changes the caller's matplotlib backend. Each function returns the
files it wrote, or [] when the run has no data for it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from rqlbench.files import write_atomic
from rqlbench.report.results import RunResults, is_rate_metric

# One colour per method in every figure; a method's settings (ω', budget) are shades of it.
METHOD_COLORS = {
    "prior": "#7f7f7f",
    "rql": "#d62728",
    "rql-mcts": "#ff7f0e",
    "greedy": "#1f77b4",
    "kl-reward": "#2ca02c",
    "loglik-reward": "#9467bd",
    "full-reward": "#8c564b",
}
OTHER_METHOD_COLOR = "#17becf"
PRIOR_COLORS = {"RL prior": "#4c72b0", "IL prior": "#dd8452"}
CI = ("ci", 95)
# Learning curves have hundreds of points: seaborn's per-point bootstrap took 85-90 % of a
# 350-cell report (33 s), so curves show the normal-approximation interval instead.
CURVE_BAND = ("se", 1.96)
CURVE_BINS = 20
FORMATS = ("png", "pdf")
RETURNS = ("basic_return", "addon_return")
MCTS_PANELS = ("addon_return", "decision_seconds")
AXIS_LABELS = {
    "basic_return": "Basic return (sum of r per episode)",
    "addon_return": "Add-on return (sum of r_R per episode)",
    "step": "Environment steps",
    "simulations": "MCTS simulations per decision",
    "decision_seconds": "Planning time per decision (s)",
}
TITLES = {
    "basic_return": "Basic return",
    "addon_return": "Add-on return",
    "decision_seconds": "Decision time",
}


def make_plots(results: RunResults, out_dir: Path) -> list[Path]:
    """Every figure the run has data for."""
    makers = (task_plots, curve_plots, omega_plots, mcts_plots)
    return [path for make in makers for path in make(results, out_dir)]


def task_plots(results: RunResults, out_dir: Path) -> list[Path]:
    """Per task: basic return, add-on return and task metric by method and prior kind."""
    paths = []
    for task, cells in results.cells.groupby("task", sort=False):
        metric = cells["metric_name"].iloc[0]
        data = cells.assign(**{"Prior kind": _prior_kind(cells["prior"])})
        if is_rate_metric(metric):
            data["metric"] = 100 * data["metric"]
        direction = "higher" if cells["metric_higher_is_better"].iloc[0] else "lower"
        unit = " (%)" if is_rate_metric(metric) else ""
        panels = {column: AXIS_LABELS[column] for column in RETURNS}
        panels["metric"] = f"{metric}{unit}, {direction} is better"
        dodge = 0.3 if data["Prior kind"].nunique() > 1 else False  # seaborn fails on 1 level
        fig = Figure(figsize=(16, 5), layout="constrained")
        for i, (ax, (column, label)) in enumerate(
            zip(fig.subplots(1, 3), panels.items(), strict=True)
        ):
            sns.pointplot(
                data=data, x="label", y=column, hue="Prior kind", order=data["label"].unique(),
                palette=PRIOR_COLORS, errorbar=CI, seed=0, dodge=dodge, linestyle="none",
                capsize=0.1, legend=i == len(panels) - 1, ax=ax,
            )  # fmt: skip
            ax.set(xlabel="Method", ylabel=label, title=TITLES.get(column, metric))
            ax.tick_params(axis="x", labelrotation=30)
        _legend_outside(ax)
        fig.suptitle(f"{task}: mean per run, 95% CI over runs")
        paths += _save(fig, out_dir, f"results_{task}")
    return paths


def curve_plots(results: RunResults, out_dir: Path) -> list[Path]:
    """Per task: basic and add-on training-episode returns vs env steps, mean and CI over runs."""
    if results.curves.empty:
        return []
    cells = results.cells.set_index("cell_id")[["label", "method", "prior"]]
    paths = []
    for task, points in results.curves.groupby("task", sort=False):
        data = _binned(points).join(cells, on="cell_id").rename(columns={"label": "Method"})
        data["Prior kind"] = _prior_kind(data["prior"])
        fig = Figure(figsize=(12, 4.5), layout="constrained")
        for i, (ax, column) in enumerate(zip(fig.subplots(1, 2), RETURNS, strict=True)):
            sns.lineplot(
                data=data, x="step", y=column, hue="Method", style="Prior kind",
                palette=_label_palette(data), errorbar=CURVE_BAND, legend=i == 1, ax=ax,
            )  # fmt: skip
            ax.set(xlabel=AXIS_LABELS["step"], ylabel=AXIS_LABELS[column], title=TITLES[column])
        _legend_outside(ax)
        fig.suptitle(f"{task}: training episodes, mean ± 1.96 standard errors over runs")
        paths += _save(fig, out_dir, f"curves_{task}")
    return paths


def omega_plots(results: RunResults, out_dir: Path) -> list[Path]:
    """Per task and prior kind: basic vs add-on return of each method at each of its ω' values."""
    cells = results.cells
    omegas = cells.groupby(["task", "prior", "method"])["omega"].transform("nunique")
    swept = cells[omegas >= 2]
    paths = []
    for task, rows in swept.groupby("task", sort=False):
        priors = rows["prior"].unique()
        fig = Figure(figsize=(6.5 * len(priors), 5), layout="constrained")
        for ax, prior in zip(fig.subplots(1, len(priors), squeeze=False)[0], priors, strict=True):
            for method, runs in rows[rows["prior"] == prior].groupby("method", sort=False):
                _trade_off(ax, runs, method)
            reference = cells[(cells["task"] == task) & (cells["prior"] == prior)]
            reference = reference[reference["method"] == "prior"]
            if not reference.empty:
                _trade_off(ax, reference, "prior")
            ax.set(
                xlabel=AXIS_LABELS["basic_return"],
                ylabel=AXIS_LABELS["addon_return"],
                title=f"{prior.upper()} prior",
            )
            ax.legend(title="Method")
        fig.suptitle(f"{task}: ω' trade-off, mean and 95% CI over runs")
        paths += _save(fig, out_dir, f"omega_{task}")
    return paths


def mcts_plots(results: RunResults, out_dir: Path) -> list[Path]:
    """Per task: rql-mcts add-on return and wall time per decision vs the simulation budget."""
    cells = results.cells
    mcts = cells[(cells["method"] == "rql-mcts") & cells["simulations"].notna()]
    paths = []
    for task, rows in mcts.groupby("task", sort=False):
        data = rows.assign(**{"Prior kind": _prior_kind(rows["prior"])})
        budgets = sorted(data["simulations"].unique())
        fig = Figure(figsize=(12, 4.5), layout="constrained")
        for i, (ax, column) in enumerate(zip(fig.subplots(1, 2), MCTS_PANELS, strict=True)):
            sns.lineplot(
                data=data, x="simulations", y=column, style="Prior kind", markers=True,
                color=METHOD_COLORS["rql-mcts"], errorbar=CI, seed=0, legend=i == 1, ax=ax,
            )  # fmt: skip
            ax.set(xscale="log", xlabel=AXIS_LABELS["simulations"], ylabel=AXIS_LABELS[column])
            ax.set(title=TITLES[column], xticks=budgets, xticklabels=[f"{n:g}" for n in budgets])
            ax.minorticks_off()
        _legend_outside(ax)
        fig.suptitle(f"{task}: rql-mcts by simulation budget, mean and 95% CI over runs")
        paths += _save(fig, out_dir, f"mcts_{task}")
    return paths


def _prior_kind(priors: pd.Series) -> pd.Series:
    return priors.str.upper() + " prior"


def _legend_outside(ax: Axes) -> None:
    """Moves the seaborn legend of the figure's last panel (if it drew one) to its right."""
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), frameon=False)


def _binned(points: pd.DataFrame) -> pd.DataFrame:
    """Each run's mean returns in CURVE_BINS equal step bins (x = bin centre)."""
    width = max(points["step"].max(), 1) / CURVE_BINS
    index = np.minimum(points["step"] // width, CURVE_BINS - 1)
    binned = points.assign(step=(index + 0.5) * width)
    return binned.groupby(["cell_id", "step"])[list(RETURNS)].mean().reset_index()


def _label_palette(data: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """Each setting label's colour: its method's, in shades when the method has several."""
    palette = {}
    for method, rows in data.groupby("method", sort=False):
        labels = list(rows["Method"].unique())
        shades = _shades(METHOD_COLORS.get(method, OTHER_METHOD_COLOR), len(labels))
        palette.update(zip(labels, shades, strict=True))
    return palette


def _shades(color: str, count: int) -> list[tuple[float, float, float]]:
    rgb = np.array(to_rgb(color))
    if count == 1:
        return [tuple(rgb)]
    return sns.blend_palette([rgb + (1 - rgb) * 0.5, rgb, rgb * 0.6], count)


def _trade_off(ax: Axes, runs: pd.DataFrame, method: str) -> None:
    """One method's mean basic vs add-on return per ω', with 95% CIs, labelled by ω'."""
    grouped = runs.groupby("omega", dropna=False)[list(RETURNS)]
    means, halves = grouped.mean(), grouped.agg(_ci_half_width)
    prior = method == "prior"
    ax.errorbar(
        means["basic_return"], means["addon_return"], xerr=halves["basic_return"],
        yerr=halves["addon_return"], label=method, capsize=3, marker="*" if prior else "o",
        markersize=12 if prior else 6, color=METHOD_COLORS.get(method, OTHER_METHOD_COLOR),
    )  # fmt: skip
    for omega, x, y in zip(means.index, means["basic_return"], means["addon_return"], strict=True):
        if not pd.isna(omega):
            ax.annotate(f"ω'={omega:g}", (x, y), xytext=(5, 5), textcoords="offset points")


def _ci_half_width(values: pd.Series) -> float:
    """Half-width of the 95% t-interval of the mean (0 for a single value)."""
    if len(values) < 2:
        return 0.0
    return float(scipy.stats.t.ppf(0.975, len(values) - 1) * scipy.stats.sem(values))


def _save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    """Writes the figure as PNG and PDF."""
    return [
        write_atomic(out_dir / f"{stem}.{suffix}", partial(fig.savefig, format=suffix, dpi=150))
        for suffix in FORMATS
    ]
