"""Full-reward RL: ordinary soft-Q / SAC on ω·r + r_R, knowing the basic reward r (paper §5.1).

It learns the target MDP directly, without the prior policy; only the prior's learner settings.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3 import SAC

from rqlbench.algorithms import SoftQ
from rqlbench.methods.common import MethodRun, prior_temperature


def make(run: MethodRun) -> Any:
    """Trains soft-Q (discrete) or SAC (continuous) on ω·r + r_R with ω = ω'/α."""
    omega = run.omega_prime / prior_temperature(run.prior_model)
    env = run.make_env(reward="full", omega=omega)
    learner = SoftQ if run.discrete else SAC
    model = learner("MlpPolicy", env, **run.learner_kwargs())
    return model.learn(run.steps, callback=run.callback)
