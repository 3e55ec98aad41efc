"""Resumable prior training: rolling checkpoints with the replay buffer, and model selection."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
)
from stable_baselines3.common.env_util import make_vec_env

from rqlbench.zoo.learners import EnvFactory
from rqlbench.zoo.loading import load_model

SELECTION_SEED = 20_000  # validation episodes for model selection; cards evaluate from 10_000


def train_resumable(
    venv: Any,
    new_model: Callable[[], BaseAlgorithm],
    steps: int,
    workdir: Path,
    checkpoint_every: int,
    select: dict | None = None,
    make_eval_env: EnvFactory | None = None,
) -> BaseAlgorithm:
    """Trains to `steps`, resuming from the newest checkpoint.

    With `select` ({every, episodes}) the returned model is the one with the best mean basic
    return over `episodes` validation episodes, evaluated every `every` steps (value-based
    learners oscillate: highway's soft-Q prior is not best at its last step).
    """
    checkpoints = workdir / "checkpoints"
    latest = _latest_checkpoint(checkpoints)
    if latest is None:
        model = new_model()
    else:
        model = load_model(latest, venv)
        model.load_replay_buffer(str(latest).replace("rl_model_", "rl_model_replay_buffer_")[:-4])
    callbacks: list[BaseCallback] = [
        _LatestCheckpoint(checkpoint_every, str(checkpoints), save_replay_buffer=True)
    ]
    if select:
        eval_env = make_vec_env(make_eval_env, n_envs=1, seed=SELECTION_SEED)
        callbacks.append(
            _BestModel(eval_env, int(select["every"]), int(select["episodes"]), workdir)
        )
    remaining = steps - model.num_timesteps
    if remaining > 0:
        model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=latest is None)
    best = workdir / "selection" / "best_model.zip"
    return load_model(best, venv) if select and best.exists() else model


class _BestModel(EvalCallback):
    """SB3's EvalCallback keeping best_model.zip, with its history carried across resumes."""

    def __init__(self, eval_env: Any, every: int, episodes: int, workdir: Path) -> None:
        folder = str(workdir / "selection")
        super().__init__(
            eval_env, n_eval_episodes=episodes, eval_freq=every, log_path=folder,
            best_model_save_path=folder, deterministic=True, verbose=0,
        )  # fmt: skip

    def _init_callback(self) -> None:
        super()._init_callback()
        history = Path(f"{self.log_path}.npz")
        if history.exists():
            with np.load(history) as saved:
                self.evaluations_timesteps = saved["timesteps"].tolist()
                self.evaluations_results = saved["results"].tolist()
                self.evaluations_length = saved["ep_lengths"].tolist()
            self.best_mean_reward = float(np.mean(self.evaluations_results, axis=1).max())


def selection_summary(workdir: Path) -> dict[str, Any] | None:
    """Where the selected model was taken: its step and validation mean basic return."""
    history = workdir / "selection" / "evaluations.npz"
    if not history.exists():
        return None
    with np.load(history) as saved:
        means = saved["results"].mean(axis=1)
        best = int(means.argmax())
        return {
            "seed": SELECTION_SEED,
            "episodes": int(saved["results"].shape[1]),
            "evaluated_steps": saved["timesteps"].tolist(),
            "selected_step": int(saved["timesteps"][best]),
            "selected_mean_basic_return": float(means[best]),
        }


class _LatestCheckpoint(CheckpointCallback):
    """Saves model and replay buffer, then deletes the older checkpoints (buffers are large)."""

    def _on_step(self) -> bool:
        result = super()._on_step()
        if self.n_calls % self.save_freq == 0:
            newest = f"_{self.num_timesteps}_steps."
            for path in Path(self.save_path).glob("rl_model_*"):
                if newest not in path.name:
                    path.unlink()
        return result


def _latest_checkpoint(directory: Path) -> Path | None:
    found = [
        (int(m.group(1)), p)
        for p in directory.glob("rl_model_*_steps.zip")
        if (m := re.fullmatch(r"rl_model_(\d+)_steps\.zip", p.name))
    ]
    return max(found)[1] if found else None
