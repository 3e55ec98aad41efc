"""The speed history: compare a benchmark result with it, record results, write README's table.

    pytest benchmarks --benchmark-only --speed-json speed.json  # measure (benchmarks/conftest.py)
    python -m benchmarks.compare speed.json           # against the newest entry having each value
    python -m benchmarks.compare speed.json --record  # add it to benchmarks/history/, update README
    python -m benchmarks.compare --run --record [-- -k "not highway"]  # measure + record at once
    python -m benchmarks.compare                      # the newest entry against the ones before it
    python -m benchmarks.compare --readme             # rewrite README's table from the history
    python -m benchmarks.compare --check-history      # CI: entries valid, README table up to date

Every value is compared as a speed: a ratio "x" as is when higher is better, a "%" overhead p as
the time ratio 1 + p/100, a lower-is-better value inverted. A checked value whose speed falls more
than --tolerance (15 %) below its baseline is a regression: exit status 1, except with --record,
which makes the result the new baseline. Unchecked values (absolute times) are shown only.
Standard library only, so the CI check takes well under a second.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HISTORY = REPO / "benchmarks" / "history"
README = REPO / "README.md"
START, END = "<!-- speed-table:start -->", "<!-- speed-table:end -->"
TOLERANCE = 0.15
REQUIRED_PACKAGES = ("numpy", "torch", "stable-baselines3")
SHORT_HASH = 10


class HistoryError(ValueError):
    """A history entry or the README block is not what this module writes."""


@dataclass(frozen=True)
class Entry:
    """One benchmark result: a file in benchmarks/history/ or a fresh --speed-json output."""

    path: Path
    data: dict

    @property
    def date(self) -> datetime:
        return datetime.fromisoformat(self.data["date"])

    @property
    def values(self) -> dict[str, dict]:
        return self.data["values"]

    def short(self) -> str:
        return f"{self.data['date'][:10]} ({self.path.name})"


# --- reading and validating -------------------------------------------------------------------


def load_entry(path: Path) -> Entry:
    """Reads and validates one result file; HistoryError names the file and the bad field."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise HistoryError(f"{path}: not a readable JSON result ({error})") from error
    problems = _problems(data)
    if problems:
        raise HistoryError(
            f"{path}: {'; '.join(problems)} (write results with "
            "`pytest benchmarks --benchmark-only --speed-json FILE`)"
        )
    return Entry(Path(path), data)


def _problems(data: object) -> list[str]:
    if not isinstance(data, dict):
        return ["top level is not an object"]
    problems = []
    for field in ("schema", "date", "git", "machine", "packages", "values", "rates"):
        if field not in data:
            problems.append(f"missing field {field!r}")
    if problems:
        return problems
    if data["schema"] != 1:
        problems.append(f"schema {data['schema']!r}, this reader knows schema 1")
    try:
        datetime.fromisoformat(data["date"])
    except (TypeError, ValueError):
        problems.append(f"date {data['date']!r} is not ISO 8601")
    machine = data["machine"]
    if not isinstance(machine.get("cpu"), str) or not isinstance(machine.get("cores"), int):
        problems.append(f"machine {machine!r} needs 'cpu' (text) and 'cores' (integer)")
    missing = [name for name in REQUIRED_PACKAGES if name not in data["packages"]]
    if missing:
        problems.append(f"packages lack {missing}")
    if not data["values"]:
        problems.append("no values")
    for key, record in data["values"].items():
        problems += [f"value {key!r}: {p}" for p in _value_problems(key, record, data["rates"])]
    return problems


def _value_problems(key: str, record: dict, rates: dict) -> list[str]:
    fields = {"label": str, "unit": str, "better": str, "checked": bool}
    problems = [
        f"{name!r} must be {kind.__name__}"
        for name, kind in fields.items()
        if not isinstance(record.get(name), kind)
    ]
    value = record.get("value")
    if not isinstance(value, int | float) or not math.isfinite(value):
        return [*problems, f"value {value!r} is not a finite number"]
    if record.get("better") not in ("higher", "lower"):
        problems.append(f"better {record.get('better')!r}: use 'higher' or 'lower'")
    if record.get("unit") == "%":
        if value <= -100:
            problems.append(f"{value} % is not above -100 %")
    elif value <= 0:
        problems.append(f"{value} is not positive")
    if record.get("unit") == "x":
        num, _, den = key.partition("/")
        if num not in rates or den not in rates:
            problems.append(f"a ratio's key is 'numerator/denominator' of rates; {key!r} is not")
        elif not math.isclose(value, rates[num] / rates[den], rel_tol=1e-9):
            problems.append(f"{value} != rates {num} / {den} = {rates[num] / rates[den]}")
    return problems


def load_history(directory: Path = HISTORY) -> list[Entry]:
    """All entries in `directory`, oldest first; each file name must match its date and commit."""
    entries = [load_entry(path) for path in sorted(Path(directory).glob("*.json"))]
    for entry in entries:
        if not entry.path.name.startswith(entry_stem(entry.data)):
            raise HistoryError(
                f"{entry.path}: name should start with {entry_stem(entry.data)!r} "
                "(<date>-<git hash>); record entries with --record"
            )
    return sorted(entries, key=lambda entry: entry.date)


def entry_stem(data: dict) -> str:
    """`<date>-<short git hash>`, the name of an entry's file without suffix."""
    return f"{data['date'][:10]}-{(data['git'].get('commit') or 'nogit')[:SHORT_HASH]}"


def latest_values(history: list[Entry]) -> dict[str, tuple[dict, Entry]]:
    """Each key's value from the newest entry that measured it, newest entry's keys first."""
    latest: dict[str, tuple[dict, Entry]] = {}
    for entry in reversed(history):
        for key, record in entry.values.items():
            latest.setdefault(key, (record, entry))
    return latest


# --- comparing ---------------------------------------------------------------------------------


def speed(record: dict) -> float:
    """The value as a higher-is-better speed: % overheads as time ratios, lower-better inverted."""
    value = 1 + record["value"] / 100 if record["unit"] == "%" else record["value"]
    return value if record["better"] == "higher" else 1 / value


@dataclass(frozen=True)
class Row:
    key: str
    record: dict
    baseline: tuple[dict, Entry] | None
    change: float | None  # speed(result) / speed(baseline) - 1
    regression: bool


def compare(result: Entry, baselines: dict[str, tuple[dict, Entry]], tolerance: float) -> list[Row]:
    """One row per value of `result`, with its baseline and the relative change of its speed."""
    rows = []
    for key, record in result.values.items():
        baseline = baselines.get(key)
        change = None if baseline is None else speed(record) / speed(baseline[0]) - 1
        regression = change is not None and record["checked"] and change < -tolerance
        rows.append(Row(key, record, baseline, change, regression))
    return rows


def print_comparison(
    result: Entry, rows: list[Row], missing: list[tuple[dict, Entry]], tolerance: float
) -> None:
    """Prints each value beside its baseline, then the regressions."""
    print(f"{result.path}: {describe_run(result.data).replace('**', '')}")
    print(f"regression = a checked value's speed more than {tolerance:.0%} below its baseline\n")
    for row in rows:
        if row.baseline is None:
            status, against = "new (no baseline)", ""
        else:
            status = "REGRESSION" if row.regression else "ok"
            if not row.record["checked"]:
                status = "shown only (not checked)"
            base, entry = row.baseline
            against = f" vs {format_value(base)} in {entry.short()}: {row.change:+.1%}"
        print(f"  {row.record['label']}: {format_value(row.record)}{against}  [{status}]")
    for record, entry in missing:
        print(f"  {record['label']}: not measured here, {format_value(record)} in {entry.short()}")


# --- the README table --------------------------------------------------------------------------


def format_value(record: dict) -> str:
    """The value with its unit, as the README and the comparison show it."""
    value, unit = record["value"], record["unit"]
    if unit == "x":
        return f"{value:.2f}×"
    if unit == "%":
        return f"{value:.1f} %"
    return f"{value:.3g} {unit}"


def _rate(value: float) -> str:
    for scale, suffix in ((1e6, " M"), (1e3, " k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def load_note(data: dict) -> str:
    """Whether the run was measured under load, from the load averages it sampled."""
    load, cores = data.get("load_average_1min"), data["machine"]["cores"]
    if not load:
        return "load not recorded"
    # The benchmarks themselves keep about one core busy.
    loaded = load["mean"] - 1 > 0.25 * cores
    verdict = "**measured under load**" if loaded else "quiet machine"
    return (
        f"{verdict} (1-minute load average {load['mean']:.1f} mean, {load['max']:.1f} max on "
        f"{cores} cores; the benchmarks themselves account for about 1)"
    )


def describe_run(data: dict) -> str:
    """Date, commit, machine, package versions and load of one entry, in one line."""
    commit = (data["git"].get("commit") or "unknown")[:SHORT_HASH]
    dirty = " + uncommitted changes" if data["git"].get("dirty") else ""
    versions = ", ".join(
        f"{'SB3' if name == 'stable-baselines3' else name} {data['packages'][name]}"
        for name in REQUIRED_PACKAGES
    )
    machine = data["machine"]
    threads = machine.get("torch_threads")
    threads = f", {threads} torch thread{'s' if threads > 1 else ''}" if threads else ""
    return (
        f"{data['date'][:10]}, commit `{commit}`{dirty}, {machine['cpu']} ({machine['cores']} "
        f"cores{threads}), Python {machine.get('python', '?')}, {versions}; {load_note(data)}"
    )


def readme_block(history: list[Entry]) -> str:
    """The README's speed table (between the markers) generated from the history."""
    if not history:
        raise HistoryError(f"no entries in {HISTORY}: record one with --run --record")
    newest = history[-1]
    rel = newest.path.name
    lines = [
        "<!-- generated by `python -m benchmarks.compare --readme` from benchmarks/history/; "
        "do not edit by hand -->",
        f"Newest entry [`{rel}`](benchmarks/history/{rel}): {describe_run(newest.data)}.",
    ]
    if newest.data.get("note"):
        lines.append(f"Note: {newest.data['note']}.")
    lines += [
        "",
        "| measurement | result | better | checked | measured as |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, (record, entry) in latest_values(history).items():
        detail = []
        if record["unit"] == "x":
            num, _, den = key.partition("/")
            rates = entry.data["rates"]
            detail.append(f"{_rate(rates[num])} vs {_rate(rates[den])} per s")
        if entry is not newest:
            detail.append(f"from {entry.short()}")
        result = format_value(record)
        lines.append(
            f"| {record['label']} | **{result}** | {record['better']} | "
            f"{'yes' if record['checked'] else 'no'} | {'; '.join(detail) or '-'} |"
        )
    return "\n".join(lines)


def readme_section(text: str, path: Path) -> tuple[int, int]:
    """Start and end offsets of the generated block between the markers in README `text`."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise HistoryError(f"{path}: needs the markers {START} ... {END} in its 'Speed' section")
    return start + len(START) + 1, end


def write_readme(history: list[Entry], path: Path = README) -> bool:
    """Rewrites the block between the markers; True when the README changed."""
    text = path.read_text()
    start, end = readme_section(text, path)
    new = text[:start] + readme_block(history) + "\n" + text[end:]
    path.write_text(new)
    return new != text


def check_history(directory: Path = HISTORY, readme: Path = README) -> list[str]:
    """Problems with the committed history and the README table; empty when both are sound."""
    try:
        history = load_history(directory)
        text = readme.read_text()
        start, end = readme_section(text, readme)
        expected = readme_block(history)
    except HistoryError as error:
        return [str(error)]
    if text[start:end].rstrip("\n") != expected:
        return [
            f"{readme}: the speed table differs from what {history[-1].path.name} generates; "
            "run `python -m benchmarks.compare --readme`"
        ]
    return []


# --- recording and measuring -------------------------------------------------------------------


def record(result: Entry, directory: Path = HISTORY, note: str | None = None) -> Path:
    """Copies `result` into the history as <date>-<git hash>.json (never overwriting)."""
    if result.path.resolve().parent == directory.resolve():
        raise HistoryError(f"{result.path} is already in the history")
    data = dict(result.data)
    if note is not None:
        data["note"] = note
    directory.mkdir(parents=True, exist_ok=True)
    stem, n = entry_stem(data), 1
    path = directory / f"{stem}.json"
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def run_benchmarks(pytest_args: list[str], note: str | None) -> Path:
    """Runs `pytest benchmarks --benchmark-only --speed-json FILE [pytest_args]`; returns FILE."""
    out = Path(tempfile.mkdtemp(prefix="rqlbench-speed-")) / "speed.json"
    # -P: like the `pytest` command, keep the checkout off sys.path, so the benchmarks import the
    # installed rqlbench (after a regular install the source tree's has no built core)
    command = [sys.executable, "-P", "-m", "pytest", "benchmarks", "--benchmark-only"]
    command += ["--speed-json", str(out), *(["--speed-note", note] if note else []), *pytest_args]
    print("$", " ".join(command), flush=True)
    if subprocess.run(command, cwd=REPO).returncode != 0 or not out.exists():
        raise HistoryError(f"the benchmarks failed or wrote no {out}; nothing recorded")
    return out


def baselines_before(history: list[Entry], result: Entry) -> dict[str, tuple[dict, Entry]]:
    """Each key's newest value among entries older than `result` (never `result` itself)."""
    earlier = [
        entry
        for entry in history
        if entry.date < result.date and entry.path.resolve() != result.path.resolve()
    ]
    return latest_values(earlier)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, pytest_args = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("result", nargs="?", type=Path, help="a --speed-json file")
    parser.add_argument(
        "--run", action="store_true", help="measure first (args after -- go to pytest)"
    )
    parser.add_argument("--record", action="store_true", help="add the result to the history")
    parser.add_argument("--note", help="the note stored with a recorded entry")
    parser.add_argument("--readme", action="store_true", help="rewrite README's speed table")
    parser.add_argument("--check-history", action="store_true", help="validate (CI)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--history", type=Path, default=HISTORY, help=argparse.SUPPRESS)
    parser.add_argument("--readme-path", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(own)
    if pytest_args and not args.run:
        parser.error("arguments after -- go to pytest and need --run")
    if args.run and args.result:
        parser.error("give either RESULT or --run, not both")
    if not 0 < args.tolerance < 1:
        parser.error(f"--tolerance {args.tolerance}: use a fraction in (0, 1), e.g. 0.15")
    try:
        return _main(args, pytest_args)
    except HistoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _main(args: argparse.Namespace, pytest_args: list[str]) -> int:
    if args.check_history:
        problems = check_history(args.history, args.readme_path)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        if not problems:
            print(f"{args.history}: entries valid; {args.readme_path.name}'s table is up to date")
        return 1 if problems else 0
    history = load_history(args.history)
    if args.readme and not (args.record or args.run or args.result):
        changed = write_readme(history, args.readme_path)
        print(f"{args.readme_path}: speed table {'rewritten' if changed else 'already up to date'}")
        return 0
    if args.run:
        args.result = run_benchmarks(pytest_args, args.note)
    if args.result is None:
        if not history:
            raise HistoryError(f"no entries in {args.history}")
        result = history[-1]
    else:
        result = load_entry(args.result)
    baselines = baselines_before(history, result)
    rows = compare(result, baselines, args.tolerance)
    missing = [baseline for key, baseline in baselines.items() if key not in result.values]
    print_comparison(result, rows, missing, args.tolerance)
    regressions = [row.record["label"] for row in rows if row.regression]
    if args.record:
        path = record(result, args.history, args.note)
        write_readme(load_history(args.history), args.readme_path)
        print(f"\nrecorded {path} and rewrote the speed table in {args.readme_path}")
        if regressions:
            print(f"recorded as the new baseline despite {len(regressions)} regression(s)")
        return 0
    if regressions:
        print(f"\n{len(regressions)} regression(s): {'; '.join(regressions)}")
        return 1
    print("\nno regression")
    return 0


if __name__ == "__main__":
    sys.exit(main())
