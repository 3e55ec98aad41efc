"""What a customization task is, and the one wrapper that puts its rewards on every step.

A task fixes an environment and its configuration, the basic reward r (what the prior was trained
for), the add-on reward r_R (the new requirement), the per-episode task metric and the success
criterion (docs/algorithms.md §5). Every step's ``info`` carries ``basic_reward``, ``addon_reward``
and the metric's raw ingredients, computed once here, so training and evaluation never
recompute them differently. Which reward ``step`` returns is the `reward` argument: the
customizing learner sees only the add-on reward.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import gymnasium as gym
import numpy as np

from rqlbench.tasks.registry import SIMULATORS, planning_task_names, task_config

RewardMode = Literal["addon", "basic", "full"]
REWARD_MODES = ("addon", "basic", "full")
Simulator = Literal["reference", "native"]


@dataclass(frozen=True)
class StepRewards:
    """The task's view of one transition."""

    basic: float
    addon: float
    ingredients: dict[str, float]  # what the metric and success are computed from


class PlanningModel(Protocol):
    """What a task offers a planner: its dynamics, add-on reward and observation on copies.

    States are the model's own objects; `step` never changes the state it is given. A model may
    also offer ``copy(state)`` and ``advance(state, action) -> (addon_reward, ended)`` (in
    place), which rollouts use to avoid a copy per step.
    """

    def root(self, env: gym.Env) -> Any:
        """The state of the live `env` for a decision (a copy: the env is not touched)."""

    def step(self, state: Any, action: int) -> tuple[Any, float, bool]:
        """The next state, the add-on reward r_R, and whether the episode ended there."""

    def observe(self, state: Any) -> np.ndarray:
        """The observation the prior sees in `state`, exactly as the env would give it."""


class Task(ABC):
    """A customization task: env factory, rewards, metric and success criterion."""

    name: str
    metric_name: str  # e.g. "mean |x|", shown in tables
    metric_higher_is_better: bool

    @abstractmethod
    def make_base_env(self, render_mode: str | None = None) -> gym.Env:
        """The configured environment, before the task's reward wrapper."""

    @abstractmethod
    def rewards(self, env: gym.Env, action: Any, base_reward: float, info: dict) -> StepRewards:
        """Basic and add-on reward of the step just taken in `env` (already stepped)."""

    @abstractmethod
    def metric(self, steps: Sequence[dict[str, float]]) -> float:
        """The task metric of one episode from its per-step ingredients."""

    @abstractmethod
    def success(self, steps: Sequence[dict[str, float]], terminated: bool, truncated: bool) -> bool:
        """Whether the episode met the basic task's success criterion."""

    def planning_model(self) -> PlanningModel:
        """The model residual ME-MCTS plans with (tasks that offer one override this)."""
        raise NotImplementedError(
            f"the {self.name!r} task offers no planning model: planning methods run on "
            f"{', '.join(planning_task_names()) or 'no task'}"
        )

    @classmethod
    def offers_planning_model(cls) -> bool:
        """Whether this task overrides `planning_model`."""
        return cls.planning_model is not Task.planning_model

    def make_native_env(self) -> gym.Env:
        """The task's env on a native simulator, for training (tasks with one override this)."""
        raise ValueError(
            f"the {self.name!r} task has no native simulator: use simulator 'reference' "
            f"(its own env); highway has one"
        )

    def config(self) -> dict[str, Any]:
        """Per-method settings from configs/<name>.yaml, with the weights `rqlbench tune` chose
        (read by the registry, which plans run grids without importing the task)."""
        return task_config(self.name)

    def make_env(
        self, reward: RewardMode = "addon", omega: float = 1.0, simulator: Simulator = "reference"
    ) -> gym.Env:
        """The task's env; `step` returns the add-on, basic or full (ω·r + r_R) reward.

        `simulator` "native" trains on the task's native port (evaluation always uses the
        reference env).
        """
        if reward not in REWARD_MODES:
            raise ValueError(f"reward must be one of {REWARD_MODES}, got {reward!r}")
        if simulator not in SIMULATORS:
            raise ValueError(f"simulator must be one of {SIMULATORS}, got {simulator!r}")
        base = self.make_native_env() if simulator == "native" else self.make_base_env()
        return TaskRewardWrapper(base, self, reward, omega)


class TaskRewardWrapper(gym.Wrapper):
    """Computes the task's rewards once per step, records them in info, returns the chosen one."""

    def __init__(self, env: gym.Env, task: Task, reward: RewardMode, omega: float) -> None:
        super().__init__(env)
        self.task, self.reward_mode, self.omega = task, reward, omega

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        obs, base_reward, terminated, truncated, info = self.env.step(action)
        # A native port of the task's env computes the task's rewards with its step.
        r = getattr(self.env.unwrapped, "step_rewards", None)
        if r is None:
            r = self.task.rewards(self.env, action, float(base_reward), info)
        basic, addon = float(r.basic), float(r.addon)
        info = {**info, "basic_reward": basic, "addon_reward": addon, **r.ingredients}
        chosen = {"addon": addon, "basic": basic, "full": self.omega * basic + addon}
        return obs, chosen[self.reward_mode], terminated, truncated, info


def mean_of(steps: Sequence[dict[str, float]], key: str) -> float:
    """Mean of one ingredient over an episode (nan for an empty one)."""
    return float(np.mean([s[key] for s in steps])) if steps else float("nan")
