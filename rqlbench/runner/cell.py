"""Running one cell: load its prior, train the method (if it learns), evaluate it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from tqdm.auto import tqdm

from rqlbench.evaluation import evaluate
from rqlbench.methods import get_method, run_method
from rqlbench.methods.common import MethodRun, prior_temperature
from rqlbench.prior_files import prior_digest, prior_path
from rqlbench.results_format import STORE_VERSION
from rqlbench.runner.grid import Cell, plan_cell
from rqlbench.tasks import get_task
from rqlbench.zoo import load_model


def run_cell(
    cell: Cell, preset: str, prior_dir: str | None = None, progress: bool = False
) -> dict[str, Any]:
    """Trains and evaluates one cell; returns its result record (see the report's schema).

    One torch thread: cells run side by side, one per core. `progress` shows bars for the
    training steps and the evaluation episodes (for a cell run in the calling process).
    """
    torch.set_num_threads(1)
    task = get_task(cell.task)
    plan = plan_cell(cell, preset)
    prior_file = prior_path(cell.task, cell.prior, prior_dir)
    prior_sha256 = prior_digest(prior_file)  # of the file as it is loaded, not after training
    prior_model = load_model(prior_file)
    curve = EpisodeCurve()
    callback = CallbackList([curve, StepProgress(plan.steps)]) if progress else curve
    run = MethodRun(
        task=task, prior_model=prior_model, steps=plan.steps, seed=cell.seed, omega=plan.omega,
        settings=plan.settings, callback=callback, simulator=plan.simulator,
    )  # fmt: skip
    start = time.perf_counter()
    policy = run_method(cell.method, run)
    trained = time.perf_counter()
    episodes = evaluate(policy, task, plan.episodes, cell.first_episode_seed, progress=progress)
    evaluated = time.perf_counter()
    decisions = getattr(policy, "decisions", 0)  # planners: time their own searches
    method = get_method(cell.method)
    sweeps_omega = "omega" in method.sweeps  # else ω' means nothing to it
    return {
        "schema": STORE_VERSION,
        "cell": {**cell.as_dict(), "omega": run.omega_prime if sweeps_omega else None},
        "metric_name": task.metric_name,
        "metric_higher_is_better": task.metric_higher_is_better,
        "steps": plan.steps,
        "settings": plan.settings,
        "simulator": plan.simulator,
        "prior_sha256": prior_sha256,
        "episodes": [record.as_dict() for record in episodes],
        "curve": curve.points,
        "train_seconds": trained - start,
        "eval_seconds": evaluated - trained,
        "decision_seconds": policy.planning_seconds / decisions if decisions else None,
        # where training left α̂ (SAC-based learners tune it: docs/diagnostics/parking_il.py)
        "alpha_hat_final": prior_temperature(policy) if method.trains else None,
    }


class EpisodeCurve(BaseCallback):
    """Records each training episode's basic and add-on return (from the task's step info)."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[dict[str, float]] = []
        self._sums: np.ndarray | None = None

    def _on_step(self) -> bool:
        infos, dones = self.locals["infos"], self.locals["dones"]
        if self._sums is None:
            self._sums = np.zeros((len(infos), 2))
        for i, info in enumerate(infos):
            self._sums[i] += (info["basic_reward"], info["addon_reward"])
            if dones[i]:
                basic, addon = map(float, self._sums[i])
                self.points.append(
                    {"step": self.num_timesteps, "basic_return": basic, "addon_return": addon}
                )
                self._sums[i] = 0.0
        return True


class StepProgress(BaseCallback):
    """A progress bar over a cell's training steps."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.bar = tqdm(total=total, desc="steps", leave=False, disable=total == 0)

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        return True

    def _on_training_end(self) -> None:
        self.bar.close()
