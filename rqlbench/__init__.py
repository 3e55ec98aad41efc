"""rqlbench: residual Q-learning for policy customization, and a benchmark suite for it."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _require_installed_parts() -> None:
    # Python puts the working directory first on sys.path for `python -m` and `python -c`, so
    # started in a source checkout they import its rqlbench/, which lacks what only an install
    # provides. Say so instead of failing later on a missing module.
    from importlib.util import find_spec

    missing = [name for name in ("rqlbench._mcts", "rqlbench.baselines") if not find_spec(name)]
    if missing:
        raise ImportError(
            f"rqlbench is being imported from the source tree {__path__[0]}, which has no "
            f"{' and no '.join(missing)} (only an install builds and maps them): run the "
            "`rqlbench` command or start Python outside the checkout, or install the checkout "
            "editable: pip install -e ."
        )


_require_installed_parts()

_ALGORITHMS = ("RSAC", "RSQL", "SoftQ")
__all__ = [*_ALGORITHMS, "__version__"]


def __getattr__(name: str) -> Any:
    # The learners pull in torch and Stable-Baselines3; `import rqlbench.mcts` should not.
    if name in _ALGORITHMS:
        from rqlbench import algorithms

        return getattr(algorithms, name)
    raise AttributeError(f"module 'rqlbench' has no attribute {name!r}")
