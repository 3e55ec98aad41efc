"""Full-reward RL: ordinary soft-Q / SAC on ω·r + r_R, knowing the basic reward r (paper §5.1).

It learns the target MDP directly, without the prior policy, with the recipe that trained the
task's RL prior (its learner settings, α̂ as the task's YAML states): where that recipe needed
hindsight relabelling (parking: plain SAC reached 20 % success), so does this baseline.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3 import SAC

from rqlbench.algorithms import SoftQ
from rqlbench.methods.common import MethodRun, prior_temperature
from rqlbench.zoo.her import flatten_goal_observation, train_task_reward_with_her


def make(run: MethodRun) -> Any:
    """Trains soft-Q (discrete) or SAC (continuous) on ω·r + r_R with ω = ω'/α."""
    omega = run.omega_prime / prior_temperature(run.prior_model)
    env = run.make_env(reward="full", omega=omega)
    her = run.task.config()["prior"]["rl"].get("her")
    if her is not None:
        return _with_her(run, omega, her, env)
    learner = SoftQ if run.discrete else SAC
    model = learner("MlpPolicy", env, **run.learner_kwargs())
    return model.learn(run.steps, callback=run.callback)


def _with_her(run: MethodRun, omega: float, her: dict, env: Any) -> SAC:
    """SAC + HER on the goal env (the RL prior's recipe), returned over the vector observation."""
    learner = run.learner_kwargs()
    seed = learner.pop("seed")
    model = train_task_reward_with_her(
        run.task, "full", omega, her, learner, run.steps, seed, run.callback
    )
    flat = flatten_goal_observation(model, env)
    flat.num_timesteps = model.num_timesteps  # the steps it trained, on the goal env
    return flat
