"""Bad input to residual ME-MCTS: clear errors, the original Python exceptions, no leaks."""

import _thread
import gc
import math
import signal
import threading
import time
import weakref

import numpy as np
import pytest

from rqlbench.mcts import MCTSConfig, TabularMDP, search, search_batch, search_open_loop

SMALL = dict(num_simulations=50, max_depth=3, rollout_depth=2)


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"alpha": 0.0}, ValueError, "alpha must be a finite number > 0"),
        ({"alpha": -1.0}, ValueError, "alpha must be a finite number > 0, got -1"),
        ({"alpha": math.inf}, ValueError, "alpha"),
        ({"omega": math.nan}, ValueError, "omega must be a finite number >= 0, got nan"),
        ({"omega": -0.5}, ValueError, "omega"),
        ({"num_simulations": 0}, ValueError, "num_simulations must be an integer >= 1, got 0"),
        ({"num_simulations": -3}, ValueError, "num_simulations"),
        ({"num_simulations": 2.5}, TypeError, "num_simulations must be an integer, got 2.5"),
        ({"gamma": 1.5}, ValueError, r"gamma must be a discount in \[0, 1\]"),
        ({"max_depth": 0}, ValueError, "max_depth"),
        ({"rollout_depth": -1}, ValueError, "rollout_depth"),
        ({"num_rollouts": 0}, ValueError, "num_rollouts"),
        ({"epsilon": -0.1}, ValueError, "epsilon"),
        ({"max_nodes": -1}, ValueError, "max_nodes"),
        ({"seed": -1}, ValueError, "seed"),
        ({"action_selection": "best"}, ValueError, "'argmax', 'sample', 'most_visited'"),
        ({"alpha": "1"}, TypeError, "alpha must be a number"),
    ],
)
def test_bad_config_is_refused_with_the_value_and_the_fix(settings, error, match):
    with pytest.raises(error, match=match):
        MCTSConfig(**settings)


class Model:
    """A tiny chain MDP whose callbacks can be made to misbehave."""

    num_actions = 3

    def __init__(self, step=None, prior=None):
        self._step, self._prior = step, prior

    def step(self, state, action):
        if self._step:
            return self._step(state, action)
        return state + 1, 0.1 * action, state >= 5

    def prior_log_probs(self, state):
        if self._prior:
            return self._prior(state)
        return np.log(np.full(3, 1 / 3))


class Boom(Exception):
    pass


def test_callback_exception_reaches_the_caller_unchanged():
    error = Boom("simulator exploded")

    def step(state, action):
        raise error

    with pytest.raises(Boom) as caught:
        search(Model(step=step), 0, MCTSConfig(**SMALL))
    assert caught.value is error

    def prior(state):
        raise KeyError(state)

    with pytest.raises(KeyError):
        search(Model(prior=prior), 0, MCTSConfig(**SMALL))


@pytest.mark.parametrize(
    ("model", "error", "match"),
    [
        (
            Model(step=lambda s, a: (s + 1, math.nan, False)),
            ValueError,
            "non-finite add-on reward nan",
        ),
        (
            Model(step=lambda s, a: (s + 1, math.inf, False)),
            ValueError,
            "non-finite add-on reward inf",
        ),
        (
            Model(step=lambda s, a: (s + 1, 0.0)),
            TypeError,
            r"\(next_state, addon_reward, terminated\)",
        ),
        (Model(step=lambda s, a: (s + 1, "x", False)), TypeError, "must be real number"),
        (Model(prior=lambda s: np.array([0.0, math.nan, 0.0])), ValueError, "log-probability nan"),
        (
            Model(prior=lambda s: np.log(np.full(4, 0.25))),
            ValueError,
            r"shape \[4\].*num_actions = 3",
        ),
        (Model(prior=lambda s: np.zeros(3)), ValueError, "log_softmax"),
        (Model(prior=lambda s: np.full(3, -math.inf)), ValueError, "logsumexp is -inf"),
        (Model(prior=lambda s: "abc"), TypeError, "1-D array of 3 log-probabilities"),
    ],
)
def test_bad_callback_output_is_a_clear_error(model, error, match):
    with pytest.raises(error, match=match):
        search(model, 0, MCTSConfig(**SMALL))


def test_model_without_the_protocol_is_refused():
    class NoActions:
        def step(self, s, a): ...

    with pytest.raises(TypeError, match="num_actions"):
        search(NoActions(), 0, MCTSConfig(**SMALL))

    class NoPrior:
        num_actions = 2

        def step(self, s, a): ...

    with pytest.raises(TypeError, match=r"prior_log_probs\(state\)"):
        search(NoPrior(), 0, MCTSConfig(**SMALL))
    with pytest.raises(TypeError, match=r"restore_root\(\)"):
        search_open_loop(NoPrior(), MCTSConfig(**SMALL))

    class NoActions(Model):
        num_actions = 0

    with pytest.raises(ValueError, match=r"model\.num_actions must be an integer in \[1, 2\^20\]"):
        search(NoActions(), 0, MCTSConfig(**SMALL))
    empty = np.zeros((3, 0))
    with pytest.raises(
        ValueError, match=r"num_actions\) must be an integer in \[1, 2\^20\], got 0"
    ):
        TabularMDP(empty.astype(int), empty, empty, np.zeros(3, bool)).native()


def test_rollout_hook_values_leaves_and_its_errors_propagate():
    class WithRollout(Model):
        def __init__(self):
            super().__init__()
            self.seeds = []

        def rollout(self, state, depth, gamma, seed):
            self.seeds.append(seed)
            return 10.0

    model = WithRollout()
    config = MCTSConfig(num_simulations=30, max_depth=1, rollout_depth=5, gamma=0.5, epsilon=1.0)
    result = search(model, 0, config)
    np.testing.assert_allclose(result.q, [0.1 * a + 0.5 * 10.0 for a in range(3)])
    assert len(model.seeds) == 3 and len(set(model.seeds)) == 3

    model.rollout = lambda *args: math.nan
    with pytest.raises(ValueError, match=r"model\.rollout returned the non-finite"):
        search(model, 0, config)


def test_tabular_tables_and_indices_are_checked():
    mdp = TabularMDP.random(5, 3, seed=0)
    model = mdp.native()
    with pytest.raises(IndexError, match=r"action 7 is out of range \[0, 3\)"):
        model.step(0, 7)
    with pytest.raises(IndexError, match=r"state 9 is out of range \[0, 5\)"):
        search(model, 9, MCTSConfig(**SMALL))
    with pytest.raises(IndexError, match=r"state -1 is out of range"):
        search_batch(model, [0, -1], MCTSConfig(**SMALL))
    bad_next = mdp.next_state.copy()
    bad_next[2, 1] = 5
    with pytest.raises(IndexError, match=r"next_state\[2, 1\] = 5 is not a state in \[0, 5\)"):
        TabularMDP(bad_next, mdp.reward, mdp.log_prior, mdp.terminal).native()
    bad_reward = mdp.reward.copy()
    bad_reward[1, 2] = math.nan
    with pytest.raises(ValueError, match="non-finite add-on reward nan for action 2"):
        TabularMDP(mdp.next_state, bad_reward, mdp.log_prior, mdp.terminal).native()
    with pytest.raises(ValueError, match="log_softmax"):
        TabularMDP(mdp.next_state, mdp.reward, mdp.log_prior + 1.0, mdp.terminal).native()
    with pytest.raises(ValueError, match="shape of next_state"):
        TabularMDP(mdp.next_state, mdp.reward[:, :2], mdp.log_prior, mdp.terminal).native()
    with pytest.raises(ValueError, match="num_threads"):
        search_batch(model, [0], MCTSConfig(**SMALL), num_threads=-1)


def test_a_tree_too_big_for_memory_is_refused_before_allocating():
    class Wide(Model):
        num_actions = 10_000

    with pytest.raises(ValueError, match="set max_nodes to cap the tree"):
        search(Wide(), 0, MCTSConfig(num_simulations=2_000_000_000))


class State:
    pass


class ObjectModel:
    """Hands out fresh state objects, so the test can see whether the tree lets them go."""

    num_actions = 3

    def __init__(self):
        self.refs = []

    def step(self, state, action):
        nxt = State()
        self.refs.append(weakref.ref(nxt))
        return nxt, 0.0, False

    def prior_log_probs(self, state):
        return np.log(np.full(3, 1 / 3))


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def test_searches_release_states_and_do_not_grow_memory():
    model = ObjectModel()
    root = State()
    config = MCTSConfig(num_simulations=300, max_depth=5, rollout_depth=2)
    search(model, root, config)
    gc.collect()
    assert model.refs and all(ref() is None for ref in model.refs)

    def failing_step(state, action):
        raise Boom()

    native = TabularMDP.random(500, 5, seed=0).native()
    big = MCTSConfig(num_simulations=20_000, max_depth=8, rollout_depth=3)
    for _ in range(3):  # warm up allocator pools
        search(native, 0, big)
        search(model, root, config)
    model.refs.clear()
    before = _rss_kib()
    for _ in range(30):
        search(native, 0, big)
        search(model, root, config)
        with pytest.raises(Boom):
            search(Model(step=failing_step), 0, config)
    gc.collect()
    assert all(ref() is None for ref in model.refs)
    assert _rss_kib() - before < 4 * 1024, "repeated searches grew the process by > 4 MiB"


@pytest.fixture
def ctrl_c_raises():
    """Python's own SIGINT handler for the test. A process started in the background by a shell
    without job control inherits SIGINT ignored, and then `interrupt_main` does nothing: the test
    would search for 15 minutes and fail though the search checks for Ctrl-C as it should."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
@pytest.mark.parametrize("batch", [False, True])
def test_ctrl_c_stops_a_long_native_search(batch):
    model = TabularMDP.random(100, 5, seed=0).native()
    config = MCTSConfig(num_simulations=2_000_000_000, max_depth=8, max_nodes=10_000)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        if batch:
            search_batch(model, [0, 1, 2], config, num_threads=2)
        else:
            search(model, 0, config)
    timer.join()
    assert time.perf_counter() - start < 5.0
