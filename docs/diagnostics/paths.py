"""Helpers shared by the diagnostics scripts (run as `python docs/diagnostics/X.py`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rqlbench.files import write_text
from rqlbench.runner.grid import VALIDATION_SEED
from rqlbench.zoo import prior_from_model


def drive(env, seed: int, act: Callable) -> tuple[list, list, list, bool, bool]:
    """One episode from env seed `seed`, `act(obs, t)` choosing each action: its states,
    actions and infos, and whether it terminated or was truncated."""
    obs, _ = env.reset(seed=seed)
    states, actions, infos, terminated, truncated = [], [], [], False, False
    while not (terminated or truncated):
        states.append(obs)
        actions.append(act(obs, len(actions)))
        obs, _, terminated, truncated, info = env.step(actions[-1])
        infos.append(info)
    return states, actions, infos, terminated, truncated


def deterministic(model) -> Callable:
    return lambda obs, t=0: model.predict(obs, deterministic=True)[0]


def own_path(model, env, episodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The states `model` visits and its actions there, acting deterministically over the first
    `episodes` validation episodes."""
    states, actions = [], []
    for seed in range(VALIDATION_SEED, VALIDATION_SEED + episodes):
        visited, taken, *_ = drive(env, seed, deterministic(model))
        states, actions = states + visited, actions + taken
    return torch.as_tensor(np.array(states)), torch.as_tensor(np.array(actions))


def confidence(prior, states: torch.Tensor, actions: torch.Tensor) -> dict[str, float]:
    """How sure `prior` is at `states` (median log σ) and how likely it finds `actions`."""
    with torch.no_grad():
        log_std = prior.actor.get_action_dist_params(states)[1]
        log_likelihood = prior_from_model(prior).log_prob(states, actions)
    return {
        "log_std_median": float(log_std.median()),
        "log_likelihood_mean": float(log_likelihood.mean()),
    }


class Results:
    """A diagnosis's results, DIR/results.json: a rerun keeps the finished points (it resumes),
    and each new point is written and printed as soon as it is computed."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path = out / "results.json"
        self.values = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def record(self, key: str, compute: Callable[..., Any], *args: Any) -> None:
        """Computes the point `key` as compute(*args), unless it is already there."""
        if key not in self.values:
            self.values[key] = compute(*args)
            write_text(self.path, json.dumps(self.values, indent=1))  # atomically
            print(key, json.dumps(self.values[key]), flush=True)
