"""Reports of a finished (or partly finished) run: Table 1, aggregate statistics and figures.

``write_report(run_dir)`` writes into RUN/report/: table.md and table.csv (the paper's Table 1
layout with the paper's numbers beside ours), stats.md and stats.csv (rliable aggregates and
probabilities of improvement, see ``rqlbench.report.stats``) and the figures as PNG and PDF.
"""

from __future__ import annotations

from pathlib import Path

from rqlbench.files import write_atomic, write_text
from rqlbench.report.plots import make_plots
from rqlbench.report.results import RunResults, load_run
from rqlbench.report.stats import DEFAULT_REPS, run_statistics, stats_markdown
from rqlbench.report.tables import results_table, table_markdown

__all__ = ["RunResults", "load_run", "summary_markdown", "write_report"]

SUMMARY_FILES = ("table.md", "stats.md")


def write_report(
    run_dir: str | Path, out_dir: str | Path | None = None, reps: int = DEFAULT_REPS
) -> list[Path]:
    """Writes the run's tables, statistics and figures (default RUN/report/); returns the paths."""
    results = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else results.run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    table = results_table(results)
    stats = run_statistics(results.cells, reps=reps)
    return [
        write_text(out / "table.md", f"# Results of {results.run_dir}\n\n{table_markdown(table)}"),
        write_atomic(out / "table.csv", lambda path: table.to_csv(path, index=False)),
        write_text(out / "stats.md", stats_markdown(stats)),
        write_atomic(out / "stats.csv", lambda path: stats.to_csv(path, index=False)),
        *make_plots(results, out),
    ]


def summary_markdown(run_dir: str | Path, out_dir: str | Path | None = None) -> str:
    """The report's tables and statistics as Markdown, for printing after write_report."""
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "report"
    missing = [name for name in SUMMARY_FILES if not (out / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{out} has no {', '.join(missing)}: make the report first (write_report or "
            "`rqlbench report RUN`)"
        )
    return "\n".join((out / name).read_text(encoding="utf-8") for name in SUMMARY_FILES)
