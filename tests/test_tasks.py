"""Task rewards, metrics and success against values computed by hand on crafted states."""

import math

import numpy as np
import pytest

from rqlbench.tasks import (
    get_task,
    offers_planning_model,
    register_task,
    task_class,
    task_names,
)
from rqlbench.tasks.driving import STRIP_OFFSET


def test_registry_lists_the_tasks_and_refuses_unknown_names():
    assert {"cartpole", "mountaincar", "highway", "parking"} <= set(task_names())
    with pytest.raises(ValueError, match=r"unknown task 'cartpol': choose one of cartpole, "):
        get_task("cartpol")
    with pytest.raises(ValueError, match="reward must be one of"):
        get_task("cartpole").make_env(reward="total")


def test_the_registry_says_which_tasks_plan_as_their_classes_do():
    # the registry answers without importing the task (run grids are planned from it)
    for name in task_names():
        assert offers_planning_model(name) == task_class(name).offers_planning_model(), name
    assert offers_planning_model("highway") and not offers_planning_model("parking")
    with pytest.raises(TypeError, match="needs plans=True or plans=False"):
        register_task("new-task", "some.module:NewTask")


def test_cartpole_rewards_metric_and_success():
    task = get_task("cartpole")
    env = task.make_base_env()
    env.reset(seed=0)
    env.unwrapped.state = np.array([1.2, 0.0, -0.1, 0.0])
    r = task.rewards(env, 0, 1.0, {})
    assert r.basic == pytest.approx(1 - 10 * 0.1 / 0.2095)
    assert r.addon == pytest.approx(-0.5)
    steps = [{"abs_x": 0.1}, {"abs_x": 0.3}]
    assert task.metric(steps) == pytest.approx(0.2)
    assert task.success([{"abs_x": 0.0}] * 500, terminated=False, truncated=True)
    assert not task.success([{"abs_x": 0.0}] * 120, terminated=True, truncated=False)


def test_reward_modes_return_addon_basic_or_full():
    for mode, expected in (("addon", "addon"), ("basic", "basic"), ("full", "full")):
        env = get_task("cartpole").make_env(reward=mode, omega=2.0)
        env.reset(seed=0)
        _, reward, *_, info = env.step(1)
        full = 2.0 * info["basic_reward"] + info["addon_reward"]
        value = {"addon": info["addon_reward"], "basic": info["basic_reward"], "full": full}
        assert reward == pytest.approx(value[expected])


def test_mountaincar_counts_negative_actions():
    task = get_task("mountaincar")
    env = task.make_base_env()
    env.reset(seed=0)
    assert task.rewards(env, np.array([-0.3]), -0.009, {}).addon == pytest.approx(-0.1)
    positive = task.rewards(env, np.array([0.2]), -0.004, {})
    assert positive.addon == 0.0 and positive.basic == -0.004
    assert task.metric([{"negative_action": 1.0}] * 3 + [{"negative_action": 0.0}]) == 3
    assert task.success([], terminated=True, truncated=False)


@pytest.fixture(scope="module")
def highway():
    task = get_task("highway")
    env = task.make_base_env()
    env.reset(seed=0)
    return task, env


@pytest.mark.parametrize(("lane", "addon"), [(2, 0.5), (1, 0.25), (0, 0.0)])
def test_highway_rightmost_lane_is_best(highway, lane, addon):
    task, env = highway
    vehicle = env.unwrapped.vehicle
    vehicle.lane_index = vehicle.target_lane_index = (*vehicle.lane_index[:2], lane)
    vehicle.speed, vehicle.heading, vehicle.crashed = 25.0, 0.0, False
    r = task.rewards(env, 1, 0.0, {})
    assert r.addon == pytest.approx(addon)
    assert r.basic == pytest.approx(1.0 + 0.4 * 0.5)  # 25 m/s is half-way in [20, 30]
    assert r.ingredients["lane_fraction"] == pytest.approx(lane / 2)


def test_highway_crash_and_success(highway):
    task, env = highway
    vehicle = env.unwrapped.vehicle
    vehicle.speed, vehicle.heading, vehicle.crashed = 35.0, 0.0, True
    r = task.rewards(env, 1, 0.0, {})
    assert r.basic == pytest.approx(-0.5 + 0.4 + 1.0)  # speed clipped to 1
    steps = [{"lane_fraction": 1.0, "crashed": 0.0}, {"lane_fraction": 0.5, "crashed": 1.0}]
    assert task.metric(steps) == pytest.approx(0.75)
    assert not task.success(steps, terminated=True, truncated=False)
    assert task.success(steps[:1], terminated=False, truncated=True)
    vehicle.crashed = False


@pytest.fixture(scope="module")
def parking():
    task = get_task("parking")
    env = task.make_base_env()
    env.reset(seed=0)
    return task, env


def _place(env, lateral: float) -> None:
    vehicle = env.unwrapped.vehicle
    goal = vehicle.goal
    across = np.array([-math.sin(goal.heading), math.cos(goal.heading)])
    vehicle.position = goal.position + lateral * across
    vehicle.heading = goal.heading


def test_parking_car_on_a_boundary_line_gets_minus_one(parking):
    task, env = parking
    _place(env, STRIP_OFFSET)  # centred on one line
    assert task.rewards(env, np.zeros(2), 0.0, {}).addon == -1.0
    _place(env, -STRIP_OFFSET - 0.9)  # half the 2 m wide car over the other line
    assert task.rewards(env, np.zeros(2), 0.0, {}).addon == -1.0


def test_parking_car_inside_the_slot_is_clear_and_succeeds(parking):
    task, env = parking
    _place(env, 0.0)  # the 2 m wide car in the 4 m slot: 1 m from each line
    r = task.rewards(env, np.zeros(2), 0.0, {})
    assert r.addon == 0.0 and r.basic > -0.12
    _place(env, 3.5)  # beside the slot, clear of both lines
    assert task.rewards(env, np.zeros(2), 0.0, {}).addon == 0.0
    clean = [{"contact": 0.0, "goal_reward": -0.5}, {"contact": 0.0, "goal_reward": -0.05}]
    assert task.metric(clean) == 1.0 and task.success(clean, terminated=True, truncated=False)
    touched = [{"contact": 1.0, "goal_reward": -0.5}]
    assert task.metric(touched) == 0.0 and not task.success(touched, False, True)


def test_parking_wall_crash_costs_five(parking):
    task, env = parking
    _place(env, 0.0)
    env.unwrapped.vehicle.crashed = True
    r = task.rewards(env, np.zeros(2), 0.0, {})
    assert r.basic == pytest.approx(r.ingredients["goal_reward"] - 5.0)
    assert r.ingredients["crashed"] == 1.0
    env.unwrapped.vehicle.crashed = False


def test_parking_observation_is_goal_then_ego(parking):
    _, env = parking
    obs, _ = env.reset(seed=1)
    raw = env.unwrapped.observation_type.observe()
    np.testing.assert_allclose(obs, np.concatenate([raw["desired_goal"], raw["observation"]]))


def test_halfcheetah_addon_is_mechanical_power():
    import mujoco

    task = get_task("halfcheetah")
    env = task.make_base_env()
    env.reset(seed=0)
    model, data = env.unwrapped.model, env.unwrapped.data
    data.qvel[:] = 0.0
    data.qvel[3] = 2.0  # back thigh joint, rad/s
    data.ctrl[:] = 0.0
    data.ctrl[0] = 0.5
    mujoco.mj_forward(model, data)
    gear = model.actuator_gear[0, 0]
    power = abs(0.5 * gear * 2.0)  # force = ctrl for a motor; actuator velocity = gear·q̇
    r = task.rewards(env, np.zeros(6), 1.5, {"x_velocity": 3.0})
    assert r.addon == pytest.approx(-5e-4 * power) and r.basic == 1.5
    steps = [{"power": 10.0, "forward_speed": 2.5}, {"power": 20.0, "forward_speed": 1.7}]
    assert task.metric(steps) == pytest.approx(15.0)
    assert task.success(steps, False, True) and not task.success(steps[1:], False, True)


def test_parking_env_steps_exactly_as_highway_env():
    """rqlbench's parking env (observation without pandas) against highway-env's own, bit for bit:
    every observation, reward, flag and success of three episodes under the same actions."""
    import gymnasium as gym
    from highway_env.envs.common.observation import KinematicsGoalObservation

    from rqlbench.tasks.driving import PARKING_CONFIG
    from rqlbench.tasks.parking_env import FastKinematicsGoalObservation, make_parking_env

    ours, theirs = make_parking_env(), gym.make("parking-v0")
    for env in (ours, theirs):
        env.unwrapped.configure(PARKING_CONFIG)
    actions = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    steps, seed = 0, 0
    for seed in range(3):
        a, b = ours.reset(seed=seed)[0], theirs.reset(seed=seed)[0]
        assert type(ours.unwrapped.observation_type_parking) is FastKinematicsGoalObservation
        done = False
        while not done:
            for key in a:
                assert np.array_equal(a[key], b[key]) and a[key].dtype == b[key].dtype, key
            library = KinematicsGoalObservation.observe(ours.unwrapped.observation_type_parking)
            assert all(np.array_equal(library[k], a[k]) for k in library)
            action = actions[steps % len(actions)]
            a, reward_a, *flags_a, info_a = ours.step(action)
            b, reward_b, *flags_b, info_b = theirs.step(action)
            assert (reward_a, flags_a, info_a["is_success"]) == (
                reward_b, flags_b, info_b["is_success"]
            )  # fmt: skip
            done, steps = any(flags_a), steps + 1
    assert steps >= 100  # whole episodes, not a step or two
