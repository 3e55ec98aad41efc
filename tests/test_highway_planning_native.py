"""The native highway planning model (csrc/highway/planning_model.h) against the Python path.

The Python path is ResidualModel's: HighwayModel (highway-env's own simulator on copies, the
task's add-on reward, ended = crashed or time >= duration) and the prior's float64 numpy
``log_probs_of`` on highway-env's own Kinematics observation.
"""

from __future__ import annotations

import copy
import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest

from rqlbench import _mcts
from rqlbench.evaluation import evaluate
from rqlbench.mcts import MCTSConfig, search, search_batch
from rqlbench.mcts.native_planner import NativeHighwayPlanner, highway_planning_model
from rqlbench.methods import MethodRun, prior_temperature, run_method
from rqlbench.tasks import get_task
from rqlbench.tasks.driving import Highway
from rqlbench.tasks.highway_model import HighwayModel
from rqlbench.tasks.highway_native import native_sim
from rqlbench.zoo import load_shipped_prior, prior_from_model

TASK = Highway()
NUM_STATES = 50


def _tree_checks():
    """tests/test_mcts_tree.py as a module (pytest imports tests with importlib, not sys.path)."""
    path = Path(__file__).with_name("test_mcts_tree.py")
    spec = importlib.util.spec_from_file_location("_mcts_tree_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


assert_backup_invariant = _tree_checks().assert_backup_invariant
PAPER = {"num_simulations": 150, "max_depth": 6, "rollout_depth": 6, "gamma": 0.8}


@pytest.fixture(scope="module")
def prior():
    return prior_from_model(load_shipped_prior("highway", "rl"))


@pytest.fixture(scope="module")
def episode_states():
    """NUM_STATES deep copies of highway-env along prior-driven episodes, with the next action.

    The first episode runs to its last step, so states whose step truncates (time 39 -> 40) are
    among them.
    """
    model = load_shipped_prior("highway", "rl")
    model.set_random_seed(3)
    env = TASK.make_base_env()
    states, seed = [], 0
    while len(states) < NUM_STATES:
        obs, _ = env.reset(seed=seed)
        seed += 1
        for _ in range(40):
            action, _ = model.predict(obs, deterministic=False)
            states.append((copy.deepcopy(env), int(action)))
            obs, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated or len(states) == NUM_STATES:
                break
    env.close()
    return states


def python_log_probs(prior, sim) -> np.ndarray:
    return prior.log_probs_of(sim.observation_type.observe())


def test_step_and_log_prior_equal_the_python_path(prior, episode_states):
    native = highway_planning_model(prior, horizon=6)
    python = HighwayModel(TASK)
    ends = 0
    for i, (env, action) in enumerate(episode_states):
        sim = env.unwrapped
        root = native_sim(env)
        np.testing.assert_allclose(
            native.prior_log_probs(root), python_log_probs(prior, sim), rtol=0, atol=1e-9
        )
        child, reward, ended = native.step(root, action)
        py_child, py_reward, py_ended = python.step(sim, action)
        assert ended == py_ended, f"end flag at state {i} (time {sim.time}, action {action})"
        assert reward == pytest.approx(py_reward, rel=0, abs=1e-9), f"add-on reward at state {i}"
        np.testing.assert_allclose(
            native.prior_log_probs(child), python_log_probs(prior, py_child), rtol=0, atol=1e-9
        )
        ends += ended
    assert ends >= 1, "no step ended an episode: the end flag was never compared as True"


def reference_rollout(model, sim, depth, gamma, seed, state_depth, horizon):
    """The rollout written out in Python on HighwaySim, with the core's generator."""
    rng = _mcts.Random(seed, 0)
    sim, ret, discount = sim.copy(), 0.0, 1.0
    for _ in range(max(0, min(depth, horizon - state_depth))):
        weights = np.exp(model.prior_log_probs(sim) - model.prior_log_probs(sim).max())
        u, action = rng.uniform() * weights.sum(), 0
        for a, w in enumerate(weights):  # inverse CDF, as the core samples
            if w <= 0:
                continue
            action = a
            if u < w:
                break
            u -= w
        _, addon, terminated, truncated = sim.step(action)
        ret += discount * addon
        discount *= gamma
        if terminated or truncated:
            break
    return ret


def test_rollout_is_the_prior_return_to_the_horizon(prior, episode_states):
    horizon = 6
    model = highway_planning_model(prior, horizon)
    returns = set()
    for i, (env, _) in enumerate(episode_states[::5]):
        root = native_sim(env)
        for state_depth, depth in ((0, 6), (4, 6), (6, 6), (1, 3)):
            got = model.rollout(root, depth, 0.8, 1000 + i, state_depth=state_depth)
            want = reference_rollout(model, root, depth, 0.8, 1000 + i, state_depth, horizon)
            assert got == pytest.approx(want, rel=0, abs=1e-12), (i, state_depth, depth)
            returns.add(round(got, 12))
        assert model.rollout(root, 6, 0.8, 1, state_depth=horizon) == 0.0
    assert len(returns) > 2, "rollouts all returned the same value: they test nothing"


def test_native_search_satisfies_the_backup_invariant(prior, episode_states):
    model = highway_planning_model(prior, horizon=6)
    for env, _ in episode_states[::10]:
        config = MCTSConfig(omega=0.5, alpha=prior.alpha, seed=5, **PAPER)
        result = search(model, native_sim(env), config, return_tree=True)
        assert result.tree.node_visits.size > 20  # a real tree, not a root alone
        assert_backup_invariant(result.tree, config)


def test_threads_share_the_model_without_changing_results(prior, episode_states):
    model = highway_planning_model(prior, horizon=6)
    roots = [native_sim(env) for env, _ in episode_states[::12]]
    before = [root.state()["x"].copy() for root in roots]
    config = MCTSConfig(omega=0.5, alpha=prior.alpha, seed=9, **PAPER)
    threaded = search_batch(model, roots, config, num_threads=2)
    serial = search_batch(model, roots, config, num_threads=1)
    for a, b in zip(threaded, serial, strict=True):
        np.testing.assert_array_equal(a.q, b.q)
        np.testing.assert_array_equal(a.visits, b.visits)
    np.testing.assert_array_equal(threaded[0].q, search(model, roots[0], config).q)
    for root, x in zip(roots, before, strict=True):  # the search steps copies, never the root
        np.testing.assert_array_equal(root.state()["x"], x)


def test_the_root_must_be_a_highway_sim(prior):
    model = highway_planning_model(prior, horizon=6)
    with pytest.raises(TypeError, match="HighwaySim root"):
        search(model, 3, MCTSConfig())
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        highway_planning_model(prior, horizon=0)
    cartpole = prior_from_model(load_shipped_prior("cartpole", "rl"))
    with pytest.raises(ValueError, match="25 inputs"):
        highway_planning_model(cartpole, horizon=6)


def test_planner_drives_an_evaluation_episode_and_times_a_decision(prior, episode_states):
    config = MCTSConfig(omega=prior.alpha, alpha=prior.alpha, seed=0, **PAPER)
    planner = NativeHighwayPlanner(prior, config, horizon=6)
    records = evaluate(planner, TASK, episodes=1, seed=0)
    assert len(records) == 1 and planner.decisions >= 1
    assert planner.last_result.num_simulations == 150
    env = episode_states[0][0]
    planner.bind(env)
    start = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        planner.predict(None)
    per_decision = (time.perf_counter() - start) / repeats
    print(f"\nnative decision at 150 simulations x depth 6: {per_decision * 1e3:.2f} ms")


TINY = {"num_simulations": 2, "max_depth": 2, "rollout_depth": 1, "horizon": 2}


def test_rql_mcts_plans_natively_when_asked():
    prior = load_shipped_prior("highway", "rl")
    settings = {**TINY, "native": True}
    run = MethodRun(task=TASK, prior_model=prior, steps=0, seed=0, omega=0.3, settings=settings)
    planner = run_method("rql-mcts", run)
    assert isinstance(planner, NativeHighwayPlanner)
    assert planner.model.horizon == 2
    assert planner.config.omega == 0.3 and planner.config.num_simulations == 2
    assert planner.config.alpha == pytest.approx(prior_temperature(prior))
    record = evaluate(planner, TASK, episodes=1, seed=0)[0]
    assert record.length == planner.decisions


def test_native_planning_is_refused_where_there_is_no_native_model():
    cartpole = get_task("cartpole")
    prior = load_shipped_prior("cartpole", "rl")
    run = MethodRun(task=cartpole, prior_model=prior, steps=0, seed=0, settings={"native": True})
    with pytest.raises(ValueError, match="native: true plans with the native highway model"):
        run_method("rql-mcts", run)
    highway = load_shipped_prior("highway", "rl")
    run = MethodRun(task=TASK, prior_model=highway, steps=0, seed=0, settings={"native": "yes"})
    with pytest.raises(ValueError, match="native must be true or false, got 'yes'"):
        run_method("rql-mcts", run)


def test_highway_rql_mcts_plans_natively_by_default():
    prior = load_shipped_prior("highway", "rl")
    run = MethodRun(task=TASK, prior_model=prior, steps=0, seed=0, settings=TINY)
    assert isinstance(run_method("rql-mcts", run), NativeHighwayPlanner)
