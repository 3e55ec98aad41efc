"""Residual ME-MCTS on highway with no Python in the loop: the native planning model.

``rqlbench._mcts.HighwayPlanningModel`` (csrc/highway/planning_model.h) is the native twin of
``ResidualModel(HighwayModel, prior, horizon)``: the native simulator stepped on copies with the
task's add-on reward, the prior's MLP on the native Kinematics observation, prior rollouts to the
planning horizon. Each decision imports the live env's state (``native_sim``) and searches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rqlbench import _mcts
from rqlbench.mcts import MCTSConfig, SearchResult, search
from rqlbench.mcts.native_prior import native_prior
from rqlbench.tasks.highway_native import native_sim

if TYPE_CHECKING:
    from rqlbench.priors import DiscretePrior


def highway_planning_model(prior: DiscretePrior, horizon: int) -> _mcts.HighwayPlanningModel:
    """The native highway planning model over a soft-Q prior's exported MLP."""
    return _mcts.HighwayPlanningModel(native_prior(prior), int(horizon))


class NativeHighwayPlanner:
    """A policy that plans each highway decision natively from the live env's state.

    Same interface as ``Planner``: ``bind(env)`` after each reset, then ``predict``; decision k
    searches with seed ``config.seed + k``.
    """

    def __init__(self, prior: DiscretePrior, config: MCTSConfig, horizon: int) -> None:
        self.model = highway_planning_model(prior, horizon)
        self.config = config
        self.env: Any = None
        self.decisions = 0
        self.last_result: SearchResult | None = None

    def bind(self, env: Any) -> None:
        """Plan from `env` (the live episode's env) from now on."""
        self.env = env

    def plan(self, env: Any) -> SearchResult:
        """One native search from `env`'s current state."""
        config = MCTSConfig(**{**self.config.__dict__, "seed": self.config.seed + self.decisions})
        self.decisions += 1
        self.last_result = search(self.model, native_sim(env), config)
        return self.last_result

    def predict(self, observation: Any, deterministic: bool = True) -> tuple[int, None]:
        """The searched action in the bound env's current state."""
        if self.env is None:
            raise RuntimeError("NativeHighwayPlanner.predict needs the env: call bind(env) first")
        return self.plan(self.env).action, None


def make_native_planner(
    task: Any, prior: DiscretePrior, config: MCTSConfig, horizon: int
) -> NativeHighwayPlanner:
    """A native residual ME-MCTS policy; only the highway task has a native planning model."""
    if getattr(task, "name", None) != "highway":
        raise ValueError(
            f"native: true plans with the native highway model, but the task is "
            f"{getattr(task, 'name', task)!r}: set native: false (the task's Python planning model)"
        )
    return NativeHighwayPlanner(prior, config, horizon)
