"""One interface for every method a benchmark compares: RQL and its competitors.

``run_method(name, task, prior_model, steps, seed)`` returns something with
``predict(obs, deterministic)``. A new method is one factory function plus one line in METHODS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm

from rqlbench.algorithms import RSAC, RSQL, SoftQ
from rqlbench.baselines import (
    GreedySAC,
    GreedySQL,
    KLRewardSAC,
    KLRewardSQL,
    LoglikRewardSAC,
    LoglikRewardSQL,
)
from rqlbench.priors import prior_from_model
from rqlbench.tasks import Task


@dataclass(frozen=True)
class MethodRun:
    """Everything a method needs for one cell."""

    task: Task
    prior_model: BaseAlgorithm  # the prior as a trained SB3 model
    steps: int
    seed: int
    omega: float = 1.0
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of learner arguments

    @property
    def discrete(self) -> bool:
        return isinstance(self.prior_model.action_space, spaces.Discrete)

    def learner_kwargs(self, customized_temperature: bool) -> dict[str, Any]:
        """The prior's learner settings, the α̂ = 1 default of RQL, then the cell's overrides."""
        kwargs = dict(self.task.config()["prior"]["rl"]["learner"])
        if customized_temperature and self.discrete:
            kwargs["alpha"] = 1.0
        return copy.deepcopy({**kwargs, **self.settings, "seed": self.seed})


def _prior(run: MethodRun) -> Any:
    return run.prior_model


def _residual(discrete: type[RSQL], continuous: type[RSAC], customized: bool) -> Callable:
    def make(run: MethodRun) -> Any:
        cls = discrete if run.discrete else continuous
        env = run.task.make_env(reward="addon")
        prior = prior_from_model(run.prior_model)
        model = cls(prior, env, omega=run.omega, **run.learner_kwargs(customized))
        return model.learn(run.steps)

    return make


def _mcts(run: MethodRun) -> Any:
    """Zero-shot residual ME-MCTS (no training): plans each decision on the live env."""
    from rqlbench.mcts import MCTSConfig
    from rqlbench.mcts.highway import HighwayPlanner

    if run.task.name != "highway":
        raise ValueError(
            f"rql-mcts plans with highway-env as its model and runs on the highway task only, "
            f"not {run.task.name!r}"
        )
    settings = {**run.task.config().get("methods", {}).get("rql-mcts", {}), **run.settings}
    horizon = int(settings.pop("horizon", 6))
    config = MCTSConfig(**{"omega": run.omega, "seed": run.seed, **settings})
    return HighwayPlanner(prior_from_model(run.prior_model), config, horizon=horizon)


def _full_reward(run: MethodRun) -> Any:
    env = run.task.make_env(reward="full", omega=run.omega)
    learner = SoftQ if run.discrete else SAC
    return learner("MlpPolicy", env, **run.learner_kwargs(False)).learn(run.steps)


METHODS: dict[str, Callable[[MethodRun], Any]] = {
    "prior": _prior,
    "rql": _residual(RSQL, RSAC, customized=True),
    "rql-mcts": _mcts,
    "greedy": _residual(GreedySQL, GreedySAC, customized=True),
    "kl-reward": _residual(KLRewardSQL, KLRewardSAC, customized=False),
    "loglik-reward": _residual(LoglikRewardSQL, LoglikRewardSAC, customized=False),
    "full-reward": _full_reward,
}


def method_names() -> list[str]:
    """The registered method names."""
    return list(METHODS)


def run_method(name: str, run: MethodRun) -> Any:
    """Trains (if the method learns) and returns the policy of method `name` for this cell."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}: choose one of {', '.join(method_names())}")
    trained_for = getattr(run.prior_model, "rqlbench_task", None)
    if trained_for is not None and trained_for != run.task.name:
        raise ValueError(
            f"the prior was trained for the {trained_for!r} task, not {run.task.name!r}: use "
            f"that task's prior (load_shipped_prior({run.task.name!r}) or rqlbench train-prior)"
        )
    return METHODS[name](run)
