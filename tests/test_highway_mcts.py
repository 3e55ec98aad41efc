"""Residual ME-MCTS on highway-env: highway-env is the planning model; plans from live states."""

import copy

import numpy as np
import pytest

from rqlbench.algorithms import SoftQ
from rqlbench.evaluation import evaluate
from rqlbench.mcts import MCTSConfig
from rqlbench.mcts.planner import Planner, ResidualModel
from rqlbench.tasks import get_task
from rqlbench.tasks.highway_model import HighwayModel, kinematics_observation
from rqlbench.zoo import prior_from_model


@pytest.fixture(scope="module")
def highway():
    task = get_task("highway")
    env = task.make_env()
    env.reset(seed=0)
    prior = prior_from_model(SoftQ(env=env, policy_kwargs=dict(net_arch=[32]), seed=0))
    return task, env, prior


def test_fast_observation_equals_highway_env_observation(highway):
    _, env, _ = highway
    for seed in range(2):
        env.reset(seed=seed)
        for action in [1, 3, 0, 4, 2, 1, 1, 0]:
            expected = env.unwrapped.observation_type.observe()
            np.testing.assert_array_equal(kinematics_observation(env.unwrapped), expected)
            if env.step(action)[2]:
                break


def test_adapter_step_matches_env_step(highway):
    task, env, _ = highway
    model = HighwayModel(task)
    env.reset(seed=5)
    for action in [3, 1, 0, 4, 1]:
        state = model.root(env)
        child, addon, ended = model.step(state, action)
        _, reward, terminated, truncated, info = env.step(action)
        vehicle, planned = env.unwrapped.vehicle, child.vehicle
        np.testing.assert_array_equal(planned.position, vehicle.position)
        assert planned.speed == vehicle.speed and planned.heading == vehicle.heading
        others = [v.position for v in env.unwrapped.road.vehicles]
        np.testing.assert_array_equal([v.position for v in child.road.vehicles], others)
        assert addon == reward == info["addon_reward"]
        assert ended == (terminated or truncated)
        assert model.step(state, action)[0].vehicle.position.tolist() == vehicle.position.tolist()
        if terminated:
            break
    # The root copy leaves the live env untouched.
    before = copy.deepcopy(env.unwrapped.vehicle.position)
    model.step(model.root(env), 0)
    np.testing.assert_array_equal(env.unwrapped.vehicle.position, before)


def test_planner_policy_runs_an_episode_through_evaluate(highway):
    task, _, prior = highway
    config = MCTSConfig(num_simulations=2, max_depth=2, rollout_depth=0, gamma=0.8, seed=0)
    model = ResidualModel(task.planning_model(), prior, horizon=2)
    planner = Planner(model, config)
    records = evaluate(planner, task, episodes=1, seed=0)
    assert records[0].length >= 1 and planner.decisions == records[0].length
    assert planner.model.dynamics.simulator_steps > 0
    with pytest.raises(RuntimeError, match="bind"):
        Planner(model, config).predict(None)
