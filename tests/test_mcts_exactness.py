"""Residual ME-MCTS: docs/algorithms.md §4.2, MENTS as the ω' = 0 case, and the Python oracle."""

import itertools

import numpy as np
import pytest
import torch

from rqlbench import _mcts, residual
from rqlbench.mcts import MCTSConfig, TabularMDP, search, search_batch, search_open_loop
from rqlbench.mcts.reference import ReferenceMCTS


def exact_root_q(mdp: TabularMDP, root: int, config: MCTSConfig) -> np.ndarray:
    q = residual.finite_horizon_residual_soft_q(
        torch.as_tensor(mdp.next_state),
        torch.as_tensor(mdp.reward),
        torch.as_tensor(mdp.log_prior),
        torch.as_tensor(mdp.terminal),
        config.omega,
        config.alpha,
        config.gamma,
        horizon=config.max_depth,
    )
    return q[root].numpy()


class OpenLoopTabular:
    """A live simulator over a TabularMDP that only the search moves (open-loop protocol)."""

    def __init__(self, mdp: TabularMDP, root: int) -> None:
        self.model, self.root, self.state = mdp.python(), root, root
        self.num_actions = mdp.num_actions

    def restore_root(self) -> None:
        self.state = self.root

    def step(self, action: int) -> tuple[float, bool]:
        self.state, reward, terminated = self.model.step(self.state, action)
        return reward, terminated

    def prior_log_probs(self) -> np.ndarray:
        return self.model.prior_log_probs(self.state)


EXACT = dict(epsilon=1.0, gamma=0.9, rollout_depth=0, seed=3)


def random_mdp(
    num_states: int, num_actions: int, seed: int, rewards: str, terminal_fraction: float = 0.15
) -> TabularMDP:
    """N(0, 1) rewards, or sparse ones (0 or 1: the same Q_R comes out again and again)."""
    mdp = TabularMDP.random(num_states, num_actions, seed=seed, terminal_fraction=terminal_fraction)
    if rewards == "gaussian":
        return mdp
    sparse = (np.random.default_rng(seed + 100).random(mdp.reward.shape) < 0.3).astype(float)
    return TabularMDP(mdp.next_state, sparse, mdp.log_prior, mdp.terminal)


@pytest.mark.parametrize("rewards", ["gaussian", "sparse"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("omega", "alpha"), [(1.0, 1.0), (0.4, 0.3), (2.5, 2.0)])
def test_invariant_2_native_model_reaches_exact_finite_horizon_q(seed, omega, alpha, rewards):
    # Sparse rewards caught a backup that stopped at an unchanged Q_R below a node searched for
    # the first time, leaving the parent at r + γR instead of r + γV_R.
    mdp = random_mdp(40, 4, seed, rewards)
    config = MCTSConfig(omega=omega, alpha=alpha, max_depth=5, num_simulations=60_000, **EXACT)
    result = search(mdp.native(), 0, config)
    np.testing.assert_allclose(result.q, exact_root_q(mdp, 0, config), rtol=0, atol=1e-6)
    expected_value = residual.residual_soft_value(
        torch.as_tensor(result.q), torch.as_tensor(mdp.log_prior[0]), omega, alpha
    )
    assert result.value == pytest.approx(expected_value.item(), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_invariant_2_python_callback_and_open_loop_models(seed):
    mdp = TabularMDP.random(30, 3, seed=seed, terminal_fraction=0.1)
    config = MCTSConfig(omega=0.7, alpha=0.5, max_depth=4, num_simulations=8_000, **EXACT)
    exact = exact_root_q(mdp, 0, config)
    closed = search(mdp.python(), 0, config)
    opened = search_open_loop(OpenLoopTabular(mdp, 0), config)
    np.testing.assert_allclose(closed.q, exact, rtol=0, atol=1e-6)
    np.testing.assert_allclose(opened.q, exact, rtol=0, atol=1e-6)
    # Same random stream, deterministic model: the three paths build the same tree.
    native = search(mdp.native(), 0, config)
    for other in (closed, opened):
        np.testing.assert_array_equal(other.visits, native.visits)
        np.testing.assert_array_equal(other.q, native.q)


def test_zero_omega_is_ments_on_the_addon_reward():
    mdp = TabularMDP.random(30, 4, seed=7, terminal_fraction=0.1)
    other_prior = TabularMDP.random(30, 4, seed=8).log_prior
    config = MCTSConfig(omega=0.0, alpha=0.6, max_depth=4, num_simulations=20_000, **EXACT)
    result = search(mdp.native(), 0, config)
    # Plain soft (MENTS) backup of r_R: Q = r_R + γ α̂ logsumexp(Q'/α̂), terminal states 0.
    value = torch.zeros(30, dtype=torch.float64)
    next_state, terminal = torch.as_tensor(mdp.next_state), torch.as_tensor(mdp.terminal)
    for _ in range(config.max_depth):
        q = torch.as_tensor(mdp.reward) + 0.9 * torch.where(
            terminal[next_state], 0.0, value[next_state]
        )
        value = residual.soft_value(q, 0.6)
    np.testing.assert_allclose(result.q, q[0].numpy(), rtol=0, atol=1e-6)
    # Without rollouts the prior plays no role at all when ω' = 0.
    swapped = TabularMDP(mdp.next_state, mdp.reward, other_prior, mdp.terminal)
    np.testing.assert_array_equal(search(swapped.native(), 0, config).q, result.q)


SETTINGS = [
    dict(omega=1.0, alpha=1.0, epsilon=0.1),
    dict(omega=0.0, alpha=0.5, epsilon=0.0, rollout_depth=3),
    dict(omega=2.0, alpha=0.3, epsilon=1.0, rollout_depth=4, num_rollouts=3),
    dict(omega=0.5, alpha=2.0, epsilon=0.2, max_nodes=40, rollout_depth=2),
    dict(omega=1.5, alpha=0.7, epsilon=0.05, action_selection="sample", rollout_depth=1),
    dict(omega=1.0, alpha=1.0, epsilon=0.3, action_selection="most_visited", max_depth=2),
]


@pytest.mark.parametrize(
    ("settings", "seed", "rewards"),
    list(itertools.product(SETTINGS, range(3), ["gaussian", "sparse"])),
)
def test_cpp_core_matches_python_reference_draw_for_draw(settings, seed, rewards):
    mdp = random_mdp(25, 4, seed, rewards, terminal_fraction=0.2)
    config = MCTSConfig(
        **{"gamma": 0.95, "max_depth": 5, "num_simulations": 1500, "rollout_depth": 0, "seed": seed}
        | settings
    )
    native = search(mdp.native(), 0, config)
    reference = ReferenceMCTS(
        mdp.python(), config, uniform=_mcts.Random(config.seed, 0).uniform
    ).search(0)
    assert native.num_nodes == reference.num_nodes
    assert native.action == reference.action
    np.testing.assert_array_equal(native.visits, reference.visits)
    for name in ("q", "policy", "tree_policy", "log_prior"):
        np.testing.assert_allclose(getattr(native, name), getattr(reference, name), atol=1e-12)
    assert native.value == pytest.approx(reference.value, abs=1e-12)


def test_root_outputs_are_consistent():
    mdp = TabularMDP.random(50, 5, seed=1)
    config = MCTSConfig(omega=0.8, alpha=0.4, epsilon=0.2, num_simulations=3000, max_depth=6)
    r = search(mdp.native(), 0, config)
    assert r.visits.sum() == config.num_simulations
    assert r.policy.sum() == pytest.approx(1.0) and r.tree_policy.sum() == pytest.approx(1.0)
    expected = residual.customized_policy(
        torch.as_tensor(r.q), torch.as_tensor(mdp.log_prior[0]), 0.8, 0.4
    )
    np.testing.assert_allclose(r.policy, expected.numpy(), atol=1e-12)
    lam = min(1.0, 0.2 * 5 / np.log(config.num_simulations + 1))
    np.testing.assert_allclose(r.tree_policy, (1 - lam) * r.policy + lam / 5, atol=1e-12)
    np.testing.assert_allclose(r.log_prior, mdp.log_prior[0])
    assert r.action == int(np.argmax(r.q + 0.8 * mdp.log_prior[0]))
    most = search(
        mdp.native(), 0, MCTSConfig(**{**config.__dict__, "action_selection": "most_visited"})
    )
    assert most.action == int(np.argmax(most.visits))


def test_batch_matches_single_searches_for_any_thread_count():
    mdp = TabularMDP.random(200, 5, seed=2)
    model = mdp.native()
    config = MCTSConfig(num_simulations=2000, max_depth=6, rollout_depth=4, seed=11)
    roots = [0, 5, 17, 5, 42, 199, 3]
    one = search_batch(model, roots, config, num_threads=1)
    two = search_batch(model, roots, config, num_threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.q, b.q)
        np.testing.assert_array_equal(a.visits, b.visits)
    np.testing.assert_array_equal(one[0].q, search(model, 0, config).q)
    # Python models take the same random streams, one root after another.
    py = search_batch(mdp.python(), roots, config)
    for a, b in zip(one, py, strict=True):
        np.testing.assert_array_equal(a.q, b.q)


def test_node_cap_stops_growth_but_keeps_searching():
    mdp = TabularMDP.random(100, 5, seed=4)
    capped = MCTSConfig(num_simulations=5000, max_depth=8, rollout_depth=3, max_nodes=64)
    result = search(mdp.native(), 0, capped)
    assert result.num_nodes == 64
    assert result.visits.sum() == 5000
    assert np.all(np.isfinite(result.q))


def test_same_seed_same_result_and_seeds_differ():
    mdp = TabularMDP.random(100, 5, seed=4)
    config = MCTSConfig(num_simulations=500, max_depth=6, rollout_depth=3, seed=5)
    a, b = search(mdp.native(), 0, config), search(mdp.native(), 0, config)
    np.testing.assert_array_equal(a.q, b.q)
    c = search(mdp.native(), 0, MCTSConfig(**{**config.__dict__, "seed": 6}))
    assert not np.array_equal(a.visits, c.visits)
