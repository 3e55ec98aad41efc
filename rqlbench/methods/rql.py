"""Residual Q-learning's methods, and the prior they customize (paper sections 3-4)."""

from __future__ import annotations

from typing import Any

from rqlbench.algorithms import RSAC, RSQL
from rqlbench.mcts import MCTSConfig
from rqlbench.mcts.planner import Planner, make_planner
from rqlbench.methods.common import MethodRun, prior_temperature, residual_method
from rqlbench.zoo import prior_from_model

rql = residual_method(RSQL, RSAC)  # RSQL for discrete actions, RSAC for continuous ones


def prior(run: MethodRun) -> Any:
    """The prior itself, not customized."""
    return run.prior_model


def rql_mcts(run: MethodRun) -> Planner:
    """Zero-shot residual ME-MCTS (no training): plans each decision on the task's model."""
    defaults = run.task.config().get("methods", {}).get("rql-mcts", {}).get("settings", {})
    settings = {**defaults, **run.settings}
    horizon = int(settings.pop("horizon", 6))
    alpha = prior_temperature(run.prior_model)
    config = MCTSConfig(**{"omega": run.omega_prime, "alpha": alpha, "seed": run.seed, **settings})
    return make_planner(run.task, prior_from_model(run.prior_model), config, horizon)
