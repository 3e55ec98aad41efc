"""Exactness of the residual math: docs/algorithms.md §4.1 and the per-formula targets."""

import math

import pytest
import torch

from rqlbench import residual

F64 = torch.float64


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def random_mdp(seed: int, num_states: int = 6, num_actions: int = 4):
    g = torch.Generator().manual_seed(seed)
    transition = torch.rand(num_states, num_actions, num_states, generator=g, dtype=F64) ** 3
    transition /= transition.sum(-1, keepdim=True)
    reward = torch.randn(num_states, num_actions, generator=g, dtype=F64)
    addon = torch.randn(num_states, num_actions, generator=g, dtype=F64)
    return transition, reward, addon


@pytest.mark.parametrize("seed", range(24))
def test_invariant_1_residual_soft_vi_matches_full_reward_and_loglik_reward(seed):
    transition, reward, addon = random_mdp(seed)
    g = torch.Generator().manual_seed(1000 + seed)
    alpha, alpha_hat, omega, gamma = (0.2 + 2 * torch.rand(4, generator=g, dtype=F64)).tolist()
    gamma = min(gamma, 0.9)
    omega_prime = omega * alpha

    # The prior: soft-optimal for the basic reward r at its own temperature α.
    q_star = residual.soft_value_iteration(transition, reward, alpha, gamma)
    log_prior = torch.log_softmax(q_star / alpha, dim=-1)

    q_r = residual.residual_soft_value_iteration(
        transition, addon, log_prior, omega_prime, alpha_hat, gamma
    )
    residual_policy = residual.customized_policy(q_r, log_prior, omega_prime, alpha_hat)

    q_full = residual.soft_value_iteration(transition, omega * reward + addon, alpha_hat, gamma)
    full_policy = torch.softmax(q_full / alpha_hat, dim=-1)

    loglik_reward = residual.loglik_augmented_reward(addon, log_prior, omega_prime)
    q_loglik = residual.soft_value_iteration(transition, loglik_reward, alpha_hat, gamma)
    loglik_policy = torch.softmax(q_loglik / alpha_hat, dim=-1)

    assert torch.max(torch.abs(residual_policy - full_policy)) <= 1e-8
    assert torch.max(torch.abs(residual_policy - loglik_policy)) <= 1e-8
    # App. F.3: Q' = Q_R + ω' log π is the log-likelihood-reward soft Q exactly.
    assert torch.allclose(
        q_loglik, residual.residual_logits(q_r, log_prior, omega_prime), atol=1e-9
    )
    # ... while the full-reward soft Q differs from it by ω·α·log Z_s per state.
    assert torch.allclose(q_r + omega * q_star, q_full, atol=1e-9)


def test_zero_omega_ignores_impossible_actions():
    log_prior = t([[0.0, -math.inf]])
    q_r = t([[1.0, 2.0]])
    assert torch.equal(residual.prior_term(log_prior, 0.0), torch.zeros(1, 2))
    policy = residual.customized_policy(q_r, log_prior, 0.0, 1.0)
    assert torch.allclose(policy, torch.softmax(q_r, -1))
    assert residual.customized_policy(q_r, log_prior, 0.5, 1.0)[0, 1] == 0.0


def test_rsql_target_by_hand():
    r = t([0.5, -1.0])
    done = t([0.0, 1.0])
    next_q = t([[1.0, 0.0], [3.0, 4.0]])
    next_log_prior = torch.log(t([[0.25, 0.75], [0.5, 0.5]]))
    omega, alpha, gamma = 2.0, 0.5, 0.9
    y = residual.rsql_target(r, done, next_q, next_log_prior, omega, alpha, gamma)
    # V_R = α log Σ exp(Q/α) π^(ω'/α) = 0.5 log(e^2·0.25^4 + e^0·0.75^4)
    v0 = 0.5 * math.log(math.exp(2) * 0.25**4 + 0.75**4)
    assert y.tolist() == pytest.approx([0.5 + 0.9 * v0, -1.0], abs=1e-12)


def test_rsac_critic_target_and_actor_loss_by_hand():
    r = t([1.0, 2.0])
    done = t([0.0, 1.0])
    q_min = t([3.0, 5.0])
    prior_lp = t([-1.0, -2.0])
    policy_lp = t([-0.5, 0.7])
    omega, alpha, gamma = 0.3, 0.2, 0.99
    y = residual.rsac_critic_target(r, done, q_min, prior_lp, policy_lp, omega, alpha, gamma)
    assert y.tolist() == pytest.approx([1.0 + 0.99 * (3.0 - 0.3 + 0.1), 2.0], abs=1e-12)
    loss = residual.rsac_actor_loss(policy_lp, q_min, prior_lp, omega, alpha)
    by_hand = ((0.2 * -0.5 - 3.0 + 0.3) + (0.2 * 0.7 - 5.0 + 0.6)) / 2
    assert loss.item() == pytest.approx(by_hand, abs=1e-12)


def test_finite_horizon_matches_backward_induction_by_hand():
    # Two states, two actions; state 1 is terminal.
    next_state = torch.tensor([[0, 1], [1, 1]])
    addon = t([[1.0, 2.0], [0.0, 0.0]])
    log_prior = torch.log(t([[0.5, 0.5], [0.5, 0.5]]))
    terminal = torch.tensor([False, True])
    q = residual.finite_horizon_residual_soft_q(
        next_state, addon, log_prior, terminal, omega=1.0, alpha=1.0, gamma=0.5, horizon=2
    )
    v1 = math.log(0.5 * math.exp(1.0) + 0.5 * math.exp(2.0))  # one step to go from state 0
    assert q[0].tolist() == pytest.approx([1.0 + 0.5 * v1, 2.0], abs=1e-12)


def test_value_iteration_reports_non_convergence():
    transition, reward, _ = random_mdp(0)
    with pytest.raises(RuntimeError, match="did not converge"):
        residual.soft_value_iteration(transition, reward, 1.0, 0.99, max_iterations=3)
