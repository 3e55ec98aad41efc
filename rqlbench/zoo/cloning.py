"""Behaviour cloning of SAC actors by maximum likelihood, once or at every GAIL step (GAIL + BC)."""

from __future__ import annotations

import numpy as np
import torch
from imitation.data import rollout
from imitation.data.types import TrajectoryWithRew
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from rqlbench.priors import actor_gaussian, squashed_gaussian_log_prob


def clone_demonstrations(
    model: SAC, demos: list[TrajectoryWithRew], epochs: int, seed: int = 0, batch_size: int = 256
) -> None:
    """Fits a SAC actor to demonstrations by maximum likelihood (behaviour cloning)."""
    obs, actions = _demonstration_tensors(model, demos)
    optimizer = torch.optim.Adam(model.actor.parameters(), lr=1e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(obs), generator=order).split(batch_size):
            _cloning_step(model, obs[batch], actions[batch], optimizer)


def _demonstration_tensors(
    model: BaseAlgorithm, demos: list[TrajectoryWithRew]
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(model, SAC):
        raise TypeError(f"behaviour cloning trains SAC generators, not {type(model).__name__}")
    transitions = rollout.flatten_trajectories(demos)
    obs = torch.as_tensor(np.array(transitions.obs), dtype=torch.float32)
    actions = torch.as_tensor(model.policy.scale_action(transitions.acts), dtype=torch.float32)
    return obs, actions


def _cloning_step(
    model: SAC,
    obs: torch.Tensor,
    actions: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    weight: float = 1.0,
) -> None:
    mean, log_std = actor_gaussian(model.actor, obs)
    loss = -weight * squashed_gaussian_log_prob(mean, log_std, actions).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class KeepCloning(BaseCallback):
    """A behaviour-cloning step of the generator's actor per environment step once SAC trains."""

    def __init__(self, demos: list[TrajectoryWithRew], weight: float, batch_size: int, seed: int):
        super().__init__()
        self.demos, self.weight, self.batch_size = demos, weight, batch_size
        self.order = torch.Generator().manual_seed(seed)

    def _init_callback(self) -> None:
        self.obs, self.actions = _demonstration_tensors(self.model, self.demos)

    def _on_step(self) -> bool:
        if self.model.num_timesteps > self.model.learning_starts:
            batch = torch.randint(len(self.obs), (self.batch_size,), generator=self.order)
            optimizer = self.model.actor.optimizer
            _cloning_step(self.model, self.obs[batch], self.actions[batch], optimizer, self.weight)
        return True
