"""RL and IL (GAIL) prior training on tiny budgets: the pipeline, not the quality."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import SAC

from rqlbench.algorithms import SoftQ
from rqlbench.priors import SACPolicyPrior, SoftQPolicyPrior, prior_from_model
from rqlbench.priors.train import (
    demonstrations,
    train_il_prior,
    train_rl_prior,
    train_task_prior,
)
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


def test_task_prior_training_resumes_from_its_newest_checkpoint(tmp_path, monkeypatch):
    from rqlbench.tasks import get_task

    task = get_task("cartpole")
    settings = task.config()
    settings["prior"]["rl"]["learner"].update(TINY, buffer_size=500)
    monkeypatch.setattr(type(task), "config", lambda self: settings)
    workdir = tmp_path / "cartpole" / "rl"
    train_task_prior("cartpole", "rl", workdir, steps=200, checkpoint_every=100, eval_episodes=2)
    checkpoints = sorted(p.name for p in (workdir / "checkpoints").iterdir())
    assert checkpoints == ["rl_model_200_steps.zip", "rl_model_replay_buffer_200_steps.pkl"]
    # A rerun with a larger budget continues from step 200 instead of starting over.
    prior_path = train_task_prior(
        "cartpole", "rl", workdir, steps=300, checkpoint_every=100, eval_episodes=2
    )
    assert SoftQ.load(prior_path).num_timesteps == 300
    card = json.loads((workdir / "card.json").read_text())
    assert card["steps"] == 300 and card["evaluation"]["episodes"] == 2
    assert 0.0 <= card["evaluation"]["success_rate"] <= 1.0


def test_gail_accepts_a_gsde_sac_generator():
    make_env = lambda: QuadraticBandit(target=0.5)  # noqa: E731
    expert = train_rl_prior(make_env, 100, seed=0, **TINY)
    generator = train_il_prior(
        expert, make_env, steps=128, seed=0, demo_episodes=2, steps_per_round=64,
        demo_batch_size=16, learner_kwargs={**TINY, "use_sde": True},
    )  # fmt: skip
    assert generator.use_sde and generator.num_timesteps >= 128
