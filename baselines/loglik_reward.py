"""Log-likelihood-augmented reward (paper App. F.3): ordinary soft RL on r_R + ω' log π(a|s).

In theory equivalent to RQL (the soft Q of this reward is Q_R + ω' log π); in practice the
learner must fit the prior's log-likelihood inside its Q-function.
"""

from __future__ import annotations

from typing import Any

from rqlbench.baselines.shaped_reward import ShapedRewardSAC, ShapedRewardSQL
from torch import Tensor

from rqlbench import residual
from rqlbench.methods.common import residual_method


class LoglikRewardSQL(ShapedRewardSQL):
    """Soft Q-learning on r_R + ω' log π(a|s)."""

    def _shaped_reward(self, data: Any, q: Tensor) -> Tensor:
        prior_log_prob = data.prior.gather(1, data.actions.long()).flatten()
        return residual.loglik_augmented_reward(data.rewards.flatten(), prior_log_prob, self.omega)


class LoglikRewardSAC(ShapedRewardSAC):
    """SAC on r_R + ω' log π(a|s)."""

    def _shaped_reward(self, data: Any, omega: float) -> Tensor:
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, data.actions)
        return residual.loglik_augmented_reward(data.rewards.flatten(), prior_log_prob, omega)


# The method's factory (rqlbench.methods.METHODS).
make = residual_method(LoglikRewardSQL, LoglikRewardSAC)
