"""The residual Q-learning math, in one place (paper eq. 6-10, App. F.3; docs/algorithms.md §1).

``omega`` is ω' = ω·α (the prior's unknown temperature α absorbed into the reward weight ω),
``alpha`` is α̂, the temperature of the customized policy, ``log_prior`` is log π(a|s) of the
prior. Discrete functions take the action axis last. The tabular solvers at the end are the
ground truth the tests hold every learner and planner to.
"""

from __future__ import annotations

import torch
from torch import Tensor

Scalar = float | Tensor


def prior_term(log_prior: Tensor, omega: Scalar) -> Tensor:
    """ω'·log π, with ω' = 0 giving 0 even for impossible actions (log π = -inf)."""
    if isinstance(omega, int | float) and omega == 0:
        return torch.zeros_like(log_prior)
    return omega * log_prior


def soft_value(q: Tensor, alpha: Scalar) -> Tensor:
    """Soft state value α·logsumexp(Q/α) over the last (action) axis."""
    return alpha * torch.logsumexp(q / alpha, dim=-1)


def residual_logits(q_r: Tensor, log_prior: Tensor, omega: Scalar) -> Tensor:
    """Q_R + ω' log π: the customized soft Q up to a per-state constant (App. F.3)."""
    return q_r + prior_term(log_prior, omega)


def residual_soft_value(q_r: Tensor, log_prior: Tensor, omega: Scalar, alpha: Scalar) -> Tensor:
    """V_R(s) = α̂ logsumexp((Q_R + ω' log π)/α̂)."""
    return soft_value(residual_logits(q_r, log_prior, omega), alpha)


def customized_log_policy(q_r: Tensor, log_prior: Tensor, omega: Scalar, alpha: Scalar) -> Tensor:
    """log π̂(a|s) = log_softmax((Q_R + ω' log π)/α̂) (eq. 6)."""
    return torch.log_softmax(residual_logits(q_r, log_prior, omega) / alpha, dim=-1)


def customized_policy(q_r: Tensor, log_prior: Tensor, omega: Scalar, alpha: Scalar) -> Tensor:
    """π̂(a|s) = softmax((Q_R + ω' log π)/α̂) (eq. 6)."""
    return customized_log_policy(q_r, log_prior, omega, alpha).exp()


def td_target(reward: Tensor, terminated: Tensor, next_value: Tensor, gamma: float) -> Tensor:
    """One-step target r + γ(1-d)·V(s'); d is termination only (a time limit is not terminal)."""
    return reward + gamma * (1.0 - terminated.to(next_value.dtype)) * next_value


def rsql_target(
    addon_reward: Tensor,
    terminated: Tensor,
    next_q_r: Tensor,
    next_log_prior: Tensor,
    omega: Scalar,
    alpha: Scalar,
    gamma: float,
) -> Tensor:
    """Residual soft Q-learning target r_R + γ(1-d)·V_R(s') (eq. 8), V_R from the target net."""
    next_value = residual_soft_value(next_q_r, next_log_prior, omega, alpha)
    return td_target(addon_reward, terminated, next_value, gamma)


def rsac_critic_target(
    addon_reward: Tensor,
    terminated: Tensor,
    next_q_r_min: Tensor,
    next_prior_log_prob: Tensor,
    next_policy_log_prob: Tensor,
    omega: Scalar,
    alpha: Scalar,
    gamma: float,
) -> Tensor:
    """Residual SAC critic target (eq. 9) for a' ~ π̂(.|s'), with min over the target critics.

    y = r_R + γ(1-d)·[min_i Q_R,i(s',a') + ω' log π(a'|s') - α̂ log π̂(a'|s')]
    """
    soft_next = next_q_r_min + prior_term(next_prior_log_prob, omega) - alpha * next_policy_log_prob
    return td_target(addon_reward, terminated, soft_next, gamma)


def rsac_actor_loss(
    policy_log_prob: Tensor,
    q_r_min: Tensor,
    prior_log_prob: Tensor,
    omega: Scalar,
    alpha: Scalar,
) -> Tensor:
    """Residual SAC actor loss (eq. 10): mean of α̂ log π̂(a|s) - min_i Q_R,i(s,a) - ω' log π(a|s)."""
    return (alpha * policy_log_prob - q_r_min - prior_term(prior_log_prob, omega)).mean()


def loglik_augmented_reward(addon_reward: Tensor, prior_log_prob: Tensor, omega: Scalar) -> Tensor:
    """r_R + ω' log π(a|s): soft RL on this reward is equivalent to RQL (App. F.3)."""
    return addon_reward + prior_term(prior_log_prob, omega)


# ---------------------------------------------------------------------------------------------
# Tabular solvers (float64, [S, A] tables, transition [S, A, S']): ground truth for the tests.


def soft_value_iteration(
    transition: Tensor,
    reward: Tensor,
    alpha: float,
    gamma: float,
    tol: float = 1e-13,
    max_iterations: int = 100_000,
) -> Tensor:
    """Soft Q* of reward r at temperature α: Q = r + γ P·α logsumexp(Q/α)."""
    no_prior = torch.zeros_like(reward)
    return residual_soft_value_iteration(
        transition, reward, no_prior, 0.0, alpha, gamma, tol, max_iterations
    )


def residual_soft_value_iteration(
    transition: Tensor,
    addon_reward: Tensor,
    log_prior: Tensor,
    omega: float,
    alpha: float,
    gamma: float,
    tol: float = 1e-13,
    max_iterations: int = 100_000,
) -> Tensor:
    """Residual Q_R without the prior's reward: Q_R = r_R + γ P·V_R (eq. 5e)."""
    q_r = torch.zeros_like(addon_reward)
    for _ in range(max_iterations):
        next_value = residual_soft_value(q_r, log_prior, omega, alpha)
        q_next = addon_reward + gamma * transition @ next_value
        if torch.max(torch.abs(q_next - q_r)) <= tol:
            return q_next
        q_r = q_next
    raise RuntimeError(
        f"value iteration did not converge to {tol} in {max_iterations} iterations: "
        "lower gamma or raise max_iterations"
    )


def finite_horizon_residual_soft_q(
    next_state: Tensor,
    addon_reward: Tensor,
    log_prior: Tensor,
    terminal: Tensor,
    omega: float,
    alpha: float,
    gamma: float,
    horizon: int,
) -> Tensor:
    """Residual soft Q with `horizon` steps to go on a deterministic MDP; terminal states worth 0.

    This is what residual ME-MCTS with max_depth = horizon and no rollouts converges to at the root.
    """
    value = torch.zeros(addon_reward.shape[0], dtype=addon_reward.dtype)
    q_r = torch.zeros_like(addon_reward)
    for _ in range(horizon):
        next_value = torch.where(terminal[next_state], 0.0, value[next_state])
        q_r = addon_reward + gamma * next_value
        value = residual_soft_value(q_r, log_prior, omega, alpha)
    return q_r
