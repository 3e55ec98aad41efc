"""Residual Q-learning's methods, and the prior they customize (paper sections 3-4)."""

from __future__ import annotations

from typing import Any

from rqlbench.algorithms import RSAC, RSQL
from rqlbench.mcts import MCTSConfig
from rqlbench.mcts.native_planner import NativeHighwayPlanner, make_native_planner
from rqlbench.mcts.planner import Planner, make_planner
from rqlbench.methods.common import MethodRun, prior_temperature, residual_method
from rqlbench.zoo import prior_from_model

rql = residual_method(RSQL, RSAC)  # RSQL for discrete actions, RSAC for continuous ones


def prior(run: MethodRun) -> Any:
    """The prior itself, not customized."""
    return run.prior_model


def rql_mcts(run: MethodRun) -> Planner | NativeHighwayPlanner:
    """Zero-shot residual ME-MCTS (no training): plans each decision on the task's model.

    Setting ``native: true`` plans with the native C++ model instead (highway only).
    """
    defaults = run.task.config().get("methods", {}).get("rql-mcts", {}).get("settings", {})
    settings = {**defaults, **run.settings}
    horizon = int(settings.pop("horizon", 6))
    native = settings.pop("native", False)
    if not isinstance(native, bool):
        raise ValueError(f"rql-mcts setting native must be true or false, got {native!r}")
    alpha = prior_temperature(run.prior_model)
    config = MCTSConfig(**{"omega": run.omega_prime, "alpha": alpha, "seed": run.seed, **settings})
    factory = make_native_planner if native else make_planner
    return factory(run.task, prior_from_model(run.prior_model), config, horizon)
