"""Zero-shot residual ME-MCTS as a policy: plan every decision from the live env's state.

A task offers a planning model (its dynamics, add-on reward and observation; see
``rqlbench.tasks.base.PlanningModel``); :class:`ResidualModel` adds the prior's log-probabilities
and prior rollouts, which is what the core searches; :class:`Planner` searches from each state
of an episode and acts in the real env.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from rqlbench.mcts import MCTSConfig, SearchResult, search

if TYPE_CHECKING:  # the planner calls the prior's log_probs; mcts sits beside priors
    from rqlbench.priors import DiscretePrior


class Node(NamedTuple):
    """A tree state: the planning model's state and its depth below the root."""

    state: Any
    depth: int


class ResidualModel:
    """The closed-loop model the core searches: a task's planning model plus the prior."""

    def __init__(self, dynamics: Any, prior: DiscretePrior, horizon: int) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1 (steps planned ahead), got {horizon}")
        self.dynamics, self.prior, self.horizon = dynamics, prior, horizon
        self.num_actions = int(prior.action_space.n)

    def root(self, env: Any) -> Node:
        """The root node for a decision in the live `env`."""
        return Node(self.dynamics.root(env), 0)

    def step(self, node: Node, action: int) -> tuple[Node, float, bool]:
        state, reward, ended = self.dynamics.step(node.state, action)
        return Node(state, node.depth + 1), reward, ended

    def prior_log_probs(self, node: Node) -> np.ndarray:
        return self._log_probs(node.state)

    def _log_probs(self, state: Any) -> np.ndarray:
        return self.prior.log_probs_of(self.dynamics.observe(state))

    def rollout(self, node: Node, depth: int, gamma: float, seed: int) -> float:
        """Discounted add-on return of the prior from `node` to the planning horizon."""
        steps = min(depth, self.horizon - node.depth)
        rng = np.random.default_rng(seed)
        in_place = hasattr(self.dynamics, "advance")
        state = self.dynamics.copy(node.state) if in_place and steps > 0 else node.state
        ret, discount = 0.0, 1.0
        for _ in range(steps):  # the prior's action, sampled by Gumbel-max
            action = int(np.argmax(self._log_probs(state) + rng.gumbel(size=self.num_actions)))
            if in_place:
                reward, ended = self.dynamics.advance(state, action)
            else:
                state, reward, ended = self.dynamics.step(state, action)
            ret += discount * reward
            discount *= gamma
            if ended:
                break
        return ret


class Planner:
    """A policy that plans each decision with residual ME-MCTS from the live env's state.

    ``predict(obs)`` needs the env: call ``bind(env)`` after each reset (evaluate() does).
    Decision k searches with seed ``config.seed + k``. `root(env)` gives the search's root state
    (default: the model's own ``root``; a native model takes an imported simulator).
    """

    def __init__(
        self, model: Any, config: MCTSConfig, root: Callable[[Any], Any] | None = None
    ) -> None:
        self.model, self.config = model, config
        self.root = root or model.root
        self.env: Any = None
        self.decisions = 0
        self.planning_seconds = 0.0  # root import + search, summed over decisions
        self.last_result: SearchResult | None = None

    def bind(self, env: Any) -> None:
        self.env = env

    def plan(self, env: Any) -> SearchResult:
        """One search from `env`'s current state."""
        config = dataclasses.replace(self.config, seed=self.config.seed + self.decisions)
        self.decisions += 1
        start = time.perf_counter()
        self.last_result = search(self.model, self.root(env), config)
        self.planning_seconds += time.perf_counter() - start
        return self.last_result

    def predict(self, observation: Any, deterministic: bool = True) -> tuple[int, None]:
        if self.env is None:
            raise RuntimeError(f"{type(self).__name__}.predict needs the env: call bind(env) first")
        return self.plan(self.env).action, None


def make_planner(task: Any, prior: DiscretePrior, config: MCTSConfig, horizon: int) -> Planner:
    """A residual ME-MCTS policy over `task`'s planning model."""
    return Planner(ResidualModel(task.planning_model(), prior, horizon), config)
