"""KL-augmented reward (paper eq. 18): r̃ = r_R - β(log π̃(a|s) - log π(a|s)), ordinary soft RL.

π̃ is the learner's current policy, evaluated at update time on the replayed action; β is
`omega`. The learner itself is ordinary SAC / soft-Q: the prior enters only through the reward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rqlbench.algorithms import RSAC, RSQL
from rqlbench.priors import squashed_gaussian_log_prob


class KLRewardSQL(RSQL):
    """Soft Q-learning on the KL-augmented reward; acts with softmax(Q/α̂)."""

    store_prior_at_state = True

    def _reward(self, data: Any, q: Tensor) -> Tensor:
        actions = data.actions.long()
        policy_log_prob = torch.log_softmax(q / self.alpha, dim=1).gather(1, actions).flatten()
        prior_log_prob = data.prior.gather(1, actions).flatten()
        return data.rewards.flatten() - self.omega * (policy_log_prob - prior_log_prob)

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        return super(RSQL, self)._next_value(next_q, data)  # plain soft value, no prior

    def _set_acting_policy(self) -> None:
        self.policy.prior_log_probs = None


class KLRewardSAC(RSAC):
    """SAC on the KL-augmented reward."""

    def _critic_target(self, data, next_actions, next_log_prob, next_q, omega, ent_coef):
        mean, log_std, _ = self.actor.get_action_dist_params(data.observations)
        policy_log_prob = squashed_gaussian_log_prob(mean, log_std, data.actions)
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, data.actions)
        reward = data.rewards.flatten() - omega * (policy_log_prob - prior_log_prob)
        soft_next = next_q - ent_coef * next_log_prob
        return reward + self.gamma * (1 - data.dones.flatten()) * soft_next

    def _actor_loss(self, data, actions_pi, log_prob, q_pi, omega, ent_coef):
        return torch.mean(ent_coef * log_prob - q_pi)
