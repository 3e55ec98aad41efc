"""Goal-conditioned RL priors: SAC with hindsight relabelling, then as a vector-observation SAC."""

from __future__ import annotations

import copy
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3 import SAC, HerReplayBuffer
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from rqlbench.tasks import Task
from rqlbench.zoo.checkpoints import train_resumable
from rqlbench.zoo.learners import max_entropy_learner


def train_with_her(
    task: Task, settings: dict, steps: int, seed: int, workdir: Path, checkpoint_every: int
) -> SAC:
    """SAC with hindsight goal relabelling on the dict-observation env, as a vector-obs SAC."""
    venv = make_vec_env(lambda: Monitor(task.make_goal_env()), n_envs=1, seed=seed)
    model = train_resumable(
        venv,
        lambda: max_entropy_learner(
            venv, seed, "MultiInputPolicy", replay_buffer_class=HerReplayBuffer,
            replay_buffer_kwargs=settings["her"], **settings["learner"],
        ),
        steps, workdir, checkpoint_every,
    )  # fmt: skip
    return flatten_goal_observation(model, task.make_env(reward="basic"))


def flatten_goal_observation(model: SAC, env: gym.Env) -> SAC:
    """The same SAC over the task's vector observation [desired goal; ego].

    SB3's dict extractor concatenates the keys (achieved_goal, desired_goal, observation); the
    achieved goal and the observation are both the ego vector, so the first layer of each
    network maps onto the vector exactly: goal columns as they are, the two ego blocks summed.
    """
    size = model.observation_space["observation"].shape[0]
    source = {"desired_goal": slice(0, size), "achieved_goal": slice(size, 2 * size)}
    source["observation"] = source["achieved_goal"]
    flat = SAC(
        "MlpPolicy", env, buffer_size=1, seed=0, device="cpu",
        policy_kwargs=copy.deepcopy(model.policy_kwargs),
    )  # fmt: skip
    state = model.policy.state_dict()
    first_layers = ("actor.latent_pi.0.weight", "critic.qf0.0.weight", "critic.qf1.0.weight",
                    "critic_target.qf0.0.weight", "critic_target.qf1.0.weight")  # fmt: skip
    for name in first_layers:
        weight = state[name]
        mapped = torch.zeros(weight.shape[0], 2 * size + weight.shape[1] - 3 * size)
        column = 0
        for key in model.policy.actor.features_extractor.extractors:  # SB3's concatenation order
            mapped[:, source[key]] += weight[:, column : column + size]
            column += size
        mapped[:, 2 * size :] = weight[:, column:]  # the critic's action columns
        state[name] = mapped
    flat.policy.load_state_dict(state)
    with torch.no_grad():  # in place: the entropy optimizer keeps training the same tensor
        flat.log_ent_coef.copy_(model.log_ent_coef)
    return flat
