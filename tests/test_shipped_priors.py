"""The priors rqlbench ships: present, loadable, matching their task, as good as their cards say."""

import copy
import json

import numpy as np
import pytest
import torch

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


def _visited_states(task_name: str, simulator: str, model, steps: int) -> np.ndarray:
    """Observations the prior meets when it drives its task."""
    env, states = get_task(task_name).make_env(simulator=simulator), []
    obs, _ = env.reset(seed=0)
    while len(states) < steps:
        states.append(obs)
        obs, _, terminated, truncated, _ = env.step(model.predict(obs, deterministic=False)[0])
        if terminated or truncated:
            obs, _ = env.reset()
    return np.array(states, dtype=np.float32)


# highway drives its native simulator (tests/test_highway_native.py holds its steps to
# highway-env's): 1000 states in ~1.5 s, where highway-env took ~23 s for 120
@pytest.mark.parametrize(
    ("task_name", "simulator"), [("cartpole", "reference"), ("highway", "native")]
)
@pytest.mark.parametrize("kind", ["rl", "il"])
def test_one_observation_log_probs_are_the_network_in_float64(task_name, simulator, kind):
    model = load_shipped_prior(task_name, kind)
    prior = prior_from_model(model)
    assert prior.mlp_layers() is not None  # the fast numpy path is the one tested
    network = copy.deepcopy(prior.policy.q_net.q_net).double()
    space, rng = prior.observation_space, np.random.default_rng(0)
    wide = rng.uniform(np.maximum(space.low, -5), np.minimum(space.high, 5), (1000, *space.shape))
    for states in (_visited_states(task_name, simulator, model, 1000), wide.astype(np.float32)):
        flat = torch.as_tensor(states.reshape(len(states), -1), dtype=torch.float64)
        with torch.no_grad():
            exact = torch.log_softmax(network(flat) / prior.alpha, dim=1).numpy()
        one_by_one = np.array([prior.log_probs_of(state) for state in states])
        # (torch's own float32 batch is up to 2e-3 from `exact` here: q/α with α = 0.01 scales
        # a float32 rounding of q by 100)
        np.testing.assert_allclose(one_by_one, exact, rtol=1e-12, atol=1e-9)
