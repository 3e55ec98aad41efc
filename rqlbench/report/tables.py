"""The paper's Table 1 layout for a run: per task and prior kind, one row per method setting."""

from __future__ import annotations

import pandas as pd

from rqlbench.report.output import markdown_table, mean_std, percent, plain
from rqlbench.report.paper import PAPER_COLUMNS, paper_table
from rqlbench.report.results import SETTING_KEYS, RunResults, is_rate_metric, ordered

STATISTICS = {"basic": "basic_return", "metric": "metric", "addon": "addon_return"}


def results_table(results: RunResults) -> pd.DataFrame:
    """Table 1 in numbers: per setting, success rate and mean/std over all its episodes."""
    grouped = results.episodes.groupby(list(SETTING_KEYS), dropna=False)
    table = grouped.agg(
        seeds=("seed", "nunique"), episodes=("success", "size"), success_rate=("success", "mean")
    )
    for name, column in STATISTICS.items():
        table[f"{name}_mean"] = grouped[column].mean()
        table[f"{name}_std"] = grouped[column].std(ddof=0)
    metrics = results.cells.groupby("task")[["metric_name", "metric_higher_is_better"]].first()
    table = table.reset_index().join(metrics, on="task")
    paper = paper_table().drop(columns="paper_row")
    paper = paper.rename(columns={column: f"paper_{column}" for column in PAPER_COLUMNS})
    return ordered(table.merge(paper, on=["task", "method", "prior"], how="left"))


def table_markdown(table: pd.DataFrame) -> str:
    """One Markdown table per task, rows in display order, the paper's numbers beside ours."""
    sections = []
    for task, rows in table.groupby("task", sort=False):
        direction = "higher" if rows["metric_higher_is_better"].iloc[0] else "lower"
        title = f"### {task}: {rows['metric_name'].iloc[0]} ({direction} is better)"
        sections.append(f"{title}\n\n{markdown_table(_display(rows))}")
    return "\n".join(sections)


def _display(rows: pd.DataFrame) -> pd.DataFrame:
    """A task's rows as the strings of its Markdown table."""
    columns = {
        "Prior": rows["prior"].str.upper(),
        "Method": rows["method"],
        "ω'": rows["omega"].map(plain),
    }
    if rows["simulations"].notna().any():
        columns["MCTS simulations"] = rows["simulations"].map(plain)
    columns["Seeds"] = rows["seeds"].map(plain)
    columns["Episodes"] = rows["episodes"].map(plain)
    with_paper = rows["paper_success_rate"].notna().any()
    headers = {"success": "Success", "basic": "Basic reward", "addon": "Add-on reward"}
    headers = {**headers, "metric": rows["metric_name"].iloc[0]}
    for statistic in ("success", "basic", "metric", "addon"):
        columns[headers[statistic]] = _statistic(rows, "", statistic)
        if with_paper:
            columns[f"{headers[statistic]} (paper)"] = _statistic(rows, "paper_", statistic)
    return pd.DataFrame(columns)


def _statistic(rows: pd.DataFrame, prefix: str, statistic: str) -> pd.Series:
    """One statistic as text: rates as percentages, everything else as mean ± std."""
    if statistic == "success":
        return rows[f"{prefix}success_rate"].map(percent)
    if statistic == "metric" and is_rate_metric(rows["metric_name"].iloc[0]):
        return rows[f"{prefix}metric_mean"].map(percent)
    means, stds = rows[f"{prefix}{statistic}_mean"], rows[f"{prefix}{statistic}_std"]
    return pd.Series(map(mean_std, means, stds), index=rows.index)
