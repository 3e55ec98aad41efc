"""Report text: numbers as the paper prints them, Markdown tables."""

from __future__ import annotations

import math

import pandas as pd

MISSING = "—"


def number(value: float | None) -> str:
    """Two decimals as the paper prints them; three significant digits below 1 (e.g. 0.0691)."""
    if value is None or math.isnan(value):
        return MISSING
    return f"{value:.3g}" if 0 < abs(value) < 1 else f"{value:.2f}"


def plain(value: float | None) -> str:
    """A setting or count as written: 0.01, 50, 4000."""
    return MISSING if value is None or math.isnan(value) else f"{value:g}"


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals."""
    return MISSING if value is None or math.isnan(value) else f"{100 * value:.2f}%"


def mean_std(mean: float | None, std: float | None) -> str:
    """'mean ± std', or the mean alone when there is no std."""
    if std is None or math.isnan(std) or mean is None or math.isnan(mean):
        return number(mean)
    return f"{number(mean)} ± {number(std)}"


def estimate_ci(estimate: float, low: float, high: float) -> str:
    """'estimate [low, high]'."""
    return f"{number(estimate)} [{number(low)}, {number(high)}]"


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame of strings as a GitHub Markdown table (pipes in cells escaped)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    rows = [line(list(frame.columns)), line(["---"] * len(frame.columns))]
    rows += [line(list(row)) for row in frame.itertuples(index=False)]
    return "\n".join(rows) + "\n"
