"""The architecture holds at run time: every layer imports alone, the report stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Every package and top-level module of rqlbench, lowest layer first (README, "Layout").
MODULES = [
    "rqlbench.residual", "rqlbench.tasks", "rqlbench.files", "rqlbench.provenance",
    "rqlbench.results_format", "rqlbench.prior_files", "rqlbench.priors", "rqlbench.mcts",
    "rqlbench.algorithms", "rqlbench.zoo", "rqlbench.baselines", "rqlbench.methods",
    "rqlbench.evaluation", "rqlbench.runner", "rqlbench.report", "rqlbench.cli",
]  # fmt: skip
HEAVY = ("torch", "stable_baselines3", "gymnasium", "highway_env", "imitation")


def _python(code: str, cwd: Path) -> str:
    """Runs `code` in a fresh interpreter started outside the checkout; returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# Each layer is imported first in a child forked from one interpreter that holds the third-party
# libraries and no rqlbench module: what is checked, rqlbench's own import order, is the same as
# in a fresh interpreter, without loading torch and SB3 sixteen times (~4 s each).
FORK_PER_MODULE = """
import importlib, os, sys, traceback
for library in {libraries!r}:
    importlib.import_module(library)
assert not [m for m in sys.modules if m.split(".")[0] == "rqlbench"], "rqlbench preloaded"
failed = []
for module in {modules!r}:
    child = os.fork()
    if child == 0:
        try:
            importlib.import_module(module)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    if os.waitpid(child, 0)[1] != 0:
        failed.append(module)
if failed:
    sys.exit("these layers fail to import first (tracebacks above): " + ", ".join(failed))
"""


def test_each_layer_imports_on_its_own_first(tmp_path):
    libraries = (*HEAVY, "pandas", "matplotlib", "seaborn", "scipy")
    code = FORK_PER_MODULE.format(libraries=libraries, modules=MODULES)
    _python(code, tmp_path)  # exits non-zero, with each failing import's traceback


def test_light_registries_do_not_import_the_learners(tmp_path):
    code = (
        "import sys, rqlbench.tasks, rqlbench.methods, rqlbench.runner\n"
        "rqlbench.tasks.task_names(); rqlbench.methods.method_names()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    _python(code, tmp_path)  # exits non-zero, with each failing import's traceback


def test_a_run_checks_its_grid_priors_and_output_before_importing_torch_or_envs(tmp_path):
    # A bad --out (or name, or prior) must fail at once, not after torch, SB3 or the simulators
    # have loaded; a dry run plans the whole grid without them.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    heavy = "('torch', 'stable_baselines3', 'imitation', 'gymnasium', 'highway_env')"
    for args in (
        ["run", "cartpole", "highway", "parking", "--out", str(blocked / "run")],
        ["run", "cartpole", "highway", "--seeds", "5", "--out", str(tmp_path / "r"), "--dry-run"],
        ["tune", "highway", "--out", str(tmp_path / "t"), "--dry-run"],
    ):
        code = (
            f"import sys\nfrom rqlbench.cli import main\nmain({args!r})\n"
            f"print(sorted(m for m in {heavy} if m in sys.modules))"
        )
        assert _python(code, tmp_path).strip().splitlines()[-1] == "[]", args


def _write_run(run_dir: Path) -> None:
    (run_dir / "cells").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("preset: smoke\n")
    for method in ("prior", "rql"):
        for seed in range(2):
            episodes = [
                {"seed": 10_000 + i, "basic_return": 400.0 + i, "success": True, "length": 500,
                 "addon_return": -5.0 * (1 + (method == "prior")) - i, "metric": 0.1 * i}
                for i in range(3)
            ]  # fmt: skip
            cell = {
                "schema": 1, "metric_name": "mean |x|", "metric_higher_is_better": False,
                "cell": {"task": "cartpole", "method": method, "prior": "rl", "seed": seed,
                         "omega": None, "simulations": None},
                "episodes": episodes, "curve": [], "train_seconds": 0.0, "eval_seconds": 1.0,
                "decision_seconds": None,
            }  # fmt: skip
            (run_dir / "cells" / f"{method}{seed}.json").write_text(json.dumps(cell))


def test_rqlbench_report_imports_no_torch_sb3_gymnasium_or_highway_env(tmp_path):
    run_dir = tmp_path / "run"
    _write_run(run_dir)
    code = (
        "import sys\nfrom rqlbench.cli import main\n"
        f"assert main(['report', {str(run_dir)!r}]) == 0\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = _python(code, tmp_path)
    assert out.strip().splitlines()[-1] == "[]"
    assert (run_dir / "report" / "table.md").stat().st_size > 0
