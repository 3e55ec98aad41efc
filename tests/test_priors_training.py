"""RL and IL (GAIL) prior training on tiny budgets: the pipeline, not the quality."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import SAC

from rqlbench.algorithms import SoftQ
from rqlbench.priors import SACPolicyPrior, SoftQPolicyPrior, prior_from_model
from rqlbench.priors.train import demonstrations, train_il_prior, train_rl_prior
from rqlbench.tasks.toy import QuadraticBandit

TINY = dict(learning_starts=64, batch_size=32, policy_kwargs=dict(net_arch=[16]))


@pytest.mark.parametrize(
    ("make_env", "env_reward", "learner", "prior_class"),
    [
        (lambda: gym.make("CartPole-v1"), lambda a: torch.ones(len(a)), SoftQ, SoftQPolicyPrior),
        (
            lambda: QuadraticBandit(target=0.5),
            lambda a: -((a - 0.5) ** 2).sum(1),
            SAC,
            SACPolicyPrior,
        ),
    ],
)
def test_gail_generator_learns_from_relabelled_replay(make_env, env_reward, learner, prior_class):
    expert = train_rl_prior(make_env, 200, seed=0, **TINY)
    assert isinstance(expert, learner)
    demos = demonstrations(expert, make_env, episodes=2, seed=0)
    assert len(demos) >= 2
    generator = train_il_prior(
        expert, make_env, steps=256, seed=0, demo_episodes=2, steps_per_round=128,
        demo_batch_size=32, learner_kwargs=TINY,
    )  # fmt: skip
    assert isinstance(generator, learner) and generator.num_timesteps >= 256
    batch = generator.replay_buffer.sample(32)
    # The generator trains on discriminator rewards, not on the env's.
    assert not torch.allclose(batch.rewards.flatten(), env_reward(batch.actions.float()))
    prior = prior_from_model(generator)
    assert isinstance(prior, prior_class)
    obs = torch.as_tensor(np.stack([make_env().observation_space.sample() for _ in range(4)]))
    assert torch.isfinite(prior.cache(obs.float())).all()
