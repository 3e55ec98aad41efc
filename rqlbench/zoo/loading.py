"""Saved Stable-Baselines3 models as priors: load a SoftQ or SAC zip, or a shipped prior."""

from __future__ import annotations

import os
import zipfile
from typing import Any

import torch
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.sac.policies import SACPolicy

from rqlbench.algorithms.soft_q import SoftQ
from rqlbench.prior_files import shipped_prior_path
from rqlbench.priors import Prior, SACPolicyPrior, SoftQPolicyPrior


def _copy_policy(policy: BasePolicy) -> BasePolicy:
    """A frozen-to-be copy, rebuilt as SB3 loads policies (deepcopy fails on gSDE noise state)."""
    clone = type(policy)(**policy._get_constructor_parameters())
    clone.load_state_dict(policy.state_dict())
    return clone.to(policy.device)


def prior_from_model(model: BaseAlgorithm) -> Prior:
    """A frozen copy of a trained soft-Q or SAC model's policy, as a prior."""
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


def load_shipped_prior(task: str, kind: str = "rl") -> BaseAlgorithm:
    """The shipped prior of a task as its trained SB3 model (SoftQ or SAC)."""
    return load_model(shipped_prior_path(task, kind))
