"""RL and IL (GAIL) prior training on tiny budgets: the pipeline and what each part learns."""

import json
import shutil
from importlib import metadata

import gymnasium as gym
import numpy as np
import pytest
import torch
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data.rollout import flatten_trajectories
from imitation.data.types import TrajectoryWithRew
from imitation.rewards.reward_nets import BasicRewardNet
from stable_baselines3 import SAC, HerReplayBuffer
from stable_baselines3.common.env_util import make_vec_env

from rqlbench.algorithms import SoftQ
from rqlbench.evaluation import evaluate, summarize
from rqlbench.priors import SACPolicyPrior, SoftQPolicyPrior
from rqlbench.tasks import get_task
from rqlbench.tasks.toy import QuadraticBandit
from rqlbench.zoo import (
    clear_optimizer_moments,
    clone_demonstrations,
    demonstrations,
    flatten_goal_observation,
    load_shipped_prior,
    prior_from_model,
    shipped_prior_path,
    train_il_prior,
    train_rl_prior,
    train_task_prior,
)
from rqlbench.zoo.cloning import KeepCloning
from rqlbench.zoo.gail import gail_reward_net

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
def test_gail_generator_trains_on_the_current_discriminator_reward(
    make_env, env_reward, learner, prior_class
):
    expert = train_rl_prior(make_env, 200, seed=0, **TINY)
    assert isinstance(expert, learner)
    demos = demonstrations(expert, make_env, episodes=2, seed=0)
    assert len(demos) >= 2
    generator = train_il_prior(
        expert, make_env, steps=256, seed=0, demo_episodes=2, steps_per_round=128,
        demo_batch_size=32, learner_kwargs=TINY,
    )  # fmt: skip
    assert isinstance(generator, learner) and generator.num_timesteps >= 256
    # Every sample is relabelled by the discriminator as it is now, never the env's reward.
    buffer = generator.replay_buffer
    batch = buffer.sample(32)
    discriminator = buffer.reward_fn(
        state=batch.observations.numpy(), action=batch.actions.numpy(),
        next_state=batch.next_observations.numpy(), done=batch.dones.numpy(),
    )  # fmt: skip
    np.testing.assert_allclose(batch.rewards.flatten().numpy(), discriminator, rtol=1e-6)
    assert not torch.allclose(batch.rewards.flatten(), env_reward(batch.actions.float()))
    prior = prior_from_model(generator)
    assert isinstance(prior, prior_class)
    obs = torch.as_tensor(np.stack([make_env().observation_space.sample() for _ in range(4)]))
    assert torch.isfinite(prior.cache(obs.float())).all()


def test_gail_discriminator_learns_to_tell_the_expert_from_other_actions():
    task = get_task("mountaincar")
    expert = load_shipped_prior("mountaincar", "rl")
    generator = train_il_prior(
        expert, lambda: task.make_env(reward="basic"), steps=256, seed=0, demo_episodes=1,
        steps_per_round=128, demo_batch_size=64, discriminator_updates=32, learner_kwargs=TINY,
    )  # fmt: skip
    demos = flatten_trajectories(
        demonstrations(expert, lambda: task.make_env(reward="basic"), 1, seed=1)
    )
    reward = generator.replay_buffer.reward_fn
    transitions = dict(state=demos.obs, next_state=demos.next_obs, done=demos.dones)
    expert_reward = reward(action=demos.acts, **transitions)
    other_reward = reward(action=-demos.acts, **transitions)  # pushing the other way
    assert (expert_reward > other_reward).mean() > 0.8  # measured: 0.97


def test_task_prior_training_resumes_from_its_newest_checkpoint(tmp_path, monkeypatch):
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
    assert card["steps"] == 300
    # The card evaluates the saved prior itself, on the evaluation seeds.
    saved = summarize(evaluate(SoftQ.load(prior_path), get_task("cartpole"), 2, seed=10_000))
    assert card["evaluation"] == saved


def test_task_prior_is_the_best_validated_model_across_resumes(tmp_path, monkeypatch):
    task = get_task("cartpole")
    settings = task.config()
    settings["prior"]["rl"]["learner"].update(TINY, buffer_size=500)
    settings["prior"]["rl"]["select"] = {"every": 100, "episodes": 2}
    monkeypatch.setattr(type(task), "config", lambda self: settings)
    workdir = tmp_path / "cartpole" / "rl"
    train_task_prior("cartpole", "rl", workdir, steps=200, checkpoint_every=100, eval_episodes=1)
    prior_path = train_task_prior(
        "cartpole", "rl", workdir, steps=400, checkpoint_every=100, eval_episodes=1
    )
    selection = json.loads((workdir / "card.json").read_text())["selection"]
    # The resumed run extends the first run's validation history instead of restarting it.
    assert selection["evaluated_steps"] == [100, 200, 300, 400]
    assert SoftQ.load(prior_path).num_timesteps == selection["selected_step"]


def test_a_highway_prior_trains_on_the_native_simulator_when_asked(tmp_path, monkeypatch):
    from rqlbench.cli import build_parser

    task = get_task("highway")
    settings = task.config()
    settings["prior"]["rl"]["learner"].update(TINY, buffer_size=500)
    settings["prior"]["rl"]["select"] = {"every": 100, "episodes": 1}  # validated natively
    monkeypatch.setattr(type(task), "config", lambda self: settings)
    workdir = tmp_path / "highway" / "rl"
    train_task_prior("highway", "rl", workdir, steps=100, eval_episodes=1, simulator="native")
    card = json.loads((workdir / "card.json").read_text())
    assert card["simulator"] == "native"
    assert build_parser().parse_args(card["command"].split()[1:]).simulator == "native"
    with pytest.raises(ValueError, match="'cartpole' task has no native simulator"):
        train_task_prior("cartpole", "rl", tmp_path / "c", steps=10, simulator="native")


def test_task_il_prior_imitates_the_shipped_rl_prior_unless_one_was_trained_beside_it(
    tmp_path, monkeypatch
):
    task = get_task("cartpole")
    settings = task.config()
    settings["prior"]["il"].update(demo_episodes=1, learner={**TINY, "buffer_size": 500})
    monkeypatch.setattr(type(task), "config", lambda self: settings)
    workdir = tmp_path / "cartpole" / "il"
    train_task_prior("cartpole", "il", workdir, steps=128, eval_episodes=1)
    card = json.loads((workdir / "card.json").read_text())
    assert card["expert"] == "the shipped RL prior"
    assert card["trained_on"]["packages"]["imitation"] == metadata.version("imitation")
    (tmp_path / "cartpole" / "rl").mkdir()
    shutil.copy(shipped_prior_path("cartpole", "rl"), tmp_path / "cartpole" / "rl" / "prior.zip")
    train_task_prior("cartpole", "il", workdir, steps=128, eval_episodes=1)
    expert = json.loads((workdir / "card.json").read_text())["expert"]
    assert expert == str(tmp_path / "cartpole" / "rl" / "prior.zip")
    with pytest.raises(ValueError, match="an RL prior needs steps >= 1, got 0"):
        train_task_prior("cartpole", "rl", tmp_path / "rl", steps=0)


def test_gail_accepts_a_gsde_sac_generator():
    make_env = lambda: QuadraticBandit(target=0.5)  # noqa: E731
    expert = train_rl_prior(make_env, 100, seed=0, **TINY)
    generator = train_il_prior(
        expert, make_env, steps=128, seed=0, demo_episodes=2, steps_per_round=64,
        demo_batch_size=16, learner_kwargs={**TINY, "use_sde": True}, gail_reward="logit",
    )  # fmt: skip
    assert generator.use_sde and generator.num_timesteps >= 128
    with pytest.raises(ValueError, match=r"gail_reward must be one of .*got 'log'"):
        train_il_prior(expert, make_env, steps=1, gail_reward="log")


def test_il_prior_with_zero_gail_steps_is_the_behaviour_cloned_actor():
    make_env = lambda: QuadraticBandit(target=0.5)  # noqa: E731
    expert = train_rl_prior(make_env, 100, seed=0, **TINY)
    torch.manual_seed(0)  # the expert's demonstrations sample from torch's global generator
    cloned = train_il_prior(
        expert, make_env, steps=0, seed=0, demo_episodes=2, bc_epochs=3, learner_kwargs=TINY
    )
    torch.manual_seed(0)
    demos = demonstrations(expert, make_env, 2, seed=0, min_transitions=256)
    reference = SAC("MlpPolicy", make_vec_env(make_env, n_envs=1, seed=0), seed=0, **TINY)
    clone_demonstrations(reference, demos, 3, seed=0)
    assert cloned.num_timesteps == 0
    for ours, theirs in zip(cloned.actor.parameters(), reference.actor.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs)
    with pytest.raises(ValueError, match=r"steps must be > 0 \(or 0 with bc_epochs > 0"):
        train_il_prior(expert, make_env, steps=0)


def test_cloning_weight_holds_the_actor_at_the_demonstrations_against_the_reward():
    demo = TrajectoryWithRew(
        obs=np.zeros((2, 1), np.float32), acts=np.full((1, 1), 0.5, np.float32), infos=None,
        terminal=True, rews=np.zeros(1, np.float32),
    )  # fmt: skip

    def learned_action(bc_weight):  # the learner's reward wants -0.5; the demonstration +0.5
        learner = SAC("MlpPolicy", QuadraticBandit(target=-0.5), seed=0, **TINY)
        cloning = KeepCloning([demo], bc_weight, batch_size=32, seed=0) if bc_weight else None
        # 800 steps: both held actors near +0.5 but still apart (by 1500 both sit at 0.5 and
        # their order is rounding); the free one past -0.3 (seeds 0-2: -0.32 to -0.38).
        learner.learn(800, callback=cloning)
        return learner.predict(np.zeros(1, np.float32), deterministic=True)[0].item()

    free, held, firmly_held = learned_action(0.0), learned_action(3.0), learned_action(30.0)
    assert free < -0.3 and free + 0.2 < held < firmly_held and abs(firmly_held - 0.5) < 0.1


def test_gail_logit_reward_is_the_discriminator_logit():
    make_env = lambda: QuadraticBandit(target=0.5)  # noqa: E731
    expert = train_rl_prior(make_env, 100, seed=0, **TINY)
    venv = make_vec_env(make_env, n_envs=1, seed=0)
    net = BasicRewardNet(venv.observation_space, venv.action_space)
    demos = demonstrations(expert, make_env, 2, seed=0, min_transitions=16)
    gail = GAIL(
        demonstrations=demos, demo_batch_size=16, venv=venv, gen_algo=expert, reward_net=net
    )
    rng = np.random.default_rng(0)
    batch = dict(
        state=rng.normal(size=(64, 1)), action=rng.uniform(-1, 1, size=(64, 1)),
        next_state=rng.normal(size=(64, 1)), done=np.zeros(64, bool),
    )  # fmt: skip
    logit = gail_reward_net(gail, "logit").predict_processed(**batch)
    positive = gail_reward_net(gail, "positive").predict_processed(**batch)
    np.testing.assert_allclose(logit, net.predict_processed(**batch))
    np.testing.assert_allclose(positive, np.log1p(np.exp(logit)), rtol=1e-5)  # -log(1 - D)
    assert (positive > 0).all() and (logit < 0).any() and (logit > 0).any()


def test_her_prior_flattens_to_the_same_policy_on_the_vector_observation():
    task = get_task("parking")
    goal_env = make_vec_env(task.make_goal_env, n_envs=1, seed=0)
    model = SAC(
        "MultiInputPolicy", goal_env, seed=0, replay_buffer_class=HerReplayBuffer,
        learning_starts=110, buffer_size=1000, policy_kwargs=dict(net_arch=[16, 16]),
    )  # fmt: skip
    model.learn(130)  # past the first episode, so every layer has moved from its initial values
    flat = flatten_goal_observation(model, task.make_env(reward="basic"))
    env = task.make_goal_env()
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        vector = np.concatenate([obs["desired_goal"], obs["observation"]])
        dict_obs = {key: value[None] for key, value in obs.items()}
        with torch.no_grad():
            np.testing.assert_allclose(
                flat.policy.actor(torch.as_tensor(vector[None]), deterministic=True).numpy(),
                model.policy.actor(model.policy.obs_to_tensor(dict_obs)[0], True).numpy(),
                atol=1e-6,
            )
    assert flat.log_ent_coef.item() == model.log_ent_coef.item()


def test_behaviour_cloning_fits_the_demonstrated_actions():
    rng = np.random.default_rng(0)
    demos = [
        TrajectoryWithRew(
            obs=np.zeros((2, 1), np.float32),
            acts=np.array([[a]], np.float32),
            infos=None,
            terminal=True,
            rews=np.zeros(1, np.float32),
        )
        for a in np.clip(rng.normal(0.5, 0.05, 500), -1, 1)
    ]
    learner = SAC("MlpPolicy", QuadraticBandit(), seed=1, **TINY)
    before = abs(learner.predict(np.zeros(1, np.float32), deterministic=True)[0][0] - 0.5)
    clone_demonstrations(learner, demos, epochs=200, seed=0)
    after = abs(learner.predict(np.zeros(1, np.float32), deterministic=True)[0][0] - 0.5)
    assert after < 0.05 < before


def test_a_prior_ships_without_optimizer_moments(tmp_path):
    make_env = lambda: QuadraticBandit(target=0.5)  # noqa: E731
    model = train_rl_prior(make_env, 100, seed=0, **TINY)
    model.save(tmp_path / "full.zip")
    clear_optimizer_moments(model)
    model.save(tmp_path / "prior.zip")
    assert (tmp_path / "prior.zip").stat().st_size < (tmp_path / "full.zip").stat().st_size
    reloaded = SAC.load(tmp_path / "prior.zip", env=make_env())
    assert reloaded.predict(np.zeros(1, np.float32), deterministic=True)[0] == pytest.approx(
        model.predict(np.zeros(1, np.float32), deterministic=True)[0]
    )
    reloaded.learn(10)  # fresh moments, training goes on
