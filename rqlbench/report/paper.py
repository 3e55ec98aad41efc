"""The paper's Table 1 as data (paper_table1.yaml beside this file), keyed like our cells."""

from __future__ import annotations

from importlib import resources

import pandas as pd
import yaml

MEAN_STD = ("basic", "metric", "addon")  # each a [mean, std] pair in the YAML
PAPER_COLUMNS = (
    "success_rate",
    "basic_mean",
    "basic_std",
    "metric_mean",
    "metric_std",
    "addon_mean",
    "addon_std",
)


def paper_table() -> pd.DataFrame:
    """One row per Table 1 row: task, method, prior, paper_row and PAPER_COLUMNS."""
    text = resources.files(__package__).joinpath("paper_table1.yaml").read_text(encoding="utf-8")
    rows = []
    for task, entries in yaml.safe_load(text).items():
        for entry in entries:
            row = {"task": task, "method": entry["method"], "prior": entry["prior"]}
            row["paper_row"] = entry["row"]
            row["success_rate"] = entry["success"]
            for statistic in MEAN_STD:
                row[f"{statistic}_mean"], row[f"{statistic}_std"] = entry[statistic]
            rows.append(row)
    return pd.DataFrame(rows).astype({column: float for column in PAPER_COLUMNS})
