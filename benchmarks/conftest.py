"""Collects per-benchmark rates so the session ends with the ratios the README tracks.

`--speed-json FILE` also writes them as a history entry, which `python -m benchmarks.compare`
compares with `benchmarks/history/` and records there (README, "Speed").
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pytest

RATES: dict[str, float] = {}  # name -> operations per second (median round)
DERIVED: dict[str, tuple[float, str]] = {}  # label -> (value, unit)
LOAD: list[float] = []  # 1-minute load average, sampled at the start and after each benchmark
# (label, numerator, denominator) of the rates above, printed at the end of the session and
# tracked in the history under the key "numerator/denominator" (higher is better).
RATIOS = [
    ("MCTS simulations/s, C++ core / pure-Python reference, no rollouts", "cpp_native_tree",
     "python_reference_tree"),
    ("MCTS simulations/s, C++ core / pure-Python reference, 6-step rollouts",
     "cpp_native_rollouts", "python_reference_rollouts"),
    ("MCTS simulations/s, C++ core with Python callbacks / pure-Python reference, rollouts",
     "cpp_callbacks_rollouts", "python_reference_rollouts"),
    ("MCTS search_batch, 8 roots, 2 threads / 1 thread", "batch_2_threads", "batch_1_thread"),
    ("RSAC / SB3 SAC, gradient updates/s (256x256, batch 256)", "rsac_updates",
     "sb3_sac_updates"),
    ("RSQL / SB3 DQN, gradient updates/s (64x64, batch 32)", "rsql_updates", "sb3_dqn_updates"),
    ("SoftQ / SB3 DQN, gradient updates/s", "soft_q_updates", "sb3_dqn_updates"),
    ("highway decision: adapter / rl-agents-style (deepcopy + env.step)", "highway_adapter",
     "highway_rl_agents_style"),
    ("cartpole cell, RSQL / SB3 DQN, env steps/s", "rsql_cell_steps", "sb3_dqn_cell_steps"),
    ("report statistics, numpy / rliable", "report_stats_numpy", "report_stats_rliable"),
    ("highway policy step, native / highway-env env.step", "highway_native_step",
     "highway_env_step"),
    ("parking policy step, rqlbench's env / highway-env's parking-v0", "parking_step",
     "parking_env_step"),
    ("highway rql-mcts decision with the RL prior (150 simulations, horizon 6), native / Python "
     "adapter", "highway_native_decision", "highway_adapter_decision"),
]  # fmt: skip
# Derived numbers tracked in the history: label as recorded -> (key, better, checked).
# A "%" overhead is compared as the time ratio 1 + p/100. Unchecked values are recorded and
# shown but never fail a comparison: absolute times depend on the machine, and the bare-step
# proxy on the root's traffic.
TRACKED_DERIVED = {
    "Python-callback overhead per env step (beyond the callbacks' own cost)":
        ("mcts_callback_overhead_ns", "lower", False),
    "highway decision: time above the simulator's own time in the search":
        ("highway_overhead_vs_own_simulator_time", "lower", True),
    "highway decision: time above simulator steps x bare _simulate":
        ("highway_overhead_vs_bare_simulate_proxy", "lower", False),
    "highway decision, native rql-mcts with the RL prior (150 simulations, horizon 6): wall time":
        ("highway_native_decision_ms", "lower", False),
    "highway zero-shot episode, native rql-mcts (40 steps, 150 simulations): wall time":
        ("highway_native_mcts_episode_seconds", "lower", False),
}  # fmt: skip
PACKAGES = ("rqlbench", "numpy", "torch", "stable-baselines3", "gymnasium", "highway-env")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Learners run with one torch thread, as the runner runs every cell.

    With torch's default (a thread per core) a loaded 2-core machine turned thread contention into
    the learner ratios (a cartpole cell at 0.07x SB3 under load, 1.0x with one thread).
    """
    import torch

    torch.set_num_threads(1)


def pytest_addoption(parser):
    group = parser.getgroup("rqlbench speed")
    group.addoption(
        "--speed-json",
        metavar="FILE",
        help="write the session's ratios as a benchmark history entry "
        "(then: python -m benchmarks.compare FILE [--record])",
    )
    group.addoption("--speed-note", default="", help="a note stored in the history entry")


def pytest_sessionstart(session):
    LOAD.append(os.getloadavg()[0])


@pytest.fixture
def record_rate(benchmark):
    """Records ops/s (median round) of a finished benchmark under `name`."""

    def record(name: str, operations_per_call: float) -> float:
        if benchmark.disabled:
            return 0.0
        rate = operations_per_call / benchmark.stats.stats.median
        RATES[name] = rate
        benchmark.extra_info["ops_per_second"] = rate
        LOAD.append(os.getloadavg()[0])
        return rate

    return record


@pytest.fixture
def record_derived(benchmark):
    """Records a number derived from several measurements (e.g. an overhead in ns)."""

    def record(label: str, value: float, unit: str) -> None:
        if not benchmark.disabled:
            DERIVED[label] = (value, unit)

    return record


def tracked_values() -> dict[str, dict]:
    """The ratios and tracked derived numbers of this session, by their stable history key."""
    values = {}
    for label, num, den in RATIOS:
        if num in RATES and den in RATES:
            value = RATES[num] / RATES[den]
            values[f"{num}/{den}"] = dict(
                label=label, value=value, unit="x", better="higher", checked=True
            )
    for label, (value, unit) in DERIVED.items():
        if label in TRACKED_DERIVED:
            key, better, checked = TRACKED_DERIVED[label]
            values[key] = dict(label=label, value=value, unit=unit, better=better, checked=checked)
    return values


def history_entry(config) -> dict:
    """Everything a history entry holds: values, rates, machine, packages, git, date, load."""
    now = datetime.now(UTC)
    commit, dirty = _git_state()
    return {
        "schema": 1,
        "date": now.isoformat(timespec="seconds"),
        "git": {"commit": commit, "dirty": dirty},
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch_threads": _torch_threads(),
        },
        "packages": {name: _version(name) for name in PACKAGES},
        "load_average_1min": {"samples": len(LOAD), "mean": _mean(LOAD), "max": max(LOAD)},
        "command": "pytest " + " ".join(config.invocation_params.args),
        "note": config.getoption("speed_note"),
        "values": tracked_values(),
        "rates": dict(sorted(RATES.items())),
        "derived": {label: {"value": v, "unit": u} for label, (v, u) in DERIVED.items()},
    }


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def pytest_terminal_summary(terminalreporter, config):
    if not RATES and not DERIVED:
        return
    LOAD.append(os.getloadavg()[0])
    lines = [f"{name}: {_number(rate)}/s" for name, rate in sorted(RATES.items())]
    for label, num, den in RATIOS:
        if num in RATES and den in RATES:
            lines.append(f"{label}: {RATES[num] / RATES[den]:.2f}x")
    lines += [f"{label}: {value:.4g} {unit}" for label, (value, unit) in DERIVED.items()]
    terminalreporter.write_sep("=", "rqlbench speed (ratios measured in this run)")
    for line in lines:
        terminalreporter.write_line(line)
    out = config.getoption("speed_json")
    if out:
        Path(out).write_text(json.dumps(history_entry(config), indent=2) + "\n")
        terminalreporter.write_line(
            f"history entry written to {out}: python -m benchmarks.compare {out} [--record]"
        )


def _git_state() -> tuple[str | None, bool]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        ).stdout.strip()

    try:
        return git("rev-parse", "HEAD") or None, bool(git("status", "--porcelain"))
    except (OSError, subprocess.TimeoutExpired):
        return None, False


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_threads() -> int | None:
    # Intra-op threads: on a loaded machine, 2 threads made the small learners ~10x slower.
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch else None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
