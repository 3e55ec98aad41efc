"""A task's prior from its YAML recipe: train or resume, save it lean, write its card."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.save_util import recursive_getattr

from rqlbench.evaluation import evaluate, summarize
from rqlbench.files import write_text
from rqlbench.provenance import environment
from rqlbench.tasks import get_task
from rqlbench.tasks.base import Simulator
from rqlbench.zoo.checkpoints import selection_summary, train_resumable
from rqlbench.zoo.gail import train_il_prior
from rqlbench.zoo.her import train_with_her
from rqlbench.zoo.learners import max_entropy_learner
from rqlbench.zoo.loading import load_model, shipped_prior_path


def train_task_prior(
    task_name: str,
    kind: str,
    workdir: str | Path,
    seed: int = 0,
    steps: int | None = None,
    checkpoint_every: int = 10_000,
    eval_episodes: int = 100,
    simulator: Simulator = "reference",
) -> Path:
    """Trains (or resumes) a task's RL or IL prior in `workdir`; returns its prior.zip.

    Checkpoints (model and replay buffer) go to workdir/checkpoints every `checkpoint_every`
    steps, and a rerun resumes from the newest one. The IL prior imitates workdir/../rl/prior.zip
    if one was trained there, otherwise the shipped RL prior. Writes card.json: the command,
    seed, steps, settings, the expert imitated, the evaluation summary and the environment
    (date, package versions, git hash, machine). `simulator` "native" trains (and selects
    checkpoints) on the task's native port; the card's evaluation runs on the reference env.
    """
    if kind not in ("rl", "il"):
        raise ValueError(f"kind must be 'rl' or 'il', got {kind!r}")
    task = get_task(task_name)
    if simulator == "native":
        task.make_native_env()  # refuses a task without one before any training
    settings = task.config()["prior"][kind]
    steps = int(settings["steps"]) if steps is None else steps
    if kind == "rl" and steps < 1:
        raise ValueError(f"an RL prior needs steps >= 1, got {steps}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    def make_env() -> gym.Env:
        return Monitor(task.make_env(reward="basic", simulator=simulator))

    if kind == "rl" and "her" in settings:
        model = train_with_her(task, settings, steps, seed, workdir, checkpoint_every)
    elif kind == "rl":
        venv = make_vec_env(make_env, n_envs=1, seed=seed)
        model = train_resumable(
            venv, lambda: max_entropy_learner(venv, seed, **settings["learner"]),
            steps, workdir, checkpoint_every, settings.get("select"), make_env,
        )  # fmt: skip
    else:
        expert_path = _imitated_expert(task_name, workdir)
        expert = load_model(expert_path, None)
        model = train_il_prior(
            expert, make_env, steps, seed, demo_episodes=int(settings["demo_episodes"]),
            bc_epochs=int(settings.get("bc_epochs", 0)),
            bc_weight=float(settings.get("bc_weight", 0.0)),
            gail_reward=settings.get("gail_reward", "positive"),
            learner_kwargs=settings.get("learner", task.config()["prior"]["rl"]["learner"]),
        )  # fmt: skip
    prior_path = workdir / "prior.zip"
    model.rqlbench_task = task_name  # saved with the model: methods refuse it for other tasks
    clear_optimizer_moments(model)
    forget_training_replay(model)
    model.save(prior_path)
    card = {
        "task": task_name,
        "kind": kind,
        "command": f"rqlbench train-prior {task_name} --kind {kind} --seed {seed} --steps {steps}"
        + (f" --simulator {simulator}" if simulator != "reference" else ""),
        "seed": seed,
        "steps": steps,
        "simulator": simulator,
        "settings": settings,
        "expert": None if kind == "rl" else _expert_name(task_name, expert_path),
        "selection": selection_summary(workdir),
        "evaluation": summarize(evaluate(model, task, eval_episodes, seed=10_000)),
        "trained_on": {"date": datetime.date.today().isoformat(), **environment()},
    }
    write_text(workdir / "card.json", json.dumps(card, indent=2) + "\n")
    return prior_path


def _imitated_expert(task_name: str, workdir: Path) -> Path:
    """The RL prior an IL prior in `workdir` imitates: ../rl/prior.zip, else the shipped one."""
    trained = workdir.parent / "rl" / "prior.zip"
    return trained if trained.is_file() else shipped_prior_path(task_name, "rl")


def _expert_name(task_name: str, path: Path) -> str:
    return "the shipped RL prior" if path == shipped_prior_path(task_name, "rl") else str(path)


def clear_optimizer_moments(model: BaseAlgorithm) -> None:
    """Empties the optimizers' moments: a prior is its weights; Adam's state would double it."""
    for name in model._get_torch_save_params()[0]:
        optimizer = recursive_getattr(model, name)
        if isinstance(optimizer, torch.optim.Optimizer):
            optimizer.state.clear()


def forget_training_replay(model: BaseAlgorithm) -> None:
    """Drops the replay settings only training used; a loaded prior gets SB3's default buffer."""
    # GAIL's buffer wrapper pickles its reward function, which would tie the saved prior to the
    # module that trained it.
    model.replay_buffer_class, model.replay_buffer_kwargs = None, {}
