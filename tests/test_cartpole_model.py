"""The cartpole planning model is gymnasium's CartPole, step for step."""

from __future__ import annotations

import numpy as np
import pytest

from rqlbench.tasks import get_task
from rqlbench.tasks.cartpole_model import CartPoleState


@pytest.fixture(scope="module")
def task():
    return get_task("cartpole")


def _random_states(count: int, seed: int = 0) -> np.ndarray:
    """States over and beyond the termination bounds (|x| 2.4, |θ| 0.2095)."""
    rng = np.random.default_rng(seed)
    high = np.array([2.6, 3.0, 0.25, 3.5])
    return rng.uniform(-high, high, size=(count, 4))


def _edge_states(env) -> np.ndarray:
    """States that land exactly on, and one ulp past, each termination bound."""
    x, theta = env.x_threshold, env.theta_threshold_radians
    rows = []
    for sign in (-1.0, 1.0):
        for at in (sign * x, np.nextafter(sign * x, sign * np.inf)):
            rows.append([at, 0.0, 0.0, 0.0])  # ẋ = 0: the cart stays at `at` this step
        for at in (sign * theta, np.nextafter(sign * theta, sign * np.inf)):
            rows.append([0.0, 0.0, at, 0.0])
    return np.array(rows)


def test_step_equals_gymnasium_on_random_and_boundary_states(task):
    model = task.planning_model()
    env = task.make_base_env().unwrapped
    env.reset(seed=0)
    states = np.vstack([_random_states(2000), _edge_states(env)])
    actions = np.random.default_rng(1).integers(0, 2, len(states))
    ended_count = 0
    for state, action in zip(states, actions, strict=True):
        env.state, env.steps_beyond_terminated = state.copy(), None
        obs, _, terminated, _, _ = env.step(int(action))
        planned, addon, ended = model.step(CartPoleState(*state, elapsed=0), int(action))
        assert tuple(planned[:4]) == tuple(env.state)  # bit for bit
        np.testing.assert_array_equal(model.observe(planned), obs)
        assert ended == terminated
        assert addon == -abs(env.state[0]) / 2.4
        ended_count += ended
    assert 0.2 * len(states) < ended_count < 0.8 * len(states)  # both outcomes well covered


def test_edge_states_end_exactly_past_the_bounds(task):
    model = task.planning_model()
    env = task.make_base_env().unwrapped
    ended = [model.step(CartPoleState(*s, elapsed=0), 0)[2] for s in _edge_states(env)]
    # rows: x on the bound, one ulp past; θ on the bound, one ulp past; for each sign
    assert ended == [False, True, False, True] * 2


def test_root_reads_the_live_env_and_the_time_limit_ends_the_episode(task):
    model = task.planning_model()
    env = task.make_env()
    env.reset(seed=3)
    for _ in range(5):
        root = model.root(env)
        child, addon, ended = model.step(root, 1)
        _, reward, terminated, truncated, info = env.step(1)
        assert tuple(child[:4]) == tuple(env.unwrapped.state) and child.elapsed == root.elapsed + 1
        assert addon == reward == info["addon_reward"] and ended == (terminated or truncated)
    upright = CartPoleState(0.0, 0.0, 0.0, 0.0, elapsed=task.max_steps - 1)
    assert model.step(upright, 0)[2]  # truncated at 500 steps, as the env's TimeLimit
    assert not model.step(upright._replace(elapsed=task.max_steps - 2), 0)[2]
