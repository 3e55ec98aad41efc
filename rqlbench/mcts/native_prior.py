"""A soft-Q prior as a native object the C++ core evaluates per node without Python.

Native planning models (the highway model of issue 12) ask the prior at every expansion; the
prior's MLP is exported once, and ``MlpPrior.log_probs`` equals the prior's float64 numpy path
(``log_probs_of``) to rounding.
"""

from __future__ import annotations

from typing import Any

from rqlbench import _mcts


def native_prior(prior: Any) -> _mcts.MlpPrior:
    """The native copy of a soft-Q prior whose q-network is a plain MLP (see `mlp_layers`)."""
    layers = prior.mlp_layers() if hasattr(prior, "mlp_layers") else None
    if layers is None:
        raise TypeError(
            f"{type(prior).__name__} is not a soft-Q prior over a plain MLP (Linear, ReLU, Tanh on "
            "a flattened observation): only those run natively; plan with a Python model instead"
        )
    weights, biases, activations = (list(column) for column in zip(*layers, strict=True))
    return _mcts.MlpPrior(weights, biases, activations, float(prior.alpha))
