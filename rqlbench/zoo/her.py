"""Goal-conditioned RL on parking: SAC with hindsight relabelling, then as a vector-obs SAC.

Priors train on the basic reward (`train_with_her`); the full-reward baseline trains on
ω·r + r_R with the same recipe (`train_task_reward_with_her`), its relabelled rewards the
task's own for each substituted goal (`RelabelledTaskReward`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC, HerReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from rqlbench.tasks import Task
from rqlbench.tasks.base import RewardMode, TaskRewardWrapper
from rqlbench.zoo.checkpoints import train_resumable
from rqlbench.zoo.learners import max_entropy_learner


def train_with_her(
    task: Task, settings: dict, steps: int, seed: int, workdir: Path, checkpoint_every: int
) -> SAC:
    """SAC with hindsight goal relabelling on the dict-observation env, as a vector-obs SAC."""
    venv = make_vec_env(lambda: Monitor(task.make_goal_env()), n_envs=1, seed=seed)
    model = train_resumable(
        venv, lambda: her_learner(venv, seed, settings["her"], settings["learner"]),
        steps, workdir, checkpoint_every,
    )  # fmt: skip
    return flatten_goal_observation(model, task.make_env(reward="basic"))


def her_learner(env: Any, seed: int, her: dict, learner: dict) -> SAC:
    """SAC over the dict observation with SB3's HerReplayBuffer (`her` its arguments)."""
    return max_entropy_learner(
        env, seed, "MultiInputPolicy", replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs=copy.deepcopy(her), **learner,
    )  # fmt: skip


def train_task_reward_with_her(
    task: Task,
    reward: RewardMode,
    omega: float,
    her: dict,
    learner: dict,
    steps: int,
    seed: int,
    callback: BaseCallback | None = None,
) -> SAC:
    """SAC with HER on the task's goal env returning `reward` (ω·r + r_R for "full").

    Relabelled transitions get the task's reward for the substituted goal (RelabelledTaskReward),
    which needs each step's info (the crash flag): the buffer keeps them (copy_info_dict).
    Returns the dict-observation model; `flatten_goal_observation` makes it a vector-obs SAC.
    """
    env = Monitor(RelabelledTaskReward(task.make_goal_env(reward, omega)))
    model = her_learner(env, seed, {**her, "copy_info_dict": True}, learner)
    return model.learn(steps, callback=callback)


class RelabelledTaskReward(gym.Wrapper):
    """parking's goal env whose `compute_reward` is the task's reward for any goal (for HER).

    highway-env's own compute_reward is only the goal term of r. Here, for the achieved pose and
    a (possibly substituted) desired goal: r = the goal term + collision_reward x crashed (the
    step's info), r_R = -1 if the car's polygon at the achieved pose touches either boundary
    strip around the desired goal's pose (Parking.rewards on the live env), and the wrapped
    TaskRewardWrapper's mode and ω pick r_R, r or ω·r + r_R.
    """

    def __init__(self, env: TaskRewardWrapper) -> None:
        if not isinstance(env, TaskRewardWrapper):
            raise TypeError(f"RelabelledTaskReward wraps a task's goal env, got {type(env)}")
        super().__init__(env)

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: dict | Sequence[dict]
    ) -> np.ndarray | float:
        """The task's reward of reaching `achieved_goal` while `desired_goal` is the goal."""
        single = np.ndim(achieved_goal) == 1
        achieved, desired = np.atleast_2d(achieved_goal), np.atleast_2d(desired_goal)
        infos = [info] if isinstance(info, dict) else list(info)
        parking = self.env.unwrapped
        crashed = _crash_flags(infos, len(achieved))
        goal_term = np.asarray(parking.compute_reward(achieved, desired, {}), dtype=np.float64)
        basic = goal_term + parking.config["collision_reward"] * crashed
        observation = parking.observation_type_parking
        car = _vehicle_polygons(achieved, observation, parking.vehicle)
        strips = np.concatenate(_boundary_strips(desired, observation))  # [2n, 5, 2]: both sides
        touches = _polygons_intersect(np.concatenate([car, car]), strips)
        addon = -touches.reshape(2, -1).any(axis=0).astype(np.float64)
        reward = {"addon": addon, "basic": basic, "full": self.env.omega * basic + addon}
        chosen = reward[self.env.reward_mode]
        return float(chosen[0]) if single else chosen


def _crash_flags(infos: list[dict], count: int) -> np.ndarray:
    if len(infos) != count or any("crashed" not in info for info in infos):
        raise ValueError(
            "the task's reward for a relabelled goal needs each transition's info with its "
            "'crashed' flag: build the HerReplayBuffer with copy_info_dict=True"
        )
    return np.array([float(info["crashed"]) for info in infos])


def _poses(goals: np.ndarray, observation: Any) -> tuple[np.ndarray, np.ndarray]:
    """Positions [n, 2] and heading directions (cos, sin) [n, 2] of scaled goal vectors."""
    values = dict(zip(observation.features, (goals * observation.scales).T, strict=True))
    position = np.stack([values["x"], values["y"]], axis=1)
    return position, np.stack([values["cos_h"], values["sin_h"]], axis=1)


def _rectangles(
    position: np.ndarray, direction: np.ndarray, length: float, width: float, offset: float = 0.0
) -> np.ndarray:
    """Closed rectangles [n, 5, 2]: `length` along the heading, centred `offset` to its left."""
    unit = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1], [-1, -1]])
    corners = unit * np.array([length / 2, width / 2]) + np.array([0.0, offset])
    c, s = direction[:, 0, None], direction[:, 1, None]
    x = c * corners[:, 0] - s * corners[:, 1] + position[:, 0, None]
    y = s * corners[:, 0] + c * corners[:, 1] + position[:, 1, None]
    return np.stack([x, y], axis=-1)


def _vehicle_polygons(goals: np.ndarray, observation: Any, vehicle: Any) -> np.ndarray:
    position, direction = _poses(goals, observation)
    return _rectangles(position, direction, vehicle.LENGTH, vehicle.WIDTH)


def _boundary_strips(goals: np.ndarray, observation: Any) -> list[np.ndarray]:
    """driving.boundary_strips for a batch of goals."""
    from rqlbench.tasks.driving import STRIP_LENGTH, STRIP_OFFSET, STRIP_WIDTH  # loads highway-env

    position, direction = _poses(goals, observation)
    return [
        _rectangles(position, direction, STRIP_LENGTH, STRIP_WIDTH, side * STRIP_OFFSET)
        for side in (-1.0, 1.0)
    ]


def _polygons_intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched separating-axis test of closed polygons [n, k, 2], as highway-env's
    utils.are_polygons_intersecting (intersecting unless some edge normal separates them)."""
    axes = np.concatenate([_edge_normals(a), _edge_normals(b)], axis=1)
    min_a, max_a = _projection_bounds(a, axes)
    min_b, max_b = _projection_bounds(b, axes)
    gap = np.where(min_a < min_b, min_b - max_a, min_a - max_b)
    return ~(gap > 0).any(axis=-1)


def _edge_normals(polygon: np.ndarray) -> np.ndarray:
    """Unit normals [n, k-1, 2] of a closed polygon's edges."""
    edges = polygon[:, 1:] - polygon[:, :-1]
    normals = np.stack([-edges[..., 1], edges[..., 0]], axis=-1)
    return normals / np.linalg.norm(normals, axis=-1, keepdims=True)


def _projection_bounds(polygon: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max [n, k] of each polygon's points [n, p, 2] projected on its axes [n, k, 2]."""
    points = polygon.transpose(1, 0, 2)[:, :, None, :]  # [p, n, 1, 2]: reduce over the first axis
    projected = points[..., 0] * axes[..., 0] + points[..., 1] * axes[..., 1]
    return projected.min(axis=0), projected.max(axis=0)


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
    if model.log_ent_coef is None:  # a fixed temperature stays fixed
        flat.log_ent_coef, flat.ent_coef_optimizer = None, None
        flat.ent_coef, flat.ent_coef_tensor = model.ent_coef, model.ent_coef_tensor.clone()
        return flat
    with torch.no_grad():  # in place: the entropy optimizer keeps training the same tensor
        flat.log_ent_coef.copy_(model.log_ent_coef)
    return flat
