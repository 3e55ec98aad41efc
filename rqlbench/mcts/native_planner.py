"""Residual ME-MCTS on highway with no Python in the loop: the native planning model.

``rqlbench._mcts.HighwayPlanningModel`` (csrc/highway/planning_model.h) is the native twin of
``ResidualModel(HighwayModel, prior, horizon)``: the native simulator stepped on copies with the
task's add-on reward, the prior's MLP on the native Kinematics observation, prior rollouts to the
planning horizon. Each decision imports the live env's state (``native_sim``) and searches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rqlbench import _mcts
from rqlbench.mcts import MCTSConfig
from rqlbench.mcts.native_prior import native_prior
from rqlbench.mcts.planner import Planner
from rqlbench.tasks.highway_native import native_sim

if TYPE_CHECKING:
    from rqlbench.priors import DiscretePrior


def highway_planning_model(prior: DiscretePrior, horizon: int) -> _mcts.HighwayPlanningModel:
    """The native highway planning model over a soft-Q prior's exported MLP."""
    return _mcts.HighwayPlanningModel(native_prior(prior), int(horizon))


class NativeHighwayPlanner(Planner):
    """Residual ME-MCTS over the native highway model, with no Python in the search loop.

    Each decision imports the live env's state (``native_sim``) as the root.
    """

    def __init__(self, prior: DiscretePrior, config: MCTSConfig, horizon: int) -> None:
        super().__init__(highway_planning_model(prior, horizon), config, root=native_sim)


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
