"""IL priors: the `imitation` library's GAIL with an off-policy max-entropy generator.

As in the paper: soft-Q for discrete actions, SAC for continuous ones. The generator's replay
buffer is relabelled with the current discriminator reward at every sample
(imitation.policies.replay_buffer_wrapper.ReplayBufferRewardWrapper), so stale rewards never
train it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout
from imitation.data.types import TrajectoryWithRew
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.rewards.reward_nets import BasicRewardNet, RewardNet
from imitation.util import logger as imitation_logger
from imitation.util.networks import RunningNorm
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env

from rqlbench.zoo.cloning import KeepCloning, clone_demonstrations
from rqlbench.zoo.learners import EnvFactory, max_entropy_learner

GAIL_REWARDS = ("positive", "logit")


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
    bc_epochs: int = 0,
    bc_weight: float = 0.0,
    gail_reward: str = "positive",
    learner_kwargs: dict[str, Any] | None = None,
) -> BaseAlgorithm:
    """A GAIL generator imitating `expert`'s rollouts; `steps` generator environment steps.

    `bc_epochs` > 0 first fits a SAC generator's actor to the demonstrations by maximum
    likelihood, so GAIL starts from a policy that reaches the expert's states; with `steps` 0
    the prior is that behaviour-cloned actor (no GAIL). `bc_weight` > 0 keeps cloning during
    GAIL: one maximum-likelihood step on a demonstration batch, scaled by `bc_weight`, per
    environment step once the generator trains (GAIL + BC, Jena et al. 2020); without it GAIL's
    early, noisy rewards pulled parking's and halfcheetah's cloned actors off the demonstrations.
    `gail_reward` is "positive" (imitation's -log(1 - D): every step pays, so longer episodes
    pay more) or "logit" (log D - log(1 - D), no bias for or against ending the episode: for
    tasks where success ends the episode, like mountaincar).
    """
    if gail_reward not in GAIL_REWARDS:
        raise ValueError(f"gail_reward must be one of {GAIL_REWARDS}, got {gail_reward!r}")
    if steps < 0 or (steps == 0 and not bc_epochs):
        raise ValueError(f"steps must be > 0 (or 0 with bc_epochs > 0 for BC only), got {steps}")
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
    if bc_epochs:
        clone_demonstrations(learner, demos, bc_epochs, seed)
    if steps == 0:
        return learner
    reward_net = BasicRewardNet(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    with tempfile.TemporaryDirectory(prefix="rqlbench-gail-") as log_dir:
        gail = _GAIL(
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
        reward.fn = gail_reward_net(gail, gail_reward).predict_processed
        if bc_weight:
            cloning = KeepCloning(demos, bc_weight, demo_batch_size, seed)
            gail.gen_callback = CallbackList([gail.gen_callback, cloning])
        gail.train(max(steps, steps_per_round))
    return learner


def gail_reward_net(gail: GAIL, kind: str) -> RewardNet:
    """The generator's reward from GAIL's discriminator D = sigmoid(logit).

    "positive" is imitation's -log(1 - D) = softplus(logit). "logit" is the discriminator's logit
    log D - log(1 - D) itself: imitation's `reward_test` is the same softplus net, not the logit.
    """
    return {"positive": gail.reward_train, "logit": gail.reward_train.base}[kind]


class _GAIL(GAIL):
    """imitation's GAIL, also for gSDE SAC generators.

    imitation evaluates the generator's log π(a|s) for every discriminator batch and asserts a
    plain squashed-Gaussian SAC actor while doing so; only AIRL uses that value (GAIL's
    discriminator discards it), so GAIL skips it.
    """

    def _get_log_policy_act_prob(self, obs_th: Any, acts_th: Any) -> None:
        return None


class _LateReward:
    """The discriminator's reward, bound once GAIL exists (the learner is built before it)."""

    fn: Callable[..., np.ndarray] | None = None

    def __call__(self, **transitions: np.ndarray) -> np.ndarray:
        assert self.fn is not None, "GAIL binds the reward before training"
        return self.fn(**transitions)
