"""The native highway training env (rqlbench/tasks/highway_native_env.py) against highway-env.

Resets must give highway-env's initial state bit for bit (same seed, same numpy generator, same
draw order; docs/highway-port.md §1), seeded and continued; whole episodes through the task's
reward wrapper must give the same observations, rewards, metric ingredients and ends. Step-level
fidelity of the simulator itself is tests/test_highway_native.py's.
"""

import numpy as np
import pytest

from rqlbench.tasks import get_task
from rqlbench.tasks.highway_native import import_arrays
from rqlbench.tasks.highway_native_env import NativeHighwayEnv
from rqlbench.zoo import load_shipped_prior

TASK = get_task("highway")
RESET_SEEDS = 250  # the reset draws take no branch on their values: a mismatch shows on most
INFO_KEYS = ("basic_reward", "addon_reward", "lane_fraction", "crashed")


def _assert_same_state(native: NativeHighwayEnv, reference, context: str) -> None:
    expected, actual = import_arrays(reference), native.sim.state()
    for key, value in expected.items():
        assert np.array_equal(np.asarray(actual[key]), np.asarray(value)), f"{context}: {key}"


def test_seeded_resets_equal_highway_env_bit_for_bit():
    reference, native = TASK.make_base_env(), NativeHighwayEnv()
    for seed in range(RESET_SEEDS):
        obs_ref, _ = reference.reset(seed=seed)
        obs, _ = native.reset(seed=seed)
        _assert_same_state(native, reference, f"seed {seed}")
        assert np.array_equal(obs, obs_ref) and obs.dtype == obs_ref.dtype


def test_unseeded_resets_continue_the_same_random_stream():
    reference, native = TASK.make_base_env(), NativeHighwayEnv()
    reference.reset(seed=3)
    native.reset(seed=3)
    for episode in range(20):
        reference.reset()
        native.reset()
        _assert_same_state(native, reference, f"reset {episode} after seed 3")


def _episode(env, seed: int, actions: np.random.Generator, prior) -> list:
    """(obs, reward, terminated, truncated, info subset) per step; prior actions, 20 % noise."""
    obs, _ = env.reset(seed=seed)
    steps = []
    while True:
        action = int(prior.predict(obs, deterministic=True)[0])
        if actions.random() < 0.2:
            action = int(actions.integers(5))
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((obs, reward, terminated, truncated, {k: info[k] for k in INFO_KEYS}))
        if terminated or truncated:
            return steps


def test_episodes_through_the_task_wrapper_equal_highway_env():
    prior = load_shipped_prior("highway", "rl")
    reference = TASK.make_env("full", omega=0.5)  # returns 0.5·basic + add-on: both rewards count
    native = TASK.make_env("full", omega=0.5, simulator="native")
    ends = set()
    for seed in range(4):
        expected = _episode(reference, seed, np.random.default_rng(seed), prior)
        actual = _episode(native, seed, np.random.default_rng(seed), prior)
        assert len(actual) == len(expected), f"seed {seed}: episode length"
        for t, (want, got) in enumerate(zip(expected, actual, strict=True)):
            # ≤1e-15 state differences (numpy's AVX-512 libm, docs/highway-port.md §9) may move a
            # float32 observation by one rounding step; everything else must agree.
            np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)
            assert got[1] == pytest.approx(want[1], rel=1e-9, abs=1e-12), f"seed {seed} step {t}"
            assert got[2:4] == want[2:4], f"seed {seed} step {t}: terminated / truncated"
            for key in INFO_KEYS:
                assert got[4][key] == pytest.approx(want[4][key], rel=1e-9, abs=1e-12), key
        ends.add("crash" if expected[-1][2] else "time limit")
    assert ends == {"crash", "time limit"}, f"episodes must cover both ends, saw {ends}"


def test_step_before_reset_is_refused():
    with pytest.raises(RuntimeError, match="reset"):
        NativeHighwayEnv().step(1)


def test_native_simulator_is_refused_where_a_task_has_none():
    with pytest.raises(ValueError, match=r"no native simulator.*highway"):
        get_task("cartpole").make_env(simulator="native")
    with pytest.raises(ValueError, match="simulator must be one of"):
        TASK.make_env(simulator="fast")
