"""Priors from Stable-Baselines3 policies (soft-Q, SAC, GAIL generators) and from torch modules."""

from __future__ import annotations

import copy
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file
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


def _copy_policy(policy: BasePolicy) -> BasePolicy:
    """A frozen-to-be copy, rebuilt as SB3 loads policies (deepcopy fails on gSDE noise state)."""
    clone = type(policy)(**policy._get_constructor_parameters())
    clone.load_state_dict(policy.state_dict())
    return clone.to(policy.device)


def prior_from_model(model: BaseAlgorithm) -> Prior:
    """A frozen copy of a trained soft-Q or SAC model's policy, as a prior."""
    from rqlbench.algorithms.soft_q import SoftQ

    if isinstance(model, SoftQ):
        return SoftQPolicyPrior(_copy_policy(model.policy), alpha=model.alpha)
    if isinstance(model, SAC):
        return SACPolicyPrior(_copy_policy(model.policy))
    raise TypeError(
        f"cannot make a prior from a {type(model).__name__}: max-entropy priors come from "
        "rqlbench.SoftQ (discrete) or stable_baselines3.SAC (continuous) models"
    )


def load_model(
    path: str | os.PathLike, env: Any = None, device: str | torch.device = "cpu"
) -> BaseAlgorithm:
    """A saved SoftQ or SAC model (SB3 zip), whichever the file holds."""
    from rqlbench.algorithms.soft_q import SoftQ

    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".zip"):
        path += ".zip"
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"no prior at {path!r}: train one (rqlbench.SoftQ / stable_baselines3.SAC, then "
            ".save(path)) or pass the path of a saved model zip"
        )
    try:
        data, _, _ = load_from_zip_file(path, device=device, load_data=True)
    except (zipfile.BadZipFile, KeyError, ValueError, RuntimeError, EOFError) as error:
        raise ValueError(
            f"{path!r} is not a readable saved model ({type(error).__name__}: {error}): "
            "re-save the prior with model.save(path)"
        ) from error
    policy_class = data.get("policy_class") if data else None
    if isinstance(policy_class, type) and issubclass(policy_class, SACPolicy):
        return SAC.load(path, env=env, device=device)
    if isinstance(policy_class, type) and "alpha" in data:
        return SoftQ.load(path, env=env, device=device)
    raise ValueError(
        f"{path!r} holds a {getattr(policy_class, '__name__', policy_class)} model, not a "
        "max-entropy prior: save a rqlbench.SoftQ or stable_baselines3.SAC model"
    )


def load_prior(path: str | os.PathLike, device: str | torch.device = "cpu") -> Prior:
    """Loads a saved SoftQ or SAC model (SB3 zip) as a frozen prior."""
    return prior_from_model(load_model(path, device=device))


def shipped_prior_path(task: str, kind: str = "rl") -> Path:
    """The prior rqlbench ships for a task (see its card.json beside it)."""
    if kind not in ("rl", "il"):
        raise ValueError(f"kind must be 'rl' or 'il', got {kind!r}")
    path = Path(str(resources.files("rqlbench.priors") / "assets" / task / kind / "prior.zip"))
    if not path.is_file():
        shipped = sorted(
            f"{p.parent.parent.name}/{p.parent.name}"
            for p in Path(str(resources.files("rqlbench.priors") / "assets")).glob("*/*/prior.zip")
        )
        raise FileNotFoundError(
            f"no shipped {kind} prior for task {task!r} (shipped: {', '.join(shipped) or 'none'}): "
            f"train one with `rqlbench train-prior {task} --kind {kind}`"
        )
    return path


def load_shipped_prior(task: str, kind: str = "rl") -> BaseAlgorithm:
    """The shipped prior of a task as its trained SB3 model (SoftQ or SAC)."""
    return load_model(shipped_prior_path(task, kind))
