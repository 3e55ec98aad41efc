"""Why RSAC from halfcheetah's IL prior stops running (issue 13; parking's case: parking_il.py).

    python docs/diagnostics/halfcheetah_il.py [--out DIR]   # resumable; DIR/results.json

Results (20k steps, ~25 min on one core): docs/diagnostics/halfcheetah_il_results.json.

In the tuning sweep (docs/results/tuning/halfcheetah) RSAC from the RL prior kept running at
ω' 0.15 and 0.5 and from the IL prior at no ω' in 0.005–0.5; the main run's five seeds agree.

1. Is the IL prior overconfident off its own path, as parking's GAIL + BC prior is? Each prior's
   median log σ and mean log-likelihood of the actions on its own path, on the other prior's
   path, and of uniform random actions (what RSAC's first steps take) on its own path.
2. Is it the temperature? RSAC from the IL prior at the quick budget, one seed, for ω' 0.15 and
   0.5 × α̂: auto from the IL prior's α (0.015: the protocol), auto from the RL prior's α (0.080:
   what the RL prior's customization starts from), fixed at 0.080.

Every evaluation: deterministic episodes on validation env seeds (from 20000), never the
evaluation seeds; the recipe is the runner's (`MethodRun.learner_kwargs`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from paths import Results, confidence, own_path

from rqlbench.evaluation import evaluate, summarize
from rqlbench.methods import run_method
from rqlbench.methods.common import MethodRun, prior_temperature
from rqlbench.runner.grid import VALIDATION_SEED, preset_config
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior

TASK = get_task("halfcheetah")
EPISODES = 20
PATH_EPISODES = 3
OMEGAS = (0.15, 0.5)


def temperature_settings(priors: dict) -> dict[str, dict]:
    rl_alpha = prior_temperature(priors["rl"])
    return {
        "auto from the IL prior's alpha": {},
        "auto from the RL prior's alpha": {"ent_coef": f"auto_{rl_alpha}"},
        "fixed at the RL prior's alpha": {"ent_coef": rl_alpha},
    }


def rsac(prior, omega: float, settings: dict, steps: int) -> dict:
    run = MethodRun(TASK, prior, steps, seed=0, omega=omega, settings=settings)
    model = run_method("rql", run)
    records = evaluate(model, TASK, EPISODES, seed=VALIDATION_SEED)
    return {**summarize(records), "alpha_hat_final": prior_temperature(model)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/halfcheetah-il-diagnosis")
    parser.add_argument("--steps", type=int, default=preset_config("halfcheetah", "quick")["steps"])
    args = parser.parse_args()
    results = Results(Path(args.out))

    torch.set_num_threads(1)
    priors = {kind: load_shipped_prior("halfcheetah", kind) for kind in ("rl", "il")}
    paths = {
        kind: own_path(model, TASK.make_env("addon"), PATH_EPISODES)
        for kind, model in priors.items()
    }
    random_actions = {
        kind: torch.empty_like(actions).uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
        for kind, (_, actions) in paths.items()
    }
    for kind, prior in priors.items():
        for driver, (states, actions) in paths.items():
            key = f"{kind} prior on the {driver} prior's path"
            results.record(key, confidence, prior, states, actions)
        own_states = paths[kind][0]
        random = random_actions[kind]
        results.record(
            f"{kind} prior, uniform random actions", confidence, prior, own_states, random
        )
    for name, settings in temperature_settings(priors).items():
        for omega in OMEGAS:
            key = f"rsac il omega{omega} alpha-hat {name} at {args.steps}"
            results.record(key, rsac, priors["il"], omega, settings, args.steps)


if __name__ == "__main__":
    main()
