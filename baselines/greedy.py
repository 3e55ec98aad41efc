"""Greedy decomposition (paper eq. 15-17): the add-on critic ignores the prior in its target.

The critic learns the add-on reward's soft Q under the greedy policy,
target r_R + γ E_{a'~π̃}[Q̃_R(s',a') - α̂ log π̃(a'|s')], and the policy combines it with the
prior as π̃ ∝ exp((Q̃_R + λ log π)/(α̂ + λ)); λ is `omega`. It sums two separately optimal
Q-functions, a greedy approximation of the customized optimum.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rqlbench import residual
from rqlbench.algorithms import RSAC, RSQL
from rqlbench.methods.common import residual_method


class GreedySQL(RSQL):
    """Discrete greedy decomposition on the RSQL machinery."""

    def _greedy_log_policy(self, q: Tensor, log_prior: Tensor) -> Tensor:
        return residual.customized_log_policy(q, log_prior, self.omega, self.alpha + self.omega)

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        log_policy = self._greedy_log_policy(next_q, data.next_prior)
        return (log_policy.exp() * (next_q - self.alpha * log_policy)).sum(dim=1)

    def _set_acting_policy(self) -> None:
        super()._set_acting_policy()
        self.policy.alpha = self.alpha + self.omega


class GreedySAC(RSAC):
    """Continuous greedy decomposition: the actor fits π̃ ∝ exp((Q̃_R + λ log π)/(α̂ + λ))."""

    def _critic_target(self, data, next_actions, next_log_prob, next_q, omega, ent_coef):
        soft_next = next_q - ent_coef * next_log_prob
        return residual.td_target(
            data.rewards.flatten(), data.dones.flatten(), soft_next, self.gamma
        )

    def _actor_loss(self, data, actions_pi, log_prob, q_pi, omega, ent_coef):
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, actions_pi)
        return torch.mean((ent_coef + omega) * log_prob - q_pi - omega * prior_log_prob)


# The method's factory (rqlbench.methods.METHODS).
make = residual_method(GreedySQL, GreedySAC)
