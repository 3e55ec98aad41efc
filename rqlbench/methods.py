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
from stable_baselines3.common.callbacks import BaseCallback

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
    omega: float | None = None  # ω'; None: ω = 1, i.e. ω' = the prior's temperature α
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of learner arguments
    callback: BaseCallback | None = None  # SB3 callback for the methods that train

    @property
    def discrete(self) -> bool:
        return isinstance(self.prior_model.action_space, spaces.Discrete)

    @property
    def omega_prime(self) -> float:
        """ω' for this cell: as given, or ω·α with ω = 1 and α the prior's own temperature."""
        return prior_temperature(self.prior_model) if self.omega is None else self.omega

    def learner_kwargs(self) -> dict[str, Any]:
        """The prior's learner settings (so α̂ = the prior's α), then the cell's overrides."""
        kwargs = dict(self.task.config()["prior"]["rl"]["learner"])
        if not self.discrete:  # a SAC prior tuned its α: start there, not at SB3's 1.0
            kwargs.setdefault("ent_coef", f"auto_{prior_temperature(self.prior_model)}")
        return copy.deepcopy({**kwargs, **self.settings, "seed": self.seed})


def prior_temperature(model: BaseAlgorithm) -> float:
    """The entropy temperature α a soft-Q or SAC prior was trained with (its last value)."""
    if isinstance(model, SoftQ):
        return model.alpha
    if getattr(model, "log_ent_coef", None) is not None:
        return float(model.log_ent_coef.detach().exp())
    return float(model.ent_coef_tensor)


def _prior(run: MethodRun) -> Any:
    return run.prior_model


def _residual(discrete: type[RSQL], continuous: type[RSAC]) -> Callable:
    def make(run: MethodRun) -> Any:
        cls = discrete if run.discrete else continuous
        env = run.task.make_env(reward="addon")
        prior = prior_from_model(run.prior_model)
        model = cls(prior, env, omega=run.omega_prime, **run.learner_kwargs())
        return model.learn(run.steps, callback=run.callback)

    return make


def _mcts(run: MethodRun) -> Any:
    """Zero-shot residual ME-MCTS (no training): plans each decision on the live env."""
    from rqlbench.mcts import MCTSConfig
    from rqlbench.mcts.highway import HighwayPlanner

    defaults = run.task.config().get("methods", {}).get("rql-mcts", {}).get("settings", {})
    settings = {**defaults, **run.settings}
    horizon = int(settings.pop("horizon", 6))
    alpha = prior_temperature(run.prior_model)
    config = MCTSConfig(**{"omega": run.omega_prime, "alpha": alpha, "seed": run.seed, **settings})
    return HighwayPlanner(prior_from_model(run.prior_model), config, horizon=horizon)


def _full_reward(run: MethodRun) -> Any:
    # ω·r + r_R with ω = ω'/α: the full-reward learner knows r, so it gets the paper's ω.
    omega = run.omega_prime / prior_temperature(run.prior_model)
    env = run.task.make_env(reward="full", omega=omega)
    learner = SoftQ if run.discrete else SAC
    model = learner("MlpPolicy", env, **run.learner_kwargs())
    return model.learn(run.steps, callback=run.callback)


@dataclass(frozen=True)
class Method:
    """A registered method: how to make its policy for a cell, and what it is."""

    make: Callable[[MethodRun], Any]
    trains: bool  # False: the policy exists without training steps (prior, planners)
    description: str
    tasks: tuple[str, ...] | None = None  # None: every task
    uses_prior_policy: bool = True  # False: only the prior's settings (one kind is enough)


METHODS: dict[str, Method] = {
    "prior": Method(_prior, False, "the prior itself, not customized"),
    "rql": Method(_residual(RSQL, RSAC), True, "residual Q-learning: RSQL or RSAC (ours)"),
    # The planner's model is highway-env itself (rqlbench.mcts.highway).
    "rql-mcts": Method(_mcts, False, "zero-shot residual max-entropy MCTS", ("highway",)),
    "greedy": Method(_residual(GreedySQL, GreedySAC), True, "greedy decomposition (eq. 15-17)"),
    "kl-reward": Method(_residual(KLRewardSQL, KLRewardSAC), True, "KL-augmented reward (eq. 18)"),
    "loglik-reward": Method(
        _residual(LoglikRewardSQL, LoglikRewardSAC), True, "r_R + w' log prior (App. F.3)"
    ),
    "full-reward": Method(
        _full_reward, True, "SAC / soft-Q on w*r + r_R, knowing r", uses_prior_policy=False
    ),
}


def method_names() -> list[str]:
    """The registered method names."""
    return list(METHODS)


def get_method(name: str) -> Method:
    """The method registered as `name`; unknown names list the valid ones."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}: choose one of {', '.join(method_names())}")
    return METHODS[name]


def run_method(name: str, run: MethodRun) -> Any:
    """Trains (if the method learns) and returns the policy of method `name` for this cell."""
    method = get_method(name)
    if method.tasks is not None and run.task.name not in method.tasks:
        raise ValueError(
            f"method {name!r} runs on the {', '.join(method.tasks)} task only, "
            f"not {run.task.name!r}"
        )
    trained_for = getattr(run.prior_model, "rqlbench_task", None)
    if trained_for is not None and trained_for != run.task.name:
        raise ValueError(
            f"the prior was trained for the {trained_for!r} task, not {run.task.name!r}: use "
            f"that task's prior (load_shipped_prior({run.task.name!r}) or rqlbench train-prior)"
        )
    return method.make(run)
