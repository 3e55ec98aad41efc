"""Residual max-entropy MCTS in plain Python (lists and ``math``): the oracle and speed reference.

It is the C++ core (csrc/mcts/search.h) written out readably, down to the order in which random
numbers are drawn, so that with the same uniform stream both build the same tree. Closed-loop
models only (``step(state, action)``, ``prior_log_probs(state)``), no custom rollouts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rqlbench.mcts.config import MCTSConfig

REBASE_ABOVE, REBASE_BELOW = 2.0**64, 2.0**-64


@dataclass
class _Node:
    state: Any
    depth: int
    terminal: bool
    visits: int = 0
    value: float = 0.0  # leaf estimate R from rollouts
    log_prior: list[float] | None = None  # asked once, when first needed
    prior_term: list[float] = field(default_factory=list)
    q: list[float] = field(default_factory=list)
    edge_visits: list[int] = field(default_factory=list)
    reward: list[float] = field(default_factory=list)
    children: list[_Node | None] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # exp((Q_R + ω' log π)/α̂ - ref)
    ref_logit: float = 0.0  # weights are exp(logit - ref_logit)
    sum_weights: float = 0.0


@dataclass
class ReferenceResult:
    q: list[float]
    visits: list[int]
    log_prior: list[float]
    tree_policy: list[float]
    policy: list[float]
    value: float
    action: int
    num_nodes: int


class ReferenceMCTS:
    """Pure-Python residual ME-MCTS; ``uniform`` supplies the [0, 1) draws (default: random)."""

    def __init__(
        self, model: Any, config: MCTSConfig, uniform: Callable[[], float] | None = None
    ) -> None:
        self.model, self.config = model, config
        self.num_actions = int(model.num_actions)
        self.inv_alpha = 1.0 / config.alpha
        self.uniform = uniform or random.Random(config.seed).random
        self.capacity = config.max_nodes or config.num_simulations + 1
        if config.max_nodes:
            self.capacity = min(self.capacity, config.max_nodes)

    def search(self, root_state: Any) -> ReferenceResult:
        self.num_nodes = 0
        root = self._new_node(root_state, 0, False)
        for _ in range(self.config.num_simulations):
            self._simulate(root)
        return self._summarize(root)

    def _new_node(self, state: Any, depth: int, terminal: bool) -> _Node:
        self.num_nodes += 1
        n = self.num_actions
        return _Node(
            state,
            depth,
            terminal,
            q=[0.0] * n,
            edge_visits=[0] * n,
            reward=[0.0] * n,
            children=[None] * n,
        )

    def _ensure_prior(self, node: _Node) -> None:
        if node.log_prior is not None:
            return
        node.log_prior = [float(x) for x in self.model.prior_log_probs(node.state)]
        omega = self.config.omega
        node.prior_term = [omega * lp if omega > 0.0 else 0.0 for lp in node.log_prior]
        self._refresh(node)

    def _refresh(self, node: _Node) -> float:
        logits = [(q + p) * self.inv_alpha for q, p in zip(node.q, node.prior_term, strict=True)]
        max_logit = max(logits)
        node.weights = [math.exp(z - max_logit) for z in logits]
        node.ref_logit, node.sum_weights = max_logit, _sum(node.weights)
        return self.config.alpha * (max_logit + math.log(node.sum_weights))

    def _update(self, node: _Node, action: int) -> float:
        # One exp against the node's reference logit, an exact re-sum, one log (see search.h).
        logit = (node.q[action] + node.prior_term[action]) * self.inv_alpha
        weight = math.exp(logit - node.ref_logit)
        if not weight <= REBASE_ABOVE:
            return self._refresh(node)
        node.weights[action] = weight
        total = _sum(node.weights)
        if total < REBASE_BELOW:
            return self._refresh(node)
        node.sum_weights = total
        return self.config.alpha * (node.ref_logit + math.log(total))

    def _mixing(self, visits: int) -> tuple[float, float]:
        """MENTS E2W weight λ_s = min(1, ε|A| / log(N(s) + 1)), and 1 / (1 - λ_s)."""
        if self.config.epsilon == 0.0:
            return 0.0, 1.0
        if visits == 0:
            return 1.0, 0.0
        lam = min(1.0, self.config.epsilon * self.num_actions / math.log(visits + 1.0))
        return lam, (1.0 / (1.0 - lam) if lam < 1.0 else 0.0)

    def _select(self, node: _Node) -> int:
        self._ensure_prior(node)
        lam, rescale = self._mixing(node.visits)
        u = self.uniform()
        if u < lam:
            return min(self.num_actions - 1, int(u / lam * self.num_actions))
        return _pick((u - lam) * rescale * node.sum_weights, node.weights)

    def _simulate(self, root: _Node) -> None:
        path: list[tuple[_Node, int]] = []
        node, leaf_value = root, 0.0
        while True:
            if node.terminal:
                break
            if node.depth == self.config.max_depth:
                leaf_value = node.value
                break
            action = self._select(node)
            path.append((node, action))
            node.edge_visits[action] += 1
            node.visits += 1
            child = node.children[action]
            if child is not None:
                node = child
                continue
            leaf_value = self._expand(node, action)
            break
        self._backup(path, leaf_value)

    def _expand(self, node: _Node, action: int) -> float:
        next_state, reward, terminated = self.model.step(node.state, action)
        node.reward[action] = float(reward)
        if self.num_nodes >= self.capacity:
            if terminated or self.config.rollout_depth == 0:
                return 0.0
            log_prior = [float(x) for x in self.model.prior_log_probs(next_state)]
            return self._leaf_value(next_state, log_prior)
        child = self._new_node(next_state, node.depth + 1, bool(terminated))
        node.children[action] = child
        if terminated or self.config.rollout_depth == 0:
            return 0.0
        self._ensure_prior(child)
        child.value = self._leaf_value(child.state, child.log_prior)
        return child.value

    def _leaf_value(self, state: Any, log_prior: list[float]) -> float:
        total = _sum(self._rollout(state, log_prior) for _ in range(self.config.num_rollouts))
        return total / self.config.num_rollouts

    def _rollout(self, state: Any, log_prior: list[float]) -> float:
        ret, discount = 0.0, 1.0
        for t in range(self.config.rollout_depth):
            if t > 0:
                log_prior = [float(x) for x in self.model.prior_log_probs(state)]
            max_lp = max(log_prior)
            weights = [math.exp(lp - max_lp) for lp in log_prior]
            action = _pick(self.uniform() * _sum(weights), weights)
            state, reward, terminated = self.model.step(state, action)
            ret += discount * float(reward)
            discount *= self.config.gamma
            if terminated:
                break
        return ret

    def _backup(self, path: list[tuple[_Node, int]], leaf_value: float) -> None:
        # Stops at an unchanged Q_R only if its node was searched before: a node's first search
        # switches its parent's target from R to V_R (closed loop: rewards never change).
        value = leaf_value
        for node, action in reversed(path):
            q = node.reward[action] + self.config.gamma * value
            if q == node.q[action] and node.visits > 1:
                return  # nothing above changes either
            node.q[action] = q
            value = self._update(node, action)

    def _summarize(self, root: _Node) -> ReferenceResult:
        lam = self._mixing(root.visits)[0]
        policy = [w / root.sum_weights for w in root.weights]
        tree_policy = [(1.0 - lam) * p + lam / self.num_actions for p in policy]
        scores = [q + p for q, p in zip(root.q, root.prior_term, strict=True)]
        if self.config.action_selection == "most_visited":
            action = root.edge_visits.index(max(root.edge_visits))
        elif self.config.action_selection == "sample":
            action = _pick(self.uniform(), tree_policy)
        else:
            action = scores.index(max(scores))
        return ReferenceResult(
            q=list(root.q),
            visits=list(root.edge_visits),
            log_prior=list(root.log_prior or []),
            tree_policy=tree_policy,
            policy=policy,
            value=self.config.alpha * (root.ref_logit + math.log(root.sum_weights)),
            action=action,
            num_nodes=self.num_nodes,
        )


def _pick(target: float, weights: list[float]) -> int:
    """First index whose cumulative weight exceeds target (the last positive one on round-off)."""
    cumulative, last = 0.0, 0
    for a, w in enumerate(weights):
        if w <= 0.0:
            continue
        cumulative += w
        last = a
        if target < cumulative:
            return a
    return last


def _sum(values: Iterable[float]) -> float:
    """Left-to-right float sum, as in C++ (builtin sum compensates from Python 3.12 on)."""
    total = 0.0
    for v in values:
        total += v
    return total
