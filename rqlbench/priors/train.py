"""Training priors: RL priors (soft-Q or SAC on the basic reward) and IL priors (GAIL on them).

IL priors use the `imitation` library's GAIL with an off-policy max-entropy generator, as in the
paper: soft-Q for discrete actions, SAC for continuous ones. The generator's replay buffer is
relabelled with the current discriminator reward at every sample
(imitation.policies.replay_buffer_wrapper.ReplayBufferRewardWrapper), so stale rewards never
train it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout
from imitation.data.types import TrajectoryWithRew
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.rewards.reward_nets import BasicRewardNet
from imitation.util import logger as imitation_logger
from imitation.util.networks import RunningNorm
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.env_util import make_vec_env

from rqlbench.algorithms.soft_q import SoftQ

EnvFactory = Callable[[], gym.Env]


def max_entropy_learner(env: Any, seed: int, **kwargs: Any) -> BaseAlgorithm:
    """SoftQ for a discrete action space, SAC for a continuous one."""
    if isinstance(env.action_space, spaces.Discrete):
        return SoftQ("MlpPolicy", env, seed=seed, **kwargs)
    return SAC("MlpPolicy", env, seed=seed, **kwargs)


def train_rl_prior(
    make_env: EnvFactory, steps: int, seed: int = 0, **learner_kwargs: Any
) -> BaseAlgorithm:
    """A max-entropy RL prior trained on `make_env`'s reward (the task's basic reward)."""
    model = max_entropy_learner(make_vec_env(make_env, n_envs=1, seed=seed), seed, **learner_kwargs)
    return model.learn(steps)


def demonstrations(
    expert: BaseAlgorithm,
    make_env: EnvFactory,
    episodes: int,
    seed: int = 0,
    min_transitions: int = 0,
) -> list[TrajectoryWithRew]:
    """At least `episodes` episodes and `min_transitions` steps of the stochastic expert."""
    venv = make_vec_env(make_env, n_envs=1, seed=seed, wrapper_class=RolloutInfoWrapper)
    return rollout.rollout(
        expert,
        venv,
        rollout.make_sample_until(min_episodes=episodes, min_timesteps=min_transitions or None),
        rng=np.random.default_rng(seed),
        deterministic_policy=False,
    )


def train_il_prior(
    expert: BaseAlgorithm,
    make_env: EnvFactory,
    steps: int,
    seed: int = 0,
    *,
    demo_episodes: int = 20,
    steps_per_round: int = 1024,
    demo_batch_size: int = 256,
    discriminator_updates: int = 4,
    learner_kwargs: dict[str, Any] | None = None,
) -> BaseAlgorithm:
    """A GAIL generator imitating `expert`'s rollouts; `steps` generator environment steps."""
    demos = demonstrations(expert, make_env, demo_episodes, seed, min_transitions=demo_batch_size)
    venv = make_vec_env(make_env, n_envs=1, seed=seed, wrapper_class=RolloutInfoWrapper)
    reward = _LateReward()
    learner = max_entropy_learner(
        venv,
        seed,
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs={"replay_buffer_class": ReplayBuffer, "reward_fn": reward},
        **(learner_kwargs or {}),
    )
    reward_net = BasicRewardNet(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    with tempfile.TemporaryDirectory(prefix="rqlbench-gail-") as log_dir:
        gail = GAIL(
            demonstrations=demos,
            demo_batch_size=demo_batch_size,
            venv=venv,
            gen_algo=learner,
            reward_net=reward_net,
            n_disc_updates_per_round=discriminator_updates,
            gen_train_timesteps=steps_per_round,
            gen_replay_buffer_capacity=steps_per_round,
            allow_variable_horizon=True,
            log_dir=log_dir,
            custom_logger=imitation_logger.configure(log_dir, format_strs=[]),
        )
        reward.fn = gail.reward_train.predict_processed
        gail.train(max(steps, steps_per_round))
    return learner


class _LateReward:
    """The discriminator's reward, bound once GAIL exists (the learner is built before it)."""

    fn: Callable[..., np.ndarray] | None = None

    def __call__(self, **transitions: np.ndarray) -> np.ndarray:
        assert self.fn is not None, "GAIL binds the reward before training"
        return self.fn(**transitions)
