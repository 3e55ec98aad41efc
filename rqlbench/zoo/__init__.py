"""Priors from Stable-Baselines3 models: load them, train them (RL, GAIL, BC, HER), ship them.

This package sits above the learners (it builds SoftQ and SAC models); the prior interface that
the learners use is :mod:`rqlbench.priors`.
"""

from rqlbench.zoo.cloning import clone_demonstrations
from rqlbench.zoo.gail import demonstrations, train_il_prior
from rqlbench.zoo.her import flatten_goal_observation
from rqlbench.zoo.learners import max_entropy_learner, train_rl_prior
from rqlbench.zoo.loading import (
    load_model,
    load_prior,
    load_shipped_prior,
    prior_from_model,
    shipped_prior_path,
)
from rqlbench.zoo.recipes import clear_optimizer_moments, train_task_prior

__all__ = [
    "clear_optimizer_moments",
    "clone_demonstrations",
    "demonstrations",
    "flatten_goal_observation",
    "load_model",
    "load_prior",
    "load_shipped_prior",
    "max_entropy_learner",
    "prior_from_model",
    "shipped_prior_path",
    "train_il_prior",
    "train_rl_prior",
    "train_task_prior",
]
