"""The prior interface and the checks every algorithm runs on it.

A prior is a frozen ``nn.Module`` with a *cache*: per state, a small vector from which
log π(a|s) of any action follows without the prior's network (the log-probabilities of all actions
for a discrete prior, the Gaussian's mean and log-std for a tanh-squashed one). Replay buffers store
the cache at insertion, so updates never run the prior. ``spec()`` and ``from_spec()`` let a saved
algorithm rebuild its prior (architecture in the spec, weights in the state dict).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor, nn

# Continuous actions are clamped to (-1 + 1e-6, 1 - 1e-6) before a squashed prior's log-prob, so
# actions at the bounds keep a finite log-probability.
ACTION_CLAMP = 1e-6


class Prior(nn.Module, ABC):
    """A frozen policy giving log π(a|s) for a batch of states and actions."""

    observation_space: spaces.Space
    action_space: spaces.Space
    cache_dim: int

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        super().__init__()
        self.observation_space, self.action_space = observation_space, action_space

    @abstractmethod
    def cache(self, obs: Tensor) -> Tensor:
        """Per-state vectors [B, cache_dim] that determine log π(.|s)."""

    @abstractmethod
    def log_prob_from_cache(self, cache: Tensor, actions: Tensor) -> Tensor:
        """log π(a|s) [B] from cached vectors and actions."""

    @torch.no_grad()
    def log_prob(self, obs: Tensor, actions: Tensor) -> Tensor:
        """log π(a|s) [B]."""
        return self.log_prob_from_cache(self.cache(obs), actions)

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """Picklable description that rebuilds this prior's architecture (weights excluded)."""

    @classmethod
    @abstractmethod
    def from_spec(cls, spec: dict[str, Any]) -> Prior:
        """A prior with the architecture of `spec` (weights to be loaded)."""

    def freeze(self) -> Prior:
        """Evaluation mode, no gradients: the prior never changes while RQL learns."""
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)
        return self


class DiscretePrior(Prior):
    """A prior over n discrete actions; its cache is log π(.|s) of all actions."""

    @property
    def cache_dim(self) -> int:
        return int(self.action_space.n)

    @abstractmethod
    def log_probs(self, obs: Tensor) -> Tensor:
        """Normalized log π(.|s) [B, n]."""

    def cache(self, obs: Tensor) -> Tensor:
        return self.log_probs(obs)

    def log_probs_of(self, obs: np.ndarray) -> np.ndarray:
        """Normalized log π(.|s) [n] of one observation, as float64 (planners ask per node)."""
        with torch.no_grad():
            return self.log_probs(torch.as_tensor(obs).unsqueeze(0))[0].double().numpy()

    def log_prob_from_cache(self, cache: Tensor, actions: Tensor) -> Tensor:
        return cache.gather(1, actions.long().reshape(-1, 1)).squeeze(1)


def squashed_gaussian_log_prob(mean: Tensor, log_std: Tensor, actions: Tensor) -> Tensor:
    """Log-density [B] of tanh(N(mean, exp(log_std))) at actions, clamped inside (-1, 1)."""
    actions = actions.clamp(-1.0 + ACTION_CLAMP, 1.0 - ACTION_CLAMP)
    pre_tanh = torch.atanh(actions)
    gaussian = (
        -0.5 * ((pre_tanh - mean) / log_std.exp()) ** 2 - log_std - 0.5 * math.log(2 * math.pi)
    )
    return (gaussian - torch.log1p(-actions.pow(2))).sum(dim=1)


class SquashedGaussianPrior(Prior):
    """A tanh-squashed diagonal Gaussian prior; its cache is [mean, log_std] before the tanh."""

    @property
    def cache_dim(self) -> int:
        return 2 * int(self.action_space.shape[0])

    @abstractmethod
    def gaussian(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-std [B, d] of the Gaussian before the tanh."""

    def cache(self, obs: Tensor) -> Tensor:
        return torch.cat(self.gaussian(obs), dim=1)

    def log_prob_from_cache(self, cache: Tensor, actions: Tensor) -> Tensor:
        mean, log_std = cache.chunk(2, dim=1)
        return squashed_gaussian_log_prob(mean, log_std, actions)


def _describe(space: spaces.Space) -> str:
    if isinstance(space, spaces.Discrete):
        return f"Discrete({space.n})"
    if isinstance(space, spaces.Box):
        return f"Box(shape={space.shape}, low={space.low.min():g}, high={space.high.max():g})"
    return repr(space)


def _same_space(a: spaces.Space, b: spaces.Space) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, spaces.Discrete):
        return a.n == b.n
    if isinstance(a, spaces.Box):
        return a.shape == b.shape and bool((a.low == b.low).all() and (a.high == b.high).all())
    return a == b


def check_prior_matches(
    prior: Prior, observation_space: spaces.Space, action_space: spaces.Space
) -> None:
    """Raises ValueError unless the prior was made for these observation and action spaces."""
    if not isinstance(prior, Prior):
        raise TypeError(
            f"prior must be a rqlbench.priors.Prior, got {type(prior).__name__}: wrap a saved "
            "model with rqlbench.priors.load_prior(path) or prior_from_model(model)"
        )
    for what, mine, theirs in (
        ("action", prior.action_space, action_space),
        ("observation", prior.observation_space, observation_space),
    ):
        if (
            isinstance(theirs, spaces.Box)
            and isinstance(mine, spaces.Box)
            and what == "observation"
        ):
            matches = mine.shape == theirs.shape  # observation bounds often differ harmlessly
        else:
            matches = _same_space(mine, theirs)
        if not matches:
            raise ValueError(
                f"the prior's {what} space {_describe(mine)} does not match the env's "
                f"{_describe(theirs)}: use a prior trained on this task's env"
            )


class ConstantGaussianPrior(SquashedGaussianPrior):
    """The same tanh-squashed Gaussian in every state: a prior for bandits and tests."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        mean: float | list[float],
        log_std: float | list[float],
    ) -> None:
        super().__init__(observation_space, action_space)
        dim = int(action_space.shape[0])
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).expand(dim).clone())
        self.register_buffer(
            "log_std", torch.as_tensor(log_std, dtype=torch.float32).expand(dim).clone()
        )

    def gaussian(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        return self.mean.expand(obs.shape[0], -1), self.log_std.expand(obs.shape[0], -1)

    def spec(self) -> dict[str, Any]:
        return {
            "observation_space": self.observation_space,
            "action_space": self.action_space,
            "mean": self.mean.tolist(),
            "log_std": self.log_std.tolist(),
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Prior:
        return cls(**spec)
