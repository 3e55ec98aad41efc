"""Every method runs one tiny cell end to end, through the same interface."""

import pytest

from rqlbench.algorithms import RSAC
from rqlbench.evaluation import evaluate
from rqlbench.methods import MethodRun, method_names, run_method
from rqlbench.priors import load_shipped_prior, prior_from_model
from rqlbench.priors.train import train_rl_prior
from rqlbench.tasks import get_task

TINY = dict(learning_starts=50, batch_size=16, policy_kwargs=dict(net_arch=[16]), buffer_size=1000)


@pytest.fixture(scope="module", params=["cartpole", "mountaincar"])
def cell(request):
    task = get_task(request.param)
    prior = train_rl_prior(lambda: task.make_env(reward="basic"), 100, seed=0, **TINY)
    return task, prior


@pytest.mark.parametrize("method", [m for m in method_names() if m != "rql-mcts"])
def test_each_method_runs_a_tiny_cell(cell, method):
    task, prior = cell
    run = MethodRun(task=task, prior_model=prior, steps=120, seed=0, omega=0.5, settings=TINY)
    policy = run_method(method, run)
    records = evaluate(policy, task, episodes=1, seed=3)
    assert records[0].length > 0
    if method != "prior":
        assert policy.num_timesteps >= 120


def test_unknown_method_lists_the_valid_ones(cell):
    task, prior = cell
    with pytest.raises(ValueError, match="unknown method 'rsql': choose one of prior, rql, "):
        run_method("rsql", MethodRun(task=task, prior_model=prior, steps=1, seed=0))


def test_rql_mcts_plans_highway_and_refuses_other_tasks():
    highway = get_task("highway")
    highway_prior = train_rl_prior(lambda: highway.make_env(reward="basic"), 60, seed=0, **TINY)
    with pytest.raises(ValueError, match="runs on the highway task only"):
        run_method(
            "rql-mcts",
            MethodRun(task=get_task("cartpole"), prior_model=highway_prior, steps=0, seed=0),
        )
    tiny = dict(num_simulations=2, max_depth=2, rollout_depth=1, horizon=2)
    planner = run_method(
        "rql-mcts",
        MethodRun(task=highway, prior_model=highway_prior, steps=0, seed=0, settings=tiny),
    )
    record = evaluate(planner, highway, episodes=1, seed=0)[0]
    assert record.length == planner.decisions


def test_a_prior_trained_for_another_task_is_refused(cell):
    task, prior = cell
    prior.rqlbench_task = "highway"
    try:
        with pytest.raises(ValueError, match="trained for the 'highway' task, not"):
            run_method("rql", MethodRun(task=task, prior_model=prior, steps=1, seed=0))
    finally:
        del prior.rqlbench_task


def test_default_omega_is_the_prior_temperature(cell):
    task, prior = cell
    run = MethodRun(task=task, prior_model=prior, steps=1, seed=0)
    expected = prior.alpha if hasattr(prior, "alpha") else float(prior.log_ent_coef.detach().exp())
    assert run.omega_prime == pytest.approx(expected)
    assert MethodRun(task=task, prior_model=prior, steps=1, seed=0, omega=0.3).omega_prime == 0.3


def test_continuous_learners_start_at_the_prior_temperature():
    task, prior = get_task("parking"), load_shipped_prior("parking", "rl")
    alpha = float(prior.log_ent_coef.detach().exp())
    run = MethodRun(task=task, prior_model=prior, steps=1, seed=0, settings={"buffer_size": 10})
    model = RSAC(prior_from_model(prior), task.make_env(reward="addon"), **run.learner_kwargs())
    assert float(model.log_ent_coef.exp()) == pytest.approx(alpha)  # then tuned as in SAC
    # A temperature the task's learner settings fix is kept.
    mountaincar = MethodRun(get_task("mountaincar"), load_shipped_prior("mountaincar"), 1, 0)
    assert mountaincar.learner_kwargs()["ent_coef"] == 0.1
