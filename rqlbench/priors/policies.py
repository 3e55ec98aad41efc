"""Priors wrapping Stable-Baselines3 policies (soft-Q, SAC, GAIL generators) and torch modules.

Loading saved models as priors sits above the learners, in :mod:`rqlbench.zoo`.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
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
