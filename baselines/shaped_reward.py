"""Ordinary soft RL on a reward shaped with the prior: the KL and log-likelihood baselines.

The learner is plain soft Q-learning / SAC (soft values without the prior, acting with its own
Q); only the reward of each replayed transition changes, computed at update time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rqlbench import residual
from rqlbench.algorithms import RSAC, RSQL


class ShapedRewardSQL(RSQL):
    """Soft Q-learning on `_shaped_reward`; acts with softmax(Q/α̂)."""

    store_prior_at_state = True

    def _shaped_reward(self, data: Any, q: Tensor) -> Tensor:
        raise NotImplementedError

    def _reward(self, data: Any, q: Tensor) -> Tensor:
        return self._shaped_reward(data, q)

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        return super(RSQL, self)._next_value(next_q, data)  # plain soft value, no prior

    def _set_acting_policy(self) -> None:
        self.policy.prior_log_probs = None


class ShapedRewardSAC(RSAC):
    """SAC on `_shaped_reward`."""

    def _shaped_reward(self, data: Any, omega: float) -> Tensor:
        raise NotImplementedError

    def _critic_target(self, data, next_actions, next_log_prob, next_q, omega, ent_coef):
        soft_next = next_q - ent_coef * next_log_prob
        reward = self._shaped_reward(data, omega)
        return residual.td_target(reward, data.dones.flatten(), soft_next, self.gamma)

    def _actor_loss(self, data, actions_pi, log_prob, q_pi, omega, ent_coef):
        return torch.mean(ent_coef * log_prob - q_pi)
