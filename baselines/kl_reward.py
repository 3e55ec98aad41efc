"""KL-augmented reward (paper eq. 18): r̃ = r_R - β(log π̃(a|s) - log π(a|s)), ordinary soft RL.

π̃ is the learner's current policy, evaluated at update time on the replayed action; β is
`omega`. The prior enters only through the reward.
"""

from __future__ import annotations

from typing import Any

import torch
from rqlbench.baselines.shaped_reward import ShapedRewardSAC, ShapedRewardSQL
from torch import Tensor

from rqlbench.methods.common import residual_method
from rqlbench.priors import actor_gaussian, squashed_gaussian_log_prob


class KLRewardSQL(ShapedRewardSQL):
    """Soft Q-learning on the KL-augmented reward."""

    def _shaped_reward(self, data: Any, q: Tensor) -> Tensor:
        actions = data.actions.long()
        policy_log_prob = torch.log_softmax(q / self.alpha, dim=1).gather(1, actions).flatten()
        prior_log_prob = data.prior.gather(1, actions).flatten()
        return data.rewards.flatten() - self.omega * (policy_log_prob - prior_log_prob)


class KLRewardSAC(ShapedRewardSAC):
    """SAC on the KL-augmented reward."""

    def _shaped_reward(self, data: Any, omega: float) -> Tensor:
        mean, log_std = actor_gaussian(self.actor, data.observations)
        policy_log_prob = squashed_gaussian_log_prob(mean, log_std, data.actions)
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, data.actions)
        return data.rewards.flatten() - omega * (policy_log_prob - prior_log_prob)


# The method's factory (rqlbench.methods.METHODS).
make = residual_method(KLRewardSQL, KLRewardSAC)
