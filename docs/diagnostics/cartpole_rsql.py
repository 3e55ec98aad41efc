"""Does RSQL on cartpole customize at the paper's budget? (issue 13; claim (a) on cartpole.)

    python docs/diagnostics/cartpole_rsql.py [--out DIR]   # resumable; DIR/results.json

Results (~45 min of one core): docs/diagnostics/cartpole_rsql_results.json. At 100k steps every
seed customizes: |x| 0.008–0.011 from the RL prior (0.071 on these episodes; 0.07–0.23 at 25k)
and 0.084–0.108 from the IL prior (0.132; 0.13–0.16 at 25k), all at 100 % success.

At the quick budget (25k steps) RSQL from the RL prior at the tuned ω' 0.001 made mean |x| worse
than the prior's in IQM over training seeds 1–5 (0.146 vs 0.069), though the tuning's own seed
moved it to 0.042: the seeds spread from near the prior to far worse. NOTES.md's hypothesis: at
that budget soft-Q's target is too noisy for the residual Q to carry the policy shift. Here the
same cells (RSQL, each prior at its tuned ω', training seeds 1–5, the runner's recipe) train at
25k and at the paper's 100k steps, each evaluated on the same 20 validation episodes (env seeds
from 20000, never the evaluation seeds), beside the priors on those episodes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from paths import Results

from rqlbench.evaluation import evaluate, summarize
from rqlbench.methods import run_method
from rqlbench.methods.common import MethodRun
from rqlbench.runner.grid import VALIDATION_SEED, Cell, plan_cell
from rqlbench.tasks import get_task
from rqlbench.zoo import load_shipped_prior

TASK = get_task("cartpole")
EPISODES = 20
SEEDS = range(1, 6)  # the main run's seeds that no tuning trained
BUDGETS = {"quick": 25_000, "paper": 100_000}


def measure(model) -> dict:
    summary = summarize(evaluate(model, TASK, EPISODES, seed=VALIDATION_SEED))
    return {k: summary[k] for k in ("success_rate", "basic_return_mean", "metric_mean")}


def rsql(prior, kind: str, seed: int, steps: int) -> dict:
    plan = plan_cell(Cell("cartpole", "rql", kind, seed), "quick")  # the tuned ω', the settings
    run = MethodRun(TASK, prior, steps, seed=seed, omega=plan.omega, settings=plan.settings)
    return {"omega": plan.omega, **measure(run_method("rql", run))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/cartpole-rsql-diagnosis")
    args = parser.parse_args()
    results = Results(Path(args.out))

    torch.set_num_threads(1)
    priors = {kind: load_shipped_prior("cartpole", kind) for kind in ("rl", "il")}
    for kind, prior in priors.items():
        results.record(f"{kind} prior", measure, prior)
    for name, steps in BUDGETS.items():
        for kind, prior in priors.items():
            for seed in SEEDS:
                key = f"rsql {kind} seed{seed} at {steps} ({name})"
                results.record(key, rsql, prior, kind, seed, steps)


if __name__ == "__main__":
    main()
