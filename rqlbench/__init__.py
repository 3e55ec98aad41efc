"""rqlbench: residual Q-learning for policy customization, and a benchmark suite for it."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_ALGORITHMS = ("RSAC", "RSQL", "SoftQ")
__all__ = [*_ALGORITHMS, "__version__"]


def __getattr__(name: str) -> Any:
    # The learners pull in torch and Stable-Baselines3; `import rqlbench.mcts` should not.
    if name in _ALGORITHMS:
        from rqlbench import algorithms

        return getattr(algorithms, name)
    raise AttributeError(f"module 'rqlbench' has no attribute {name!r}")
