"""A finished residual ME-MCTS search tree as numpy arrays, for inspection and plots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Tree:
    """The search tree: node 0 is the root; row i of every [N, A] array is node i's edges.

    Per node (shape [N]): ``node_visits`` N(s), ``node_depth`` (root 0), ``node_terminal``,
    ``node_leaf_value`` R (the rollout estimate the node got when it was created; 0 for terminal
    nodes or ``rollout_depth`` 0), ``node_value`` V_R(s) = α̂ logsumexp((Q_R + ω' log π)/α̂) over
    its edges (NaN where the prior was never asked: terminal nodes, leaves never searched).

    Per edge (shape [N, A]): ``log_prior`` log π(a|s) (NaN as above), ``q`` Q_R(s, a), ``reward``
    the mean add-on reward r̄(s, a) over the edge's visits (one sample per visit in open loop),
    ``visits`` N(s, a), ``child`` the child node or -1 (never tried, or not stored because the
    tree reached ``max_nodes``).

    The backup keeps, at every edge with a stored child c:
    Q_R(s, a) = r̄(s, a) + γ·(0 if c is terminal, else V_R(c) if N(c) > 0, else R(c)).

    Example::

        tree = search(model, root, config, return_tree=True).tree
        parent, action = tree.parents()  # the edges of a graph plot (networkx, graphviz)
        visits_by_depth = np.bincount(tree.node_depth, weights=tree.node_visits)
    """

    node_visits: np.ndarray
    node_depth: np.ndarray
    node_terminal: np.ndarray
    node_leaf_value: np.ndarray
    node_value: np.ndarray
    log_prior: np.ndarray
    q: np.ndarray
    reward: np.ndarray
    visits: np.ndarray
    child: np.ndarray

    @property
    def num_nodes(self) -> int:
        """Number of stored nodes N."""
        return int(self.node_visits.shape[0])

    @property
    def num_actions(self) -> int:
        """Number of actions A per node."""
        return int(self.q.shape[1])

    def parents(self) -> tuple[np.ndarray, np.ndarray]:
        """Each node's parent and the action leading to it (-1 for the root)."""
        parent = np.full(self.num_nodes, -1, dtype=np.int32)
        action = np.full(self.num_nodes, -1, dtype=np.int32)
        nodes, actions = np.nonzero(self.child >= 0)
        children = self.child[nodes, actions]
        parent[children], action[children] = nodes, actions
        return parent, action
