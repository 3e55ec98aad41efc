"""Collects per-benchmark rates so the session ends with the ratios the README quotes."""

from __future__ import annotations

import json
import os

import pytest

RATES: dict[str, float] = {}  # name -> operations per second (mean over rounds)
DERIVED: dict[str, tuple[float, str]] = {}  # label -> (value, unit)
# (label, numerator, denominator) of the rates above, printed at the end of the session.
RATIOS = [
    ("C++ core / pure-Python reference, no rollouts", "cpp_native_tree", "python_reference_tree"),
    ("C++ core / pure-Python reference, 6-step rollouts", "cpp_native_rollouts",
     "python_reference_rollouts"),
    ("C++ core with Python callbacks / pure-Python reference", "cpp_callbacks_rollouts",
     "python_reference_rollouts"),
    ("search_batch 2 threads / 1 thread", "batch_2_threads", "batch_1_thread"),
    ("RSAC / SB3 SAC, gradient updates/s", "rsac_updates", "sb3_sac_updates"),
    ("RSQL / SB3 DQN, gradient updates/s", "rsql_updates", "sb3_dqn_updates"),
    ("SoftQ / SB3 DQN, gradient updates/s", "soft_q_updates", "sb3_dqn_updates"),
    ("highway decision: adapter / rl-agents-style (deepcopy + env.step)", "highway_adapter",
     "highway_rl_agents_style"),
    ("cartpole cell, RSQL / SB3 DQN, env steps/s", "rsql_cell_steps", "sb3_dqn_cell_steps"),
]  # fmt: skip


@pytest.fixture
def record_rate(benchmark):
    """Records ops/s (median round) of a finished benchmark under `name`."""

    def record(name: str, operations_per_call: float) -> float:
        if benchmark.disabled:
            return 0.0
        rate = operations_per_call / benchmark.stats.stats.median
        RATES[name] = rate
        benchmark.extra_info["ops_per_second"] = rate
        return rate

    return record


@pytest.fixture
def record_derived(benchmark):
    """Records a number derived from several measurements (e.g. an overhead in ns)."""

    def record(label: str, value: float, unit: str) -> None:
        if not benchmark.disabled:
            DERIVED[label] = (value, unit)

    return record


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def pytest_terminal_summary(terminalreporter):
    if not RATES:
        return
    lines = [f"{name}: {_number(rate)}/s" for name, rate in sorted(RATES.items())]
    for label, num, den in RATIOS:
        if num in RATES and den in RATES:
            lines.append(f"{label}: {RATES[num] / RATES[den]:.2f}x")
    lines += [f"{label}: {value:.4g} {unit}" for label, (value, unit) in DERIVED.items()]
    terminalreporter.write_sep("=", "rqlbench speed (ratios measured in this run)")
    for line in lines:
        terminalreporter.write_line(line)
    out = os.environ.get("RQLBENCH_SPEED_JSON")
    if out:
        with open(out, "w") as f:
            json.dump({"rates": RATES, "lines": lines}, f, indent=2)
