"""Priors wrapping Stable-Baselines3 policies (soft-Q, SAC, GAIL generators) and torch modules.

Loading saved models as priors sits above the learners, in :mod:`rqlbench.zoo`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.sac.policies import SACPolicy
from torch import Tensor, nn

from rqlbench.priors.base import DiscretePrior, Prior, SquashedGaussianPrior


class _PolicySpec:
    """Mixin: the prior wraps one SB3 policy, rebuilt from its constructor parameters."""

    policy: BasePolicy

    def spec(self) -> dict[str, Any]:
        return {
            "policy_class": type(self.policy),
            "policy_kwargs": self.policy._get_constructor_parameters(),
            **self._extra_spec(),
        }

    def _extra_spec(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Prior:
        extra = {k: v for k, v in spec.items() if k not in ("policy_class", "policy_kwargs")}
        return cls(spec["policy_class"](**spec["policy_kwargs"]), **extra)


class SoftQPolicyPrior(_PolicySpec, DiscretePrior):
    """π(a|s) = softmax(Q(s, a)/α) of a soft-Q (or DQN-style) policy with a `q_net`."""

    def __init__(self, policy: BasePolicy, alpha: float = 1.0) -> None:
        if not hasattr(policy, "q_net"):
            raise TypeError(f"{type(policy).__name__} has no q_net: pass a soft-Q/DQN policy")
        super().__init__(policy.observation_space, policy.action_space)
        self.policy, self.alpha = policy, float(alpha)
        self.freeze()

    def _extra_spec(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def log_probs(self, obs: Tensor) -> Tensor:
        return torch.log_softmax(self.policy.q_net(obs) / self.alpha, dim=1)

    def log_probs_of(self, obs: np.ndarray) -> np.ndarray:
        # One observation through torch costs ~0.2 ms of call overhead; a plain MLP in numpy
        # ~20 us. It runs in float64 on the float32 weights: torch's float32 result is within
        # its own rounding of this one (at α = 0.01 a q rounding of 1e-5 is 1e-3 in log π).
        # Other architectures take the torch path.
        layers = self.mlp_layers()
        if layers is None:
            return super().log_probs_of(obs)
        x = np.asarray(obs, dtype=np.float64).reshape(-1)
        for weight, bias, activation in layers:
            x = weight @ x + bias
            if activation is not None:
                x = _ACTIVATIONS[activation](x)
        logits = x / self.alpha
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())

    def mlp_layers(self) -> list[tuple[np.ndarray, np.ndarray, str | None]] | None:
        """The q-network as float64 (weight, bias, activation) layers; None if not a plain MLP."""
        # Plain: a flattened Box observation into Linear, ReLU and Tanh modules. Built once.
        if not hasattr(self, "_layers"):
            self._layers = _mlp_layers(self.policy.q_net, self.observation_space)
        return self._layers


_ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0.0), "tanh": np.tanh}
_ACTIVATION_NAMES = {nn.ReLU: "relu", nn.Tanh: "tanh"}


def _mlp_layers(q_net: Any, observation_space: spaces.Space) -> list | None:
    extractor, body = getattr(q_net, "features_extractor", None), getattr(q_net, "q_net", None)
    plain = isinstance(observation_space, spaces.Box) and isinstance(body, nn.Sequential)
    if not plain or type(extractor) is not FlattenExtractor:
        return None
    layers: list[tuple[np.ndarray, np.ndarray, str | None]] = []
    for module in body:
        if isinstance(module, nn.Linear):
            weight = module.weight.detach().numpy().astype(np.float64)
            layers.append((weight, module.bias.detach().numpy().astype(np.float64), None))
        elif type(module) in _ACTIVATION_NAMES and layers and layers[-1][2] is None:
            layers[-1] = (*layers[-1][:2], _ACTIVATION_NAMES[type(module)])
        else:
            return None
    return layers


class SACPolicyPrior(_PolicySpec, SquashedGaussianPrior):
    """The tanh-squashed Gaussian actor of an SB3 SAC policy (an RL prior or a GAIL generator).

    With gSDE (use_sde=True) the policy is still a squashed Gaussian per state, with variance
    latent_sde² @ std² (SB3's StateDependentNoiseDistribution); that is what the prior returns.
    """

    def __init__(self, policy: SACPolicy) -> None:
        super().__init__(policy.observation_space, policy.action_space)
        self.policy = policy
        self.freeze()

    def gaussian(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        return actor_gaussian(self.policy.actor, obs)


def actor_gaussian(actor: Any, obs: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and log-std before the tanh of an SB3 SAC actor at `obs`, with or without gSDE."""
    mean, log_std, extra = actor.get_action_dist_params(obs)
    if "latent_sde" not in extra:
        return mean, log_std
    noise = actor.action_dist
    variance = torch.mm(extra["latent_sde"] ** 2, noise.get_std(log_std) ** 2)
    return mean, 0.5 * torch.log(variance + noise.epsilon)


class DiscreteModulePrior(DiscretePrior):
    """A user's torch module mapping observations [B, ...] to action logits [B, n]."""

    def __init__(
        self, module: nn.Module, observation_space: spaces.Space, action_space: spaces.Discrete
    ) -> None:
        super().__init__(observation_space, action_space)
        self.module = module
        self.freeze()

    def log_probs(self, obs: Tensor) -> Tensor:
        return torch.log_softmax(self.module(obs.float()), dim=1)

    def spec(self) -> dict[str, Any]:
        return {
            "module": copy.deepcopy(self.module),
            "observation_space": self.observation_space,
            "action_space": self.action_space,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Prior:
        return cls(**spec)
