"""The prior's MLP evaluated natively equals its float64 numpy path and its network in float64."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from gymnasium import spaces

from rqlbench.mcts.native_prior import native_prior
from rqlbench.priors import DiscreteModulePrior
from rqlbench.zoo import load_shipped_prior, prior_from_model


@pytest.mark.parametrize("task_name", ["cartpole", "highway"])
@pytest.mark.parametrize("kind", ["rl", "il"])
def test_native_log_probs_equal_the_network_in_float64(task_name, kind):
    prior = prior_from_model(load_shipped_prior(task_name, kind))
    native = native_prior(prior)
    space = prior.observation_space
    actions = prior.action_space.n
    assert (native.num_inputs, native.num_actions) == (int(np.prod(space.shape)), actions)
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, (1000, *space.shape)).astype(np.float32)
    network = copy.deepcopy(prior.policy.q_net.q_net).double()
    with torch.no_grad():
        flat = torch.as_tensor(states.reshape(len(states), -1), dtype=torch.float64)
        exact = torch.log_softmax(network(flat) / prior.alpha, dim=1).numpy()
    ours = np.array([native.log_probs(state) for state in states])
    numpy_path = np.array([prior.log_probs_of(state) for state in states])
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours, numpy_path, rtol=1e-12, atol=1e-10)


def test_other_priors_and_wrong_inputs_are_refused():
    module = torch.nn.Sequential(torch.nn.Linear(4, 2))
    other = DiscreteModulePrior(module, spaces.Box(-1, 1, (4,)), spaces.Discrete(2))
    with pytest.raises(TypeError, match="not a soft-Q prior over a plain MLP"):
        native_prior(other)
    native = native_prior(prior_from_model(load_shipped_prior("cartpole", "rl")))
    with pytest.raises(ValueError, match="4 values"):
        native.log_probs(np.zeros(3))
