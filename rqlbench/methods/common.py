"""What every method's factory gets for a cell, and the shared way to build a residual learner."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from rqlbench.algorithms import RSAC, RSQL, SoftQ
from rqlbench.tasks import Task
from rqlbench.tasks.base import RewardMode, Simulator
from rqlbench.zoo import prior_from_model


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
    simulator: Simulator = "reference"  # what learners train on; evaluation is always reference

    @property
    def discrete(self) -> bool:
        return isinstance(self.prior_model.action_space, spaces.Discrete)

    @property
    def omega_prime(self) -> float:
        """ω' for this cell: as given, or ω·α with ω = 1 and α the prior's own temperature."""
        return prior_temperature(self.prior_model) if self.omega is None else self.omega

    def make_env(self, reward: RewardMode, omega: float = 1.0) -> gym.Env:
        """The cell's training env on its simulator, returning the `reward` a learner sees."""
        return self.task.make_env(reward, omega, simulator=self.simulator)

    def learner_kwargs(self) -> dict[str, Any]:
        """The prior recipe's learner settings with α̂ as the task's YAML states, then overrides.

        The prior's own temperature setting (soft-Q's `alpha`, SAC's `ent_coef`) never carries
        over: α̂ is `customization.alpha_hat` (see `temperature_kwargs`).
        """
        kwargs = dict(self.task.config()["prior"]["rl"]["learner"])
        for prior_temperature_setting in ("alpha", "ent_coef"):
            kwargs.pop(prior_temperature_setting, None)
        kwargs.update(self.temperature_kwargs())
        return copy.deepcopy({**kwargs, **self.settings, "seed": self.seed})

    def temperature_kwargs(self) -> dict[str, Any]:
        """α̂ as learner arguments: soft-Q's fixed `alpha`, SAC's `ent_coef` (fixed or auto-tuned).

        `customization.alpha_hat` in the task's YAML is a positive number (fixed α̂) or "auto"
        (SAC only: tuned as in SAC, starting at the prior's α).
        """
        value = self.task.config().get("customization", {}).get("alpha_hat")
        if value == "auto" and not self.discrete:
            return {"ent_coef": f"auto_{prior_temperature(self.prior_model)}"}
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return {"alpha": float(value)} if self.discrete else {"ent_coef": float(value)}
        choices = "a positive number (fixed α̂)"
        if not self.discrete:
            choices = '"auto" (tuned as in SAC from the prior\'s α) or ' + choices
        raise ValueError(
            f"{self.task.name}: customization.alpha_hat is {value!r}; the "
            f"{'soft-Q' if self.discrete else 'SAC'} learners need {choices}: set it in "
            f"rqlbench/tasks/configs/{self.task.name}.yaml"
        )


def prior_temperature(model: BaseAlgorithm) -> float:
    """The entropy temperature α a soft-Q or SAC prior was trained with (its last value)."""
    if isinstance(model, SoftQ):
        return model.alpha
    if getattr(model, "log_ent_coef", None) is not None:
        return float(model.log_ent_coef.detach().exp())
    return float(model.ent_coef_tensor)


def residual_method(discrete: type[RSQL], continuous: type[RSAC]) -> Callable[[MethodRun], Any]:
    """A factory training `discrete` or `continuous` (by action space) from the prior on r_R."""

    def make(run: MethodRun) -> Any:
        cls = discrete if run.discrete else continuous
        env = run.make_env(reward="addon")
        prior = prior_from_model(run.prior_model)
        model = cls(prior, env, omega=run.omega_prime, **run.learner_kwargs())
        return model.learn(run.steps, callback=run.callback)

    return make
