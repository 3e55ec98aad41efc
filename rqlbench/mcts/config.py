"""Hyperparameters of residual max-entropy MCTS."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Literal, cast

from rqlbench import _mcts

ActionSelection = Literal["argmax", "sample", "most_visited"]
_DEFAULT = _mcts.Config()  # every default lives in csrc/mcts/config.h
_DEFAULT_SELECTION = cast(ActionSelection, _DEFAULT.action_selection)


@dataclass(frozen=True)
class MCTSConfig:
    """Residual ME-MCTS settings; invalid values raise ValueError/TypeError at construction.

    The defaults are the C++ core's (csrc/mcts/config.h), read from ``_mcts.Config()``.

    omega: ω' = ω·α, weight of the prior's log-probability (0: plain MENTS on the add-on reward).
    alpha: α̂, temperature of the customized policy.
    epsilon: ε of the MENTS exploration schedule λ_s = min(1, ε|A| / log(N(s) + 1)).
    max_depth: nodes this deep are leaves valued by rollouts.
    rollout_depth / num_rollouts: prior rollouts averaged for a new leaf's value (depth 0: value 0).
    action_selection: root action: argmax of Q_R + ω' log π, a tree-policy sample, or most visited.
    max_nodes: cap on stored nodes (0: num_simulations + 1); a full tree stops growing.
    """

    omega: float = _DEFAULT.omega
    alpha: float = _DEFAULT.alpha
    epsilon: float = _DEFAULT.epsilon
    gamma: float = _DEFAULT.gamma
    num_simulations: int = _DEFAULT.num_simulations
    max_depth: int = _DEFAULT.max_depth
    rollout_depth: int = _DEFAULT.rollout_depth
    num_rollouts: int = _DEFAULT.num_rollouts
    action_selection: ActionSelection = _DEFAULT_SELECTION
    max_nodes: int = _DEFAULT.max_nodes
    seed: int = _DEFAULT.seed

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_type(field.name, getattr(self, field.name), field.type)
        if self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed}")
        self.native()

    def native(self) -> _mcts.Config:
        """The validated C++ configuration."""
        return _mcts.Config(**dataclasses.asdict(self))


def _check_type(name: str, value: object, annotation: object) -> None:
    if annotation == "float":
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        expected = "a number"
    elif annotation == "int":
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        expected = "an integer"
    else:
        ok, expected = isinstance(value, str), "one of 'argmax', 'sample', 'most_visited'"
    if not ok:
        raise TypeError(f"{name} must be {expected}, got {value!r}")
