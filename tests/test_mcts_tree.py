"""The exported search tree, and the backup invariant checked at every stored edge.

Invariant: Q_R(s, a) = r̄(s, a) + γ·B(child), where r̄ is the edge's mean add-on reward and
B(c) = 0 for a terminal child, V_R(c) = α̂ logsumexp((Q_R(c, ·) + ω' log π(·|c))/α̂) once c has
been searched (N(c) > 0), and c's rollout estimate R(c) before that.
"""

from __future__ import annotations

import numpy as np
import pytest

from rqlbench.mcts import (
    MCTSConfig,
    TabularMDP,
    Tree,
    search,
    search_batch,
    search_open_loop,
)


def residual_values(tree: Tree, config: MCTSConfig) -> np.ndarray:
    """V_R of every node recomputed from its exported Q_R and log π (NaN: prior never asked)."""
    prior_term = config.omega * tree.log_prior if config.omega > 0 else np.zeros_like(tree.q)
    logits = (tree.q + prior_term) / config.alpha
    top = logits.max(axis=1, keepdims=True)
    return config.alpha * (top[:, 0] + np.log(np.exp(logits - top).sum(axis=1)))


def assert_backup_invariant(tree: Tree, config: MCTSConfig) -> None:
    """Checks the invariant at every stored edge (one per node but the root)."""
    value = residual_values(tree, config)
    searched = tree.node_visits > 0
    np.testing.assert_allclose(tree.node_value[searched], value[searched], rtol=0, atol=1e-9)
    nodes, actions = np.nonzero(tree.child >= 0)
    child = tree.child[nodes, actions]
    below = np.where(searched[child], value[child], tree.node_leaf_value[child])
    below = np.where(tree.node_terminal[child], 0.0, below)
    target = tree.reward[nodes, actions] + config.gamma * below
    error = np.abs(tree.q[nodes, actions] - target)
    assert np.all(np.isfinite(target))
    stale = np.flatnonzero(error > 1e-9)
    assert stale.size == 0, (
        f"{stale.size} of {error.size} edges break Q_R = r̄ + γ·V_R(child); worst "
        f"{error.max():.3g} at node {nodes[error.argmax()]}, action {actions[error.argmax()]}"
    )
    assert error.size == tree.num_nodes - 1 >= 10


def assert_tree_shape(tree: Tree, result, config: MCTSConfig) -> None:
    """The tree agrees with the root statistics and with itself."""
    assert tree.num_nodes == result.num_nodes
    np.testing.assert_array_equal(tree.q[0], result.q)
    np.testing.assert_array_equal(tree.visits[0], result.visits)
    np.testing.assert_array_equal(tree.log_prior[0], result.log_prior)
    assert tree.node_value[0] == pytest.approx(result.value, abs=1e-12)
    assert tree.node_visits[0] == config.num_simulations
    assert tree.node_depth[0] == 0
    inner = tree.node_depth < config.max_depth
    np.testing.assert_array_equal(tree.visits.sum(axis=1)[inner], tree.node_visits[inner])
    parent, action = tree.parents()
    assert parent[0] == -1 and np.all(parent[1:] >= 0)
    np.testing.assert_array_equal(tree.node_depth[1:], tree.node_depth[parent[1:]] + 1)
    np.testing.assert_array_equal(tree.child[parent[1:], action[1:]], np.arange(1, tree.num_nodes))
    untried = tree.visits == 0
    assert np.all(tree.q[untried] == 0.0) and np.all(tree.child[untried] == -1)


class OpenLoopTabular:
    """A live simulator over a TabularMDP; `slip` > 0 makes it stochastic (open-loop protocol).

    With probability `slip` a step lands in a uniformly random state instead of the table's, so
    the states an open-loop node stands for, and the rewards its edges see, vary between visits.
    """

    def __init__(self, mdp: TabularMDP, root: int, slip: float = 0.0, seed: int = 0) -> None:
        self.mdp, self.root, self.state, self.slip = mdp, root, root, slip
        self.num_actions = mdp.num_actions
        self.rng = np.random.default_rng(seed)
        self.slips = 0

    def restore_root(self) -> None:
        self.state = self.root

    def step(self, action: int) -> tuple[float, bool]:
        reward = float(self.mdp.reward[self.state, action])
        self.state = int(self.mdp.next_state[self.state, action])
        if self.slip and self.rng.random() < self.slip:
            self.state = int(self.rng.integers(len(self.mdp.terminal)))
            self.slips += 1
        return reward, bool(self.mdp.terminal[self.state])

    def prior_log_probs(self) -> np.ndarray:
        return self.mdp.log_prior[self.state]


def sparse_mdp(seed: int) -> TabularMDP:
    """Rewards 0 or 1: many edges (and rollouts) return exactly the same value again."""
    mdp = TabularMDP.random(30, 3, seed=seed, terminal_fraction=0.1)
    rng = np.random.default_rng(seed + 100)
    reward = (rng.random(mdp.reward.shape) < 0.3).astype(float)
    return TabularMDP(mdp.next_state, reward, mdp.log_prior, mdp.terminal)


CONFIGS = [
    dict(omega=1.0, alpha=1.0, epsilon=0.1, rollout_depth=3),
    dict(omega=0.5, alpha=0.3, epsilon=0.5, rollout_depth=0),
    dict(omega=0.0, alpha=0.7, epsilon=0.2, rollout_depth=2, num_rollouts=2),
    dict(omega=2.0, alpha=1.5, epsilon=1.0, rollout_depth=0, max_depth=3),
]


def make_config(settings: dict, seed: int) -> MCTSConfig:
    return MCTSConfig(
        **{"num_simulations": 3000, "max_depth": 5, "gamma": 0.9, "seed": seed} | settings
    )


@pytest.mark.parametrize("settings", CONFIGS)
@pytest.mark.parametrize("rewards", ["gaussian", "sparse"])
@pytest.mark.parametrize("kind", ["native", "python"])
def test_closed_loop_backup_invariant(kind, rewards, settings):
    for seed in range(2):
        mdp = TabularMDP.random(40, 4, seed=seed, terminal_fraction=0.15)
        if rewards == "sparse":
            mdp = sparse_mdp(seed)
        model = mdp.native() if kind == "native" else mdp.python()
        config = make_config(settings, seed)
        result = search(model, 0, config, return_tree=True)
        assert_tree_shape(result.tree, result, config)
        assert_backup_invariant(result.tree, config)


@pytest.mark.parametrize("settings", CONFIGS)
@pytest.mark.parametrize("rewards", ["gaussian", "sparse"])
def test_open_loop_deterministic_backup_invariant(rewards, settings):
    for seed in range(2):
        mdp = TabularMDP.random(40, 4, seed=seed, terminal_fraction=0.15)
        if rewards == "sparse":
            mdp = sparse_mdp(seed)
        config = make_config(settings, seed)
        opened = search_open_loop(OpenLoopTabular(mdp, 0), config, return_tree=True)
        assert_tree_shape(opened.tree, opened, config)
        assert_backup_invariant(opened.tree, config)
        # Deterministic: replaying paths builds the closed-loop tree.
        closed = search(mdp.native(), 0, config, return_tree=True).tree
        np.testing.assert_array_equal(opened.tree.q, closed.q)
        np.testing.assert_array_equal(opened.tree.child, closed.child)


@pytest.mark.parametrize("settings", CONFIGS)
@pytest.mark.parametrize("rewards", ["gaussian", "sparse"])
def test_open_loop_stochastic_backup_invariant(rewards, settings):
    """Edge rewards are means over visits here: a changed mean must reach every Q_R above."""
    for seed in range(2):
        mdp = TabularMDP.random(40, 4, seed=seed, terminal_fraction=0.15)
        if rewards == "sparse":
            mdp = sparse_mdp(seed)
        config = make_config(settings, seed)
        model = OpenLoopTabular(mdp, 0, slip=0.3, seed=seed)
        result = search_open_loop(model, config, return_tree=True)
        tree = result.tree
        assert_tree_shape(tree, result, config)
        assert model.slips > 100
        assert_backup_invariant(tree, config)


def test_batch_trees_and_node_cap():
    mdp = TabularMDP.random(60, 4, seed=5, terminal_fraction=0.1)
    config = MCTSConfig(num_simulations=2000, max_depth=6, rollout_depth=2, gamma=0.9, seed=2)
    roots = [0, 7, 13]
    for model in (mdp.native(), mdp.python()):
        results = search_batch(model, roots, config, num_threads=2, return_tree=True)
        for result in results:
            assert_tree_shape(result.tree, result, config)
            assert_backup_invariant(result.tree, config)
    single = search(mdp.native(), roots[0], config, return_tree=True).tree
    np.testing.assert_array_equal(single.q, results[0].tree.q)  # root i: random stream i
    capped = MCTSConfig(**{**config.__dict__, "max_nodes": 50})
    result = search(mdp.native(), 0, capped, return_tree=True)
    tree = result.tree
    assert tree.num_nodes == 50
    assert np.any((tree.child == -1) & (tree.visits > 0)), "the cap left no edge unstored"
    assert_backup_invariant(tree, capped)


def test_tree_only_on_request_and_arrays_are_typed():
    mdp = TabularMDP.random(20, 3, seed=0)
    config = MCTSConfig(num_simulations=100, max_depth=4, rollout_depth=2)
    assert search(mdp.native(), 0, config).tree is None
    tree = search(mdp.native(), 0, config, return_tree=True).tree
    assert isinstance(tree, Tree) and tree.num_actions == 3
    assert tree.q.shape == tree.reward.shape == tree.child.shape == (tree.num_nodes, 3)
    assert tree.node_terminal.dtype == bool and tree.child.dtype == np.int32
    # The root's prior is asked; an unsearched leaf without rollouts is never asked.
    assert np.all(np.isfinite(tree.log_prior[0]))
    bare = search(
        mdp.native(),
        0,
        MCTSConfig(num_simulations=2, max_depth=4, rollout_depth=0),
        return_tree=True,
    ).tree
    assert np.all(np.isnan(bare.log_prior[bare.node_visits == 0]))
