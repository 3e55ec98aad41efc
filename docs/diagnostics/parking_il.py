"""Why RSAC from parking's IL prior stopped parking (issue 13, item 6).

    python docs/diagnostics/parking_il.py [--out DIR]   # resumable; DIR/results.json

Resuming from the committed results only (copy parking_il_results.json to DIR/results.json)
redoes no finished point; the budget curve then trains its one run from 0 to 300k afresh.

1. Each prior off its own path: success when its first K steps are perturbed (its deterministic
   action plus Gaussian noise, std 0.5, clipped), K = 0, 10, 20, then the prior drives alone.
2. RSAC from the IL prior at 20k steps, one seed, over ω' (ω = ω'/α from ~1 to ~40 with the IL
   prior's α = 0.168; the RL prior's ω' = 0.2 is ω ≈ 43) × α̂ (auto from the prior's α, as the
   task YAML states, or fixed at the prior's α); and the RL prior's own setting (ω' 0.2, α̂ fixed
   at the RL prior's α = 0.0046) on the IL prior, which separates the prior from the temperature.
   Besides success, how many episodes end early without parking (a crash into a wall: every
   step of the customized objective may cost, α̂·log π̂ included, and a crash stops the costs).
3. Handover: the customized policy of the failed setting (20k) drives the first K = 10, 20 steps,
   then each prior drives alone: does the prior still park from where the customized policy
   leads (the distribution shift of the paper's section 6)?
4. Budget curves at the setting that failed (ω' 0.2, α̂ auto) and with α̂ fixed at the prior's α:
   20k, 50k, 100k, 200k, 300k, both settings at each budget before the next (α̂ auto climbed
   from 0.15 at 20k to 6.6 at 50k: does holding it fix the failure?).

5. Each prior and each kept RSAC policy on its own path (the states of 10 deterministic validation
   episodes): its entropy −E log π(a|s), a ~ π (α̂ auto moves α̂ until π̂'s is SAC's target, −2
   here), its share of actions at the bounds, and each prior's log-likelihood of those actions
   (the IL prior's is the term ω' log π(a|s) RSAC maximizes besides the add-on reward) and
   median log σ there: how sure each prior is where the customized policy drives.

Every evaluation: deterministic episodes on validation env seeds (from 20000), never the
evaluation seeds. The recipe is the runner's (`MethodRun.learner_kwargs`).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch
from paths import Results, confidence, deterministic, drive, own_path

from rqlbench.algorithms import RSAC
from rqlbench.evaluation import evaluate, summarize
from rqlbench.methods import run_method
from rqlbench.methods.common import MethodRun, prior_temperature
from rqlbench.runner.grid import VALIDATION_SEED
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior

TASK = get_task("parking")
EPISODES = 20
PERTURBED_STEPS = (0, 10, 20)
HANDOVER_STEPS = (10, 20)
OMEGAS = (0.2, 1.0, 7.0)
CURVE = (20_000, 50_000, 100_000, 200_000, 300_000)
FAILED = {"omega": 0.2, "alpha_hat": "auto"}
HELD = {"omega": 0.2, "alpha_hat": "fixed"}
RL_SETTING = {"omega": 0.2, "alpha_hat": 0.0046}  # the RL prior's ω' and α: ω'/α̂ ≈ 43


def success_after(first: Callable, steps: int, then, episodes: int = 50) -> float:
    """Success rate when `first(obs)` acts for the first `steps` steps and `then` (a model,
    deterministic) drives the rest of the episode."""
    env, successes = TASK.make_env("addon"), 0
    for seed in range(VALIDATION_SEED, VALIDATION_SEED + episodes):
        act = lambda obs, t: first(obs) if t < steps else deterministic(then)(obs)  # noqa: E731
        _, _, infos, terminated, truncated = drive(env, seed, act)
        successes += bool(TASK.success(infos, terminated, truncated))
    return successes / episodes


def perturbed_success(model, steps: int, noise: float = 0.5) -> float:
    rng = np.random.default_rng(0)

    def noisy(obs: np.ndarray) -> np.ndarray:
        action = model.predict(obs, deterministic=True)[0]
        return np.clip(action + rng.normal(0, noise, action.shape), -1, 1)

    return success_after(noisy, steps, model)


def handover_success(customized, steps: int, prior) -> float:
    """The customized policy drives `steps` steps, then the prior: does the prior still park
    from the states the customized policy leads to (the paper's section 6 on distribution
    shift)?"""
    return success_after(deterministic(customized), steps, prior)


def on_own_path(model, priors: dict, episodes: int = 10) -> dict:
    """Over the states `model` visits acting deterministically: its entropy −E log π(a|s),
    a ~ π, the share of its actions at the bounds (|a| > 0.999), and per prior the mean
    log-likelihood of those actions and the prior's median log σ there (how sure it is)."""
    obs, taken = own_path(model, TASK.make_env("addon"), episodes)
    torch.manual_seed(0)  # the sampled actions
    with torch.no_grad():
        found = {
            "entropy": float(-model.actor.action_log_prob(obs)[1].mean()),
            "actions_at_bounds": float((taken.abs() > 0.999).float().mean()),
        }
    for kind, prior in priors.items():
        sure = confidence(prior, obs, taken)
        found[f"{kind}_prior_log_likelihood"] = sure["log_likelihood_mean"]
        found[f"{kind}_prior_log_std_median"] = sure["log_std_median"]
    return found


def make_rsac(prior_model, omega: float, alpha_hat: str | float) -> RSAC:
    """The runner's rql method, untrained (0 steps); α̂ "auto", "fixed" (at the prior's α) or a
    fixed number."""
    fixed = prior_temperature(prior_model) if alpha_hat == "fixed" else alpha_hat
    settings = {} if alpha_hat == "auto" else {"ent_coef": float(fixed)}
    return run_method("rql", MethodRun(TASK, prior_model, 0, 0, omega=omega, settings=settings))


def train_to(model: RSAC, steps: int, checkpoint: Path) -> RSAC:
    """Trains `model` on to `steps` environment steps, then saves it with its replay buffer."""
    model.learn(steps - model.num_timesteps, reset_num_timesteps=model.num_timesteps == 0)
    model.save(checkpoint / "model.zip")
    shutil.copy(checkpoint / "model.zip", checkpoint / f"model-{steps}.zip")  # for handovers
    model.save_replay_buffer(checkpoint / "buffer.pkl")
    (checkpoint / "steps").write_text(str(steps))
    return model


def resume(prior_model, setting: dict, checkpoint: Path) -> RSAC:
    if (checkpoint / "steps").is_file():
        model = RSAC.load(checkpoint / "model.zip", env=TASK.make_env("addon"))
        model.load_replay_buffer(checkpoint / "buffer.pkl")
        return model
    checkpoint.mkdir(parents=True, exist_ok=True)
    return make_rsac(prior_model, setting["omega"], setting["alpha_hat"])


@cache
def time_limit() -> int:
    """Steps before the env's time limit (100): shorter unsuccessful episodes crashed."""
    config = TASK.make_env("addon").unwrapped.config
    return config["duration"] * config["policy_frequency"]


def evaluation(model) -> dict:
    records = evaluate(model, TASK, EPISODES, seed=VALIDATION_SEED)
    early = np.mean([not r.success and r.length <= time_limit() for r in records])
    return {
        **summarize(records),
        "ended_early_without_parking": float(early),
        "alpha_hat_final": prior_temperature(model),  # α̂ where training ended
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/parking-il-diagnosis")
    out = Path(parser.parse_args().out)
    results = Results(out)

    torch.set_num_threads(1)
    models = {kind: load_shipped_prior("parking", kind) for kind in ("rl", "il")}
    for kind, model in models.items():
        for steps in PERTURBED_STEPS:
            key = f"prior {kind}: success with {steps} perturbed steps"
            results.record(key, perturbed_success, model, steps)

    for kind, model in models.items():
        results.record(f"prior {kind}: on its own path", on_own_path, model, models)

    def point(setting: dict, steps: int) -> None:
        name = f"omega{setting['omega']}-{setting['alpha_hat']}"

        def train_and_evaluate() -> dict:
            return evaluation(
                train_to(resume(models["il"], setting, out / name), steps, out / name)
            )

        results.record(f"rsac il {name} at {steps}", train_and_evaluate)

    point(FAILED, CURVE[0])
    # Loaded on first use, once: a resumed run may have the results but not the model.
    customized = cache(lambda: RSAC.load(out / "omega0.2-auto" / f"model-{CURVE[0]}.zip"))
    for kind, prior in models.items():
        for steps in HANDOVER_STEPS:
            key = f"handover after {steps} steps of rsac il omega0.2-auto at {CURVE[0]}: {kind}"
            results.record(key, lambda k, p: handover_success(customized(), k, p), steps, prior)
    grid = [{"omega": omega, "alpha_hat": a} for omega in OMEGAS for a in ("auto", "fixed")]
    for setting in [RL_SETTING, *(s for s in grid if s != FAILED)]:
        point(setting, CURVE[0])

    def paths() -> None:  # of every customized policy kept so far
        for path in sorted(out.glob("omega*/model-*.zip")):
            steps = path.stem.removeprefix("model-")
            key = f"rsac il {path.parent.name} at {steps}: on its own path"
            results.record(key, lambda p: on_own_path(RSAC.load(p), models), path)

    for steps in CURVE[1:]:  # on to 300k
        for setting in (FAILED, HELD):
            paths()
            point(setting, steps)
    paths()


if __name__ == "__main__":
    main()
