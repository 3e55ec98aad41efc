"""Residual maximum-entropy MCTS (paper eq. 13-14): a small API over the C++ core.

A model is either the native :class:`TabularModel` (searched without the GIL) or a Python object:

closed loop (:func:`search`), states are opaque objects the tree keeps::

    num_actions: int
    step(state, action) -> (next_state, addon_reward, terminated)
    prior_log_probs(state) -> array of num_actions normalized log-probabilities
    rollout(state, depth, gamma, seed) -> float     # optional: the leaf's return-to-go estimate

open loop (:func:`search_open_loop`), for simulators without cheap state copies::

    num_actions: int
    restore_root() -> None                  # put the simulator back at the root state
    step(action) -> (addon_reward, terminated)
    prior_log_probs() -> array              # at the simulator's current state
    rollout(depth, gamma, seed) -> float    # optional

Every search takes ``return_tree=True`` to also return the whole tree as ``result.tree``, a
:class:`Tree` of numpy arrays (per node visits, depth, values; per edge Q_R, visits, mean reward,
child, prior log-probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rqlbench import _mcts
from rqlbench._mcts import SearchResult, TabularModel
from rqlbench.mcts.config import MCTSConfig
from rqlbench.mcts.tabular import PythonTabularModel, TabularMDP
from rqlbench.mcts.tree import Tree

__all__ = [
    "MCTSConfig",
    "PythonTabularModel",
    "SearchResult",
    "TabularMDP",
    "TabularModel",
    "Tree",
    "search",
    "search_batch",
    "search_open_loop",
]


def search(model: Any, root: Any, config: MCTSConfig, *, return_tree: bool = False) -> SearchResult:
    """Runs one residual ME-MCTS search from `root` and returns the root's statistics.

    ``return_tree``: the result also carries the whole tree as ``result.tree`` (a :class:`Tree`).
    """
    return _mcts.search(model, root, config.native(), return_tree)


def search_batch(
    model: Any,
    roots: Sequence[Any],
    config: MCTSConfig,
    num_threads: int = 0,
    *,
    return_tree: bool = False,
) -> list[SearchResult]:
    """Searches many independent roots; native models use `num_threads` (0: all cores).

    Root i uses random stream i, so results do not depend on the number of threads, and
    ``search_batch(m, [r], c)[0]`` equals ``search(m, r, c)``. Python models run one root after
    another (their callbacks need the GIL). ``return_tree``: each result carries its ``tree``.
    """
    if num_threads < 0:
        raise ValueError(f"num_threads must be >= 0 (0: all cores), got {num_threads}")
    return _mcts.search_batch(model, list(roots), config.native(), num_threads, return_tree)


def search_open_loop(model: Any, config: MCTSConfig, *, return_tree: bool = False) -> SearchResult:
    """Searches from the model's root snapshot, replaying each simulated path from the root.

    ``return_tree``: the result carries the tree; its rewards are means over each edge's visits.
    """
    return _mcts.search_open_loop(model, config.native(), return_tree)
