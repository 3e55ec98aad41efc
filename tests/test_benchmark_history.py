"""The speed history (benchmarks/history/): README's table comes from it, and compare catches a
regression beyond 15 % in either direction of "better" while letting 10 % pass."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("benchmarks_compare", ROOT / "benchmarks/compare.py")
compare = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = compare  # dataclasses look their module up while the class is created
SPEC.loader.exec_module(compare)


def run_compare(*args: str) -> subprocess.CompletedProcess:
    """`python -m benchmarks.compare ARGS` from the repository root, as CI runs it."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.compare", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def newest_entry() -> dict:
    return compare.load_history()[-1].data


def a_later_result(data: dict, hours: int = 1) -> dict:
    later = copy.deepcopy(data)
    date = datetime.fromisoformat(data["date"]) + timedelta(hours=hours)
    later["date"] = date.isoformat()
    return later


def test_readme_table_is_what_the_newest_entry_generates():
    text = compare.README.read_text()
    start, end = compare.readme_section(text, compare.README)
    assert text[start:end].rstrip("\n") == compare.readme_block(compare.load_history())
    assert compare.load_history()[-1].path.name in text[start:end]


def test_check_history_passes_on_the_repository():
    result = run_compare("--check-history")
    assert result.returncode == 0, result.stderr


def test_check_history_fails_on_a_hand_edited_table(tmp_path):
    text = compare.README.read_text()
    start, end = compare.readme_section(text, compare.README)
    block = text[start:end]
    edited = block.replace("×", "x", 1)
    assert edited != block
    readme = tmp_path / "README.md"
    readme.write_text(text[:start] + edited + text[end:])
    result = run_compare("--check-history", "--readme-path", str(readme))
    assert result.returncode == 1
    assert "--readme" in result.stderr


def scaled_ratio(data: dict, factor: float) -> tuple[dict, str]:
    """`data` with its first checked ratio's numerator rate (so the ratio) times `factor`."""
    key = next(k for k, v in data["values"].items() if v["unit"] == "x" and v["checked"])
    num, _, den = key.partition("/")
    data["rates"][num] *= factor
    data["values"][key]["value"] = data["rates"][num] / data["rates"][den]
    return data, data["values"][key]["label"]


@pytest.mark.parametrize(("factor", "code"), [(0.8, 1), (0.9, 0), (1.3, 0)])
def test_compare_against_the_newest_entry(tmp_path, factor, code):
    result, label = scaled_ratio(a_later_result(newest_entry()), factor)
    out = run_compare(str(write(tmp_path / "speed.json", result)))
    assert out.returncode == code, out.stdout + out.stderr
    assert (f"{label}: " in out.stdout) and (("REGRESSION" in out.stdout) == (code == 1))


def synthetic_entry(overhead_pct: float, ns: float) -> dict:
    """A minimal valid entry with one lower-is-better % value (checked) and one ns (unchecked)."""
    data = copy.deepcopy(newest_entry())
    data["git"] = {"commit": "0123456789abcdef", "dirty": False}
    data["values"] = {
        "overhead": dict(
            label="overhead", value=overhead_pct, unit="%", better="lower", checked=True
        ),
        "ns": dict(label="ns", value=ns, unit="ns", better="lower", checked=False),
    }
    return data


@pytest.mark.parametrize(
    ("time_factor", "code"),
    [(1.25, 1), (1.1, 0), (0.5, 0)],  # speed 0.8: a 20 % regression; 0.91: 10 %; 2: faster
)
def test_lower_is_better_percent_compares_as_a_time_ratio(tmp_path, time_factor, code):
    history = tmp_path / "history"
    history.mkdir()
    base = synthetic_entry(overhead_pct=10.0, ns=100.0)
    write(history / f"{compare.entry_stem(base)}.json", base)
    # The % overhead p is compared as the time ratio 1 + p/100, so 10 % -> 1.1 * time_factor.
    # The ns value gets 3x worse and is not checked: it cannot fail the comparison.
    result = a_later_result(synthetic_entry((1.1 * time_factor - 1) * 100, 300.0))
    out = run_compare(str(write(tmp_path / "speed.json", result)), "--history", str(history))
    assert out.returncode == code, out.stdout + out.stderr
    assert "ns: 300 ns vs 100 ns" in out.stdout


def test_record_names_the_entry_by_date_and_commit_and_updates_the_table(tmp_path):
    history, readme = tmp_path / "history", tmp_path / "README.md"
    history.mkdir()
    readme.write_text(f"# x\n\n## Speed\n\n{compare.START}\nold table\n{compare.END}\n\nprose\n")
    result = a_later_result(newest_entry())
    out = run_compare(
        str(write(tmp_path / "speed.json", result)),
        "--record",
        "--note",
        "a test",
        "--history",
        str(history),
        "--readme-path",
        str(readme),
    )
    assert out.returncode == 0, out.stderr
    (path,) = history.glob("*.json")
    assert path.name == f"{result['date'][:10]}-{result['git']['commit'][:10]}.json"
    assert json.loads(path.read_text())["note"] == "a test"
    assert "old table" not in readme.read_text() and "prose" in readme.read_text()
    check = run_compare("--check-history", "--history", str(history), "--readme-path", str(readme))
    assert check.returncode == 0, check.stderr


def test_a_ratio_that_disagrees_with_its_rates_is_rejected(tmp_path):
    data = newest_entry()
    key = next(k for k, v in data["values"].items() if v["unit"] == "x")
    data["values"][key]["value"] *= 2
    with pytest.raises(compare.HistoryError, match=key.replace("/", ".")):
        compare.load_entry(write(tmp_path / "bad.json", data))
