"""Log-likelihood-augmented reward (paper App. F.3): ordinary soft RL on r_R + ω' log π(a|s).

In theory equivalent to RQL (the soft Q of this reward is Q_R + ω' log π); in practice the
learner must fit the prior's log-likelihood inside its Q-function.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rqlbench import residual
from rqlbench.algorithms import RSAC, RSQL


class LoglikRewardSQL(RSQL):
    """Soft Q-learning on r_R + ω' log π(a|s); acts with softmax(Q/α̂)."""

    store_prior_at_state = True

    def _reward(self, data: Any, q: Tensor) -> Tensor:
        prior_log_prob = data.prior.gather(1, data.actions.long()).flatten()
        return residual.loglik_augmented_reward(data.rewards.flatten(), prior_log_prob, self.omega)

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        return super(RSQL, self)._next_value(next_q, data)  # plain soft value, no prior

    def _set_acting_policy(self) -> None:
        self.policy.prior_log_probs = None


class LoglikRewardSAC(RSAC):
    """SAC on r_R + ω' log π(a|s)."""

    def _critic_target(self, data, next_actions, next_log_prob, next_q, omega, ent_coef):
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, data.actions)
        reward = residual.loglik_augmented_reward(data.rewards.flatten(), prior_log_prob, omega)
        soft_next = next_q - ent_coef * next_log_prob
        return reward + self.gamma * (1 - data.dones.flatten()) * soft_next

    def _actor_loss(self, data, actions_pi, log_prob, q_pi, omega, ent_coef):
        return torch.mean(ent_coef * log_prob - q_pi)
