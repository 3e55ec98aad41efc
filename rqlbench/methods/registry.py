"""The method registry: what each method is, and where its factory lives.

Importing it imports no learner, so listing methods and making a report stay light.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rqlbench.tasks.registry import offers_planning_model  # the registry alone: no gymnasium

if TYPE_CHECKING:
    from rqlbench.methods.common import MethodRun

Axis = Literal["omega", "simulations"]


@dataclass(frozen=True)
class Method:
    """A registered method: what it is, how its policy is made, and what it responds to."""

    description: str
    factory: str  # "module:function" taking a MethodRun and returning the policy
    trains: bool = True  # False: the policy exists without training steps (prior, planners)
    sweeps: tuple[Axis, ...] = ("omega",)  # grid axes that change what the method does
    plans: bool = False  # True: it searches the task's planning model (Task.planning_model)
    uses_prior_policy: bool = True  # False: only the prior's settings (one prior kind is enough)

    def supports(self, task_name: str) -> bool:
        """Whether the method can run on the task named `task_name` (without importing it)."""
        return not self.plans or offers_planning_model(task_name)

    def make(self, run: MethodRun) -> Any:
        """The method's policy for one cell (trained, if the method trains)."""
        module, function = self.factory.split(":")
        return getattr(importlib.import_module(module), function)(run)


METHODS: dict[str, Method] = {
    "prior": Method("the prior itself, not customized", "rqlbench.methods.rql:prior",
                    trains=False, sweeps=()),
    "rql": Method("residual Q-learning: RSQL or RSAC (ours)", "rqlbench.methods.rql:rql"),
    "rql-mcts": Method("zero-shot residual max-entropy MCTS (ours)",
                       "rqlbench.methods.rql:rql_mcts", trains=False,
                       sweeps=("omega", "simulations"), plans=True),
    "greedy": Method("greedy decomposition (eq. 15-17)", "rqlbench.baselines.greedy:make"),
    "kl-reward": Method("KL-augmented reward (eq. 18)", "rqlbench.baselines.kl_reward:make"),
    "loglik-reward": Method("r_R + w' log prior (App. F.3)",
                            "rqlbench.baselines.loglik_reward:make"),
    "full-reward": Method("SAC / soft-Q on w*r + r_R, knowing r",
                          "rqlbench.baselines.full_reward:make", uses_prior_policy=False),
}  # fmt: skip


def method_names() -> list[str]:
    """The registered method names."""
    return list(METHODS)


def get_method(name: str) -> Method:
    """The method registered as `name`; unknown names list the valid ones."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}: choose one of {', '.join(method_names())}")
    return METHODS[name]
