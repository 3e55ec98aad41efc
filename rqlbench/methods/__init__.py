"""One interface for every method a benchmark compares: RQL and its competitors.

``run_method(name, MethodRun(...))`` returns a policy with ``predict(obs, deterministic)``. Each
method describes itself in the registry: whether it trains, which grid axes change what it does
(ω', the MCTS simulation budget), whether it plans with the task's planning model, and where its
factory lives (``"module:function"``, imported only when a cell runs, so listing methods or
making a report never imports torch). A new method is one module with a ``make(run)`` function
(e.g. in ``baselines/``) plus one line in ``METHODS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rqlbench.methods.registry import METHODS, Axis, Method, get_method, method_names

if TYPE_CHECKING:
    from rqlbench.methods.common import MethodRun

__all__ = [
    "METHODS",
    "Axis",
    "Method",
    "MethodRun",
    "get_method",
    "method_names",
    "prior_temperature",
    "run_method",
]


def __getattr__(name: str) -> Any:
    # What factories share needs torch and SB3: imported on first use, not with the registry.
    if name in ("MethodRun", "prior_temperature"):
        from rqlbench.methods import common

        return getattr(common, name)
    raise AttributeError(f"module 'rqlbench.methods' has no attribute {name!r}")


def run_method(name: str, run: MethodRun) -> Any:
    """Trains (if the method learns) and returns the policy of method `name` for this cell."""
    method = get_method(name)
    if method.plans and not run.task.offers_planning_model():  # the instance itself
        raise ValueError(
            f"method {name!r} plans with a task's planning model, and the {run.task.name!r} "
            "task offers none: run it on a task that does (see `rqlbench list`)"
        )
    trained_for = getattr(run.prior_model, "rqlbench_task", None)
    if trained_for is not None and trained_for != run.task.name:
        raise ValueError(
            f"the prior was trained for the {trained_for!r} task, not {run.task.name!r}: use "
            f"that task's prior (load_shipped_prior({run.task.name!r}) or rqlbench train-prior)"
        )
    return method.make(run)
