"""Parking's shipped priors under the microscope (README "Deviations" and the IL failure).

    python docs/diagnostics/parking_priors.py

1. The −5 crash term of the basic reward: how often each prior crashes on the 100 evaluation
   episodes (env seeds 10000–10099, deterministic) and its mean basic return with and without
   the term.
2. How sharply each prior holds its manoeuvre: on 50 stochastic episodes (validation seeds from
   20000), the mean per-step log-likelihood of the actions taken in each prior's successful
   episodes under both priors, the mean action std, and each prior's temperature α.
"""

from __future__ import annotations

import numpy as np
import torch

from rqlbench.methods.common import prior_temperature
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior, prior_from_model

TASK = get_task("parking")
KINDS = ("rl", "il")


def episode(model, env, seed: int, deterministic: bool) -> dict:
    """One episode: observations, actions, success, crash, basic return with and without −5."""
    obs, _ = env.reset(seed=seed)
    observations, actions, basic, goal, crashed, success = [], [], 0.0, 0.0, False, False
    while True:
        action, _ = model.predict(obs, deterministic=deterministic)
        observations.append(obs)
        actions.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        basic += info["basic_reward"]
        goal += info["goal_reward"]
        crashed |= bool(info["crashed"])
        success |= info["goal_reward"] > TASK.success_reward
        if terminated or truncated:
            break
    return {"obs": np.array(observations), "actions": np.array(actions), "basic": basic,
            "goal_only": goal, "crashed": crashed, "success": success}  # fmt: skip


def crash_term(model) -> dict:
    env = TASK.make_env("basic")
    runs = [episode(model, env, seed, True) for seed in range(10_000, 10_100)]
    return {
        "crash rate": np.mean([r["crashed"] for r in runs]),
        "basic return": np.mean([r["basic"] for r in runs]),
        "basic return without the crash term": np.mean([r["goal_only"] for r in runs]),
    }


def sharpness(model, priors: dict) -> dict:
    model.set_random_seed(0)
    env = TASK.make_env("basic")
    runs = [episode(model, env, seed, False) for seed in range(20_000, 20_050)]
    successful = [r for r in runs if r["success"]]
    result = {"successful episodes of 50": len(successful)}
    for kind, prior in priors.items():
        with torch.no_grad():
            obs = [torch.as_tensor(r["obs"], dtype=torch.float32) for r in successful]
            acts = [torch.as_tensor(r["actions"], dtype=torch.float32) for r in successful]
            loglik = [prior.log_prob(o, a).mean().item() for o, a in zip(obs, acts, strict=True)]
            std = [prior.gaussian(o)[1].exp().mean().item() for o in obs]
        result[f"log-likelihood per step under the {kind} prior"] = np.mean(loglik)
        result[f"action std of the {kind} prior"] = np.mean(std)
    return result


def main() -> None:
    torch.set_num_threads(1)
    models = {kind: load_shipped_prior("parking", kind) for kind in KINDS}
    priors = {kind: prior_from_model(model) for kind, model in models.items()}
    for kind, model in models.items():
        print(f"{kind} prior, alpha = {prior_temperature(model):.4g}")
        for name, value in {**crash_term(model), **sharpness(model, priors)}.items():
            print(f"  {name}: {value:.4g}")


if __name__ == "__main__":
    main()
