"""The priors rqlbench ships: present, loadable, matching their task, as good as their cards say."""

import json

import pytest

from rqlbench.cli import build_parser, train_prior
from rqlbench.evaluation import evaluate, summarize
from rqlbench.priors import check_prior_matches
from rqlbench.tasks import get_task, task_names
from rqlbench.zoo import load_shipped_prior, prior_from_model, shipped_prior_path

SHIPPED = [(task, kind) for task in task_names() for kind in ("rl", "il")]


@pytest.mark.parametrize(("task_name", "kind"), SHIPPED)
def test_shipped_prior_loads_matches_its_task_and_reproduces_its_card(task_name, kind):
    task = get_task(task_name)
    model = load_shipped_prior(task_name, kind)
    assert model.rqlbench_task == task_name
    env = task.make_env()
    check_prior_matches(prior_from_model(model), env.observation_space, env.action_space)
    card = json.loads((shipped_prior_path(task_name, kind).parent / "card.json").read_text())
    assert card["task"] == task_name and card["evaluation"]["episodes"] >= 100
    summary = summarize(evaluate(model, task, episodes=10, seed=10_000))
    assert summary["success_rate"] >= card["evaluation"]["success_rate"] - 0.1


def test_missing_shipped_prior_says_how_to_train_one():
    with pytest.raises(FileNotFoundError, match=r"shipped: cartpole/il, .*train-prior pendulum"):
        load_shipped_prior("pendulum", "il")


@pytest.mark.parametrize(("task_name", "kind"), SHIPPED)
def test_shipped_prior_card_command_is_a_valid_rqlbench_command(task_name, kind):
    card = json.loads((shipped_prior_path(task_name, kind).parent / "card.json").read_text())
    program, *argv = card["command"].split()
    args = build_parser().parse_args(argv)
    assert program == "rqlbench" and args.run is train_prior
    steps = card["settings"]["steps"] if args.steps is None else args.steps
    assert (args.task, args.kind, args.seed) == (task_name, kind, card["seed"])
    assert steps == card["steps"]
