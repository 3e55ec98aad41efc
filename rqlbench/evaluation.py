"""Seeded evaluation episodes of any policy on any task, as per-episode records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from rqlbench.tasks import Task, get_task


class Policy(Protocol):
    def predict(self, observation: Any, deterministic: bool = ...) -> tuple[Any, Any]: ...


@dataclass(frozen=True)
class EpisodeRecord:
    """One evaluation episode: returns of both rewards, the task metric and success."""

    seed: int
    basic_return: float
    addon_return: float
    metric: float
    success: bool
    length: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    policy: Policy,
    task: Task | str,
    episodes: int,
    seed: int = 0,
    deterministic: bool = True,
    progress: bool = False,
) -> list[EpisodeRecord]:
    """Runs `episodes` episodes (env seeds seed, seed+1, ...) and records each."""
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    task = get_task(task) if isinstance(task, str) else task
    env = task.make_env(reward="addon")
    try:
        seeds = range(seed, seed + episodes)
        bar = tqdm(seeds, desc="episodes", leave=False, disable=not progress)
        return [_episode(policy, task, env, episode_seed, deterministic) for episode_seed in bar]
    finally:
        env.close()


def _episode(policy: Policy, task: Task, env: Any, seed: int, deterministic: bool) -> EpisodeRecord:
    obs, _ = env.reset(seed=seed)
    if hasattr(policy, "bind"):  # planners search from the live env's state
        policy.bind(env)
    steps: list[dict[str, float]] = []
    basic = addon = 0.0
    terminated = truncated = False
    while not (terminated or truncated):
        action, _ = policy.predict(obs, deterministic=deterministic)
        obs, _, terminated, truncated, info = env.step(action)
        basic += info["basic_reward"]
        addon += info["addon_reward"]
        steps.append(info)
    return EpisodeRecord(
        seed=seed,
        basic_return=basic,
        addon_return=addon,
        metric=task.metric(steps),
        success=bool(task.success(steps, terminated, truncated)),
        length=len(steps),
    )


def summarize(records: list[EpisodeRecord]) -> dict[str, float]:
    """Success rate and mean/std of the returns and the metric."""
    summary: dict[str, float] = {"episodes": len(records)}
    summary["success_rate"] = float(np.mean([r.success for r in records]))
    for name in ("basic_return", "addon_return", "metric", "length"):
        values = [getattr(r, name) for r in records]
        summary[f"{name}_mean"] = float(np.mean(values))
        summary[f"{name}_std"] = float(np.std(values))
    return summary
