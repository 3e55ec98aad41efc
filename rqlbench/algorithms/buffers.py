"""A replay buffer that stores the frozen prior's cache at insertion, so updates never run it."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize
from torch import Tensor

from rqlbench.priors import Prior


class PriorReplayBufferSamples(NamedTuple):
    observations: Tensor
    actions: Tensor
    next_observations: Tensor
    dones: Tensor  # terminated only: timeouts are not terminal
    rewards: Tensor  # the add-on reward r_R
    prior: Tensor  # prior cache at s, [B, cache_dim] (empty if not stored)
    next_prior: Tensor  # prior cache at s', [B, cache_dim]
    discounts: Tensor | None = None  # SB3's field; residual targets use 1-step returns


class PriorReplayBuffer(ReplayBuffer):
    """Also stores prior.cache(s') (and, with `store_current`, prior.cache(s)) for every step.

    The prior is frozen, so its outputs are computed once, at insertion, and updates evaluate
    log π in closed form. With ``cache=False`` the cache is recomputed at sampling time instead
    (for priors that change); the samples look the same either way.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: torch.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        cache_dim: int = 0,
        store_current: bool = False,
        cache: bool = True,
    ) -> None:
        if optimize_memory_usage:
            raise ValueError("optimize_memory_usage is not supported with a prior cache: set False")
        super().__init__(
            buffer_size, observation_space, action_space, device, n_envs,
            handle_timeout_termination=handle_timeout_termination,
        )  # fmt: skip
        self.prior: Prior | None = None  # set by the algorithm (it is not saved with the buffer)
        self.cache, self.store_current = cache, store_current
        shape = (self.buffer_size, self.n_envs, cache_dim if cache else 0)
        self.next_prior_cache = np.zeros(shape, dtype=np.float32)
        self.prior_cache = np.zeros(shape if store_current else (0,), dtype=np.float32)
        self._last_next: tuple[np.ndarray, np.ndarray] | None = None  # the last s' and its cache

    def _prior_cache(self, obs: np.ndarray) -> np.ndarray:
        assert self.prior is not None, "the algorithm sets the buffer's prior before use"
        with torch.no_grad():
            tensor = torch.as_tensor(obs, device=self.device).float()
            values = self.prior.cache(tensor)
        if not torch.isfinite(values).all():
            raise ValueError(
                "the prior returned non-finite outputs for a batch of observations: check the "
                "prior's weights and that observations are in the range it was trained on"
            )
        return values.cpu().numpy()

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        for name, array in (("observation", obs), ("next observation", next_obs)):
            if not np.all(np.isfinite(array)):
                raise ValueError(
                    f"an {name} contains NaN or inf: {np.asarray(array).tolist()}; fix the env "
                    "(or wrap it in stable_baselines3.common.vec_env.VecCheckNan to find where)"
                )
        if not np.all(np.isfinite(reward)):
            raise ValueError(f"the add-on reward is not finite: {np.asarray(reward).tolist()}")
        if self.cache:
            batch = next_obs.reshape((self.n_envs, *self.obs_shape))
            if self.store_current:
                self.prior_cache[self.pos] = self._current_cache(obs.reshape(batch.shape))
            self.next_prior_cache[self.pos] = next_cache = self._prior_cache(batch)
            self._last_next = (batch.copy(), next_cache)
        super().add(obs, next_obs, action, reward, done, infos)

    def _current_cache(self, obs: np.ndarray) -> np.ndarray:
        """The cache at s: within an episode s is the last step's s', whose cache is at hand."""
        last = self.last_next_cache(obs)
        return self._prior_cache(obs) if last is None else last

    def last_next_cache(self, obs: np.ndarray) -> np.ndarray | None:
        """The prior's cache at the last stored s', if `obs` is that s' (else None)."""
        if self._last_next is not None and np.array_equal(obs, self._last_next[0]):
            return self._last_next[1]
        return None

    def _get_samples(
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> PriorReplayBufferSamples:
        envs = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        obs = self.observations[batch_inds, envs]
        next_obs = self.next_observations[batch_inds, envs]
        if self.cache:
            next_prior = self.next_prior_cache[batch_inds, envs]
            prior = self.prior_cache[batch_inds, envs] if self.store_current else np.zeros(0)
        else:
            next_prior = self._prior_cache(next_obs)
            prior = self._prior_cache(obs) if self.store_current else np.zeros(0)
        terminated = self.dones[batch_inds, envs] * (1 - self.timeouts[batch_inds, envs])
        data = (
            self._normalize_obs(obs, env),
            self.actions[batch_inds, envs],
            self._normalize_obs(next_obs, env),
            terminated.reshape(-1, 1),
            self._normalize_reward(self.rewards[batch_inds, envs].reshape(-1, 1), env),
            prior,
            next_prior,
        )
        return PriorReplayBufferSamples(*map(self._to_torch, data))

    def _to_torch(self, array: np.ndarray) -> Tensor:
        # Fancy indexing already copied the arrays: share their memory instead of copying again.
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
