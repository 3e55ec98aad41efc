"""Competitor methods to residual Q-learning, one module each; installed as rqlbench.baselines.

Each is an RSQL/RSAC subclass that changes only the update hooks (reward, target, actor loss),
so every method shares the same learner, replay, logging and save/load.
"""

from rqlbench.baselines.greedy import GreedySAC, GreedySQL
from rqlbench.baselines.kl_reward import KLRewardSAC, KLRewardSQL
from rqlbench.baselines.loglik_reward import LoglikRewardSAC, LoglikRewardSQL

__all__ = [
    "GreedySAC",
    "GreedySQL",
    "KLRewardSAC",
    "KLRewardSQL",
    "LoglikRewardSAC",
    "LoglikRewardSQL",
]
