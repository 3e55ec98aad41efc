"""The ``rqlbench`` command line."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


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
    from rqlbench.priors.train import train_task_prior

    workdir = Path(args.out) / args.task / args.kind
    path = train_task_prior(
        args.task, args.kind, workdir, seed=args.seed, steps=args.steps,
        checkpoint_every=args.checkpoint_every, eval_episodes=args.eval_episodes,
    )  # fmt: skip
    print(f"prior: {path}\ncard: {workdir / 'card.json'}")


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
    p.add_argument("--steps", type=_positive, default=None, help="steps (the task's default)")
    p.add_argument("--checkpoint-every", type=_positive, default=10_000, help="steps (10000)")
    p.add_argument("--eval-episodes", type=_positive, default=100, help="for the card (100)")
    p.set_defaults(run=train_prior)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, TypeError) as error:
        print(f"rqlbench: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
