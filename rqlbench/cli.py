"""The ``rqlbench`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rqlbench.runner import RunSpec, RunStore


def demo(args: argparse.Namespace) -> None:
    """Residual ME-MCTS on a random tabular task: root policies, exactness check, speed."""
    import torch

    from rqlbench import residual
    from rqlbench.mcts import MCTSConfig, TabularMDP, search

    mdp = TabularMDP.random(args.states, args.actions, seed=args.seed, terminal_fraction=0.05)
    config = MCTSConfig(
        omega=args.omega,
        alpha=args.alpha,
        gamma=args.gamma,
        epsilon=1.0,
        num_simulations=args.simulations,
        max_depth=args.depth,
        rollout_depth=0,
        seed=args.seed,
    )
    model = mdp.native()
    start = time.perf_counter()
    result = search(model, 0, config)
    native_seconds = time.perf_counter() - start
    start = time.perf_counter()
    search(mdp.python(), 0, config)
    callback_seconds = time.perf_counter() - start

    exact_q = residual.finite_horizon_residual_soft_q(
        *(torch.as_tensor(t) for t in (mdp.next_state, mdp.reward, mdp.log_prior, mdp.terminal)),
        config.omega,
        config.alpha,
        config.gamma,
        config.max_depth,
    )[0].numpy()
    print(
        f"Residual ME-MCTS on a random tabular task: {args.states} states, {args.actions} actions, "
        f"depth {args.depth}, omega'={args.omega}, alpha={args.alpha}, gamma={args.gamma}"
    )
    print(
        f"{'action':>6} {'prior pi':>9} {'custom pi':>9} {'Q_R':>9} {'exact Q_R':>10} {'visits':>8}"
    )
    prior = np.exp(result.log_prior)
    for a in range(args.actions):
        print(
            f"{a:>6} {prior[a]:>9.4f} {result.policy[a]:>9.4f} {result.q[a]:>9.4f} "
            f"{exact_q[a]:>10.4f} {result.visits[a]:>8}"
        )
    print(
        f"chosen action {result.action}; max |Q_R - exact| = {np.abs(result.q - exact_q).max():.2e}"
    )
    print(
        f"speed: {args.simulations / native_seconds:,.0f} simulations/s (native model), "
        f"{args.simulations / callback_seconds:,.0f} simulations/s (Python callback model)"
    )


def train_prior(args: argparse.Namespace) -> None:
    """Train (or resume) a task's RL or IL prior; writes prior.zip and card.json."""
    from rqlbench.zoo import train_task_prior

    workdir = Path(args.out) / args.task / args.kind
    path = train_task_prior(
        args.task, args.kind, workdir, seed=args.seed, steps=args.steps,
        checkpoint_every=args.checkpoint_every, eval_episodes=args.eval_episodes,
        simulator=args.simulator,
    )  # fmt: skip
    print(f"prior: {path}\ncard: {workdir / 'card.json'}")


def list_command(args: argparse.Namespace) -> None:
    """List the tasks (with their priors), the methods and the presets."""
    from rqlbench.methods import METHODS
    from rqlbench.runner import PRESETS, available_priors
    from rqlbench.tasks import get_task, planning_task_names, task_names

    print("tasks:")
    for name in task_names():
        task = get_task(name)
        priors = ", ".join(available_priors(name)) or "none shipped (rqlbench train-prior)"
        print(f"  {name:<13} metric: {task.metric_name:<20} priors: {priors}")
    print("methods:")
    for name, method in METHODS.items():
        only = f" [{', '.join(planning_task_names())} only]" if method.plans else ""
        print(f"  {name:<13} {method.description}{only}")
    print("presets:")
    for name in PRESETS:
        print(f"  {name:<13} {PRESET_HELP[name]}")


PRESET_HELP = {
    "smoke": "seconds per cell: checks that everything runs",
    "quick": "minutes per cell: shows the qualitative result on a laptop",
    "paper": "the authors' budgets (hours per cell for highway and parking)",
}


def run_command(args: argparse.Namespace) -> None:
    """Run (or resume) a benchmark grid, then write its report (tables, statistics, plots)."""
    default_out = f"runs/{args.preset}-{'-'.join(args.tasks)}"
    _run_and_report(args, args.tasks, args.methods, default_out)


def mcts_command(args: argparse.Namespace) -> None:
    """Zero-shot customization with residual ME-MCTS (highway, cartpole), beside the prior."""
    from rqlbench.runner.grid import sweep_budgets

    if args.sweep:  # the run's config.yaml keeps the budgets, so a rerun resumes the same grid
        args.simulations = list(sweep_budgets(args.tasks))
    sweep = "sweep-" if args.sweep else ""
    default_out = f"runs/mcts-{sweep}{args.preset}-{'-'.join(args.tasks)}"
    _run_and_report(args, args.tasks, ["prior", "rql-mcts"], default_out)


def tune_command(args: argparse.Namespace) -> None:
    """Choose every method's weight on validation episodes; write configs/tuned/TASK.yaml."""
    from rqlbench.runner import (
        RunSpec,
        available_priors,
        describe_plan,
        preset_config,
    )
    from rqlbench.runner.tuning import (
        check_retune,
        select,
        tuned_methods,
        tuning_settings,
        write_tuned_config,
    )

    candidates, rule = tuning_settings(args.task)
    budget = preset_config(args.task, args.preset, "validation")
    methods = tuned_methods(args.task, args.methods, args.priors)
    spec = RunSpec(
        tasks=(args.task,), preset=args.preset, methods=tuple(methods),
        priors=_tuple(args.priors), seeds=args.seeds, omegas=tuple(args.omega or candidates),
        prior_dir=args.prior_dir, split="validation",
    )  # fmt: skip
    context = _tuning_context(args, spec.omegas, budget, rule.describe())
    tuned_file = args.write_to and Path(args.write_to)
    tuned_kinds = list(args.priors or available_priors(args.task, args.prior_dir))
    check_retune(args.task, methods, tuned_kinds, context, tuned_file)  # before any cell runs
    out = Path(args.out or f"runs/tune-{args.preset}-{args.task}")
    if args.dry_run:
        print(describe_plan(spec, out, args.workers, args.timings_from))
        return
    store = _run(spec, out, args)
    selection = select(store, rule)
    path = write_tuned_config(args.task, selection, context, tuned_file)
    for method, kinds in selection["chosen"].items():
        for kind, choice in kinds.items():
            note = "" if choice["met_rule"] else "  (no candidate met the rule)"
            print(f"{method:<14} {kind}: omega' = {choice['omega']:g}{note}")
    print(f"tuning run: {store.path}\nchosen weights: {path}")


def _tuning_context(args: argparse.Namespace, candidates: tuple, budget: dict, rule: str) -> dict:
    """How the weights were chosen, written beside them in the tuned file."""
    from rqlbench.runner.grid import TUNING_TRAINING_SEED, VALIDATION_SEED

    return {
        "tuned_by": f"rqlbench tune {args.task} --preset {args.preset}",
        "rule": rule,
        "validation": {
            "preset": args.preset, "candidates": list(candidates),
            "seeds": args.seeds or int(budget["seeds"]),
            "steps": int(budget["steps"]), "episodes": int(budget["episodes"]),
            "first_env_seed": VALIDATION_SEED,  # evaluation episodes start at 10000
            "first_training_seed": TUNING_TRAINING_SEED,  # main runs train from seed 0
        },
    }  # fmt: skip


def _run_and_report(
    args: argparse.Namespace, tasks: list[str], methods: list[str] | None, default_out: str
) -> None:
    from rqlbench.runner import RunSpec, describe_plan

    spec = RunSpec(
        tasks=tuple(tasks), preset=args.preset, methods=_tuple(methods),
        priors=_tuple(args.priors), seeds=args.seeds, omegas=_tuple(args.omega),
        simulations=_tuple(args.simulations), prior_dir=args.prior_dir,
    )  # fmt: skip
    out = Path(args.out or default_out)
    if args.dry_run:
        print(describe_plan(spec, out, args.workers, args.timings_from))
        return
    store = _run(spec, out, args)
    from rqlbench.report import write_report  # after the run: a bad argument fails at once

    paths = write_report(store.path)
    print(f"results: {store.path}\nreport: {', '.join(str(p) for p in paths[:1])} and "
          f"{len(paths) - 1} more in {store.path / 'report'}")  # fmt: skip


def report_command(args: argparse.Namespace) -> None:
    """Write the tables, statistics and plots of a run directory into RUN/report."""
    from rqlbench.report import summary_markdown, write_report

    paths = write_report(Path(args.run_dir), args.out and Path(args.out))
    print(summary_markdown(Path(args.run_dir), args.out and Path(args.out)))
    print(f"wrote {len(paths)} files to {paths[0].parent if paths else args.out}")


def results_command(args: argparse.Namespace) -> None:
    """Write docs/RESULTS.md (claims, tables, runtimes) and README's headline from docs/results."""
    from rqlbench.report.evidence import write_results

    readme = None if args.readme == "none" else Path(args.readme)
    figures = args.figures and Path(args.figures)
    paths = write_results(Path(args.runs), Path(args.out), figures, readme)
    block = f" and {readme}'s results block" if readme else ""
    print(f"wrote {paths[0]}, {len(paths) - 1} figures{block}")


def _run(spec: RunSpec, out: Path, args: argparse.Namespace) -> RunStore:
    """Runs the grid, saying first until when it starts cells (--stop-by)."""
    from rqlbench.runner import run_benchmark

    if args.stop_by is not None:
        when = dt.datetime.fromtimestamp(args.stop_by).astimezone()
        print(f"rqlbench: starting no cell that would end after {when:%Y-%m-%d %H:%M %Z}")
    return run_benchmark(
        spec, out, args.executor, args.workers, args.address, stop_by=args.stop_by,
        timings_from=args.timings_from,
    )  # fmt: skip


def _tuple(values: list | None) -> tuple | None:
    return tuple(values) if values else None


def _add_grid_arguments(p: argparse.ArgumentParser) -> None:
    from rqlbench.runner import EXECUTORS, PRESETS, PRIOR_KINDS

    p.add_argument("--preset", choices=PRESETS, default="quick", help="budgets (quick)")
    p.add_argument("--priors", nargs="+", choices=PRIOR_KINDS, help="prior kinds (all shipped)")
    p.add_argument("--seeds", type=_positive, help="seeds per cell (the preset's)")
    p.add_argument("--omega", nargs="+", type=_nonnegative, help="omega' values (method default)")
    p.add_argument("--out", help="run directory; rerunning the same command there resumes")
    p.add_argument("--prior-dir", help="priors from `train-prior --out DIR` (shipped priors)")
    p.add_argument("--workers", type=_positive, default=min(2, os.cpu_count() or 1),
                   help="parallel cells (local executor)")  # fmt: skip
    p.add_argument("--executor", choices=EXECUTORS, default="local", help="local or ray (local)")
    p.add_argument("--address", help="Ray cluster address to join (a local one if omitted)")
    p.add_argument("--stop-by", type=_deadline, metavar="WHEN",
                   help="start no cell that would not finish by WHEN (HH:MM, next occurrence, or "
                        "an ISO date-time), judged from the finished cells of its kind; exits "
                        "with 75, everything finished saved")  # fmt: skip
    p.add_argument("--timings-from", nargs="+", default=[], metavar="DIR",
                   help="for kinds of cell not yet timed in --out, the times of those finished "
                        "in these run directories at the same steps (e.g. the tuning run before "
                        "a main run), for --stop-by and --dry-run")  # fmt: skip
    p.add_argument("--dry-run", action="store_true",
                   help="print the cells to run in --out and the time left (from its finished "
                        "cells), run nothing")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rqlbench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("demo", help=demo.__doc__, description=demo.__doc__)
    p.add_argument("--states", type=_positive, default=200, help="tabular states (200)")
    p.add_argument("--actions", type=_positive, default=5, help="actions (5)")
    p.add_argument("--depth", type=_positive, default=5, help="search depth (5)")
    p.add_argument("--simulations", type=_positive, default=200_000, help="simulations (200000)")
    p.add_argument("--omega", type=float, default=1.0, help="omega' = omega * alpha_prior (1.0)")
    p.add_argument("--alpha", type=float, default=1.0, help="customized temperature (1.0)")
    p.add_argument("--gamma", type=float, default=0.95, help="discount (0.95)")
    p.add_argument("--seed", type=int, default=0, help="seed (0)")
    p.set_defaults(run=demo)

    from rqlbench.tasks import task_names

    p = commands.add_parser(
        "train-prior", help=train_prior.__doc__, description=train_prior.__doc__
    )
    p.add_argument("task", choices=task_names(), help="the task")
    p.add_argument("--kind", choices=["rl", "il"], default="rl", help="RL prior or GAIL prior (rl)")
    p.add_argument("--out", default="priors", help="output directory (priors/TASK/KIND)")
    p.add_argument("--seed", type=int, default=0, help="seed (0)")
    p.add_argument(
        "--steps", type=_count, default=None,
        help="environment steps (the task's default; IL: 0 keeps the behaviour-cloned actor)",
    )  # fmt: skip
    p.add_argument("--checkpoint-every", type=_positive, default=10_000, help="steps (10000)")
    p.add_argument("--eval-episodes", type=_positive, default=100, help="for the card (100)")
    p.add_argument("--simulator", choices=["reference", "native"], default="reference",
                   help="train on the task's env or its native port (highway); cards evaluate "
                        "on the task's env (reference)")  # fmt: skip
    p.set_defaults(run=train_prior)

    from rqlbench.methods import method_names

    p = commands.add_parser("list", help=list_command.__doc__, description=list_command.__doc__)
    p.set_defaults(run=list_command)

    p = commands.add_parser("run", help=run_command.__doc__, description=run_command.__doc__)
    p.add_argument("tasks", nargs="*", type=_task_name, default=["cartpole"], metavar="TASK",
                   help=f"tasks: {', '.join(task_names())} (cartpole)")  # fmt: skip
    p.add_argument("--methods", nargs="+", choices=method_names(), help="methods (all)")
    p.add_argument("--simulations", nargs="+", type=_positive, help="MCTS budgets (task's)")
    _add_grid_arguments(p)
    p.set_defaults(run=run_command)

    p = commands.add_parser("mcts", help=mcts_command.__doc__, description=mcts_command.__doc__)
    p.add_argument("tasks", nargs="*", type=_task_name, default=["highway"], metavar="TASK",
                   help="tasks with a planning model (highway)")  # fmt: skip
    budgets = p.add_mutually_exclusive_group()
    budgets.add_argument("--simulations", nargs="+", type=_positive, help="MCTS budgets (150)")
    budgets.add_argument(
        "--sweep", action="store_true",
        help="the budget curve: every budget in the tasks' rql-mcts budgets (highway: 10 to 500)",
    )  # fmt: skip
    _add_grid_arguments(p)
    p.set_defaults(run=mcts_command)

    p = commands.add_parser("tune", help=tune_command.__doc__, description=tune_command.__doc__)
    p.add_argument("task", type=_task_name, metavar="TASK", help=", ".join(task_names()))
    p.add_argument("--methods", nargs="+", choices=method_names(), help="(all with a weight)")
    p.add_argument("--write-to", help="the tuned file (the package's configs/tuned/TASK.yaml)")
    _add_grid_arguments(p)
    p.set_defaults(run=tune_command)

    p = commands.add_parser(
        "report", help=report_command.__doc__, description=report_command.__doc__
    )
    p.add_argument("run_dir", help="a run directory written by `rqlbench run`")
    p.add_argument("--out", help="output directory (RUN_DIR/report)")
    p.set_defaults(run=report_command)

    p = commands.add_parser(
        "results", help=results_command.__doc__, description=results_command.__doc__
    )
    p.add_argument("--runs", default="docs/results", help="run directories (docs/results)")
    p.add_argument("--out", default="docs/RESULTS.md", help="the document (docs/RESULTS.md)")
    p.add_argument("--figures", help="figure directory (OUT's directory/figures)")
    p.add_argument("--readme", default="README.md",
                   help="whose results block to rewrite, or none (README.md)")  # fmt: skip
    p.set_defaults(run=results_command)
    return parser


def _integer_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value

    return parse


_positive, _count = _integer_at_least(1), _integer_at_least(0)


def _task_name(text: str) -> str:
    from rqlbench.tasks import task_names

    if text not in task_names():
        raise argparse.ArgumentTypeError(
            f"unknown task {text!r}: choose one of {', '.join(task_names())}"
        )
    return text


def _nonnegative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def _deadline(text: str) -> float:
    """[H]H:MM (its next occurrence: today, or tomorrow once passed) or an ISO date-time, local
    unless it gives a UTC offset, as seconds since the epoch."""
    now = dt.datetime.now().astimezone()
    try:
        at = dt.time.fromisoformat(text.zfill(5) if len(text) == 4 else text)
        when = dt.datetime.combine(now.date(), at, tzinfo=at.tzinfo or now.tzinfo)
        if when <= now:
            when += dt.timedelta(days=1)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a time: {text!r}; give HH:MM or a date-time like 2026-12-02T09:20"
            ) from None
        if when.astimezone() <= now:  # a naive date-time is local
            raise argparse.ArgumentTypeError(f"{text} has passed: give a time to come") from None
    return when.timestamp()


def main(argv: Sequence[str] | None = None) -> int:
    from rqlbench.runner import DeadlineReached

    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as error:
        print(f"rqlbench: error: {error}", file=sys.stderr)
        return 2
    except DeadlineReached as stopped:
        print(f"rqlbench: {stopped}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: rerun later to resume
    except KeyboardInterrupt:
        print("rqlbench: interrupted; finished cells are saved: rerun to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
