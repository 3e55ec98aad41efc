"""RQL algorithms and their max-entropy base learners, Stable-Baselines3 style."""

from rqlbench.algorithms.buffers import PriorReplayBuffer
from rqlbench.algorithms.rsac import RSAC
from rqlbench.algorithms.soft_q import RSQL, SoftQ, SoftQPolicy

__all__ = ["RSAC", "RSQL", "PriorReplayBuffer", "SoftQ", "SoftQPolicy"]
