"""C++ core of residual maximum-entropy MCTS (see rqlbench.mcts for the documented API)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from rqlbench.mcts.tree import Tree

# Defaults are not repeated here: csrc/mcts/config.h holds them (tests/test_mcts_config.py checks
# that this stub names the same fields as the C++ Config).

class Config:
    omega: float
    alpha: float
    epsilon: float
    gamma: float
    num_simulations: int
    max_depth: int
    rollout_depth: int
    num_rollouts: int
    action_selection: str
    max_nodes: int
    seed: int
    def __init__(
        self,
        *,
        omega: float = ...,
        alpha: float = ...,
        epsilon: float = ...,
        gamma: float = ...,
        num_simulations: int = ...,
        max_depth: int = ...,
        rollout_depth: int = ...,
        num_rollouts: int = ...,
        action_selection: str = ...,
        max_nodes: int = ...,
        seed: int = ...,
    ) -> None: ...

class SearchResult:
    @property
    def q(self) -> npt.NDArray[np.float64]: ...
    @property
    def visits(self) -> npt.NDArray[np.int32]: ...
    @property
    def log_prior(self) -> npt.NDArray[np.float64]: ...
    @property
    def tree_policy(self) -> npt.NDArray[np.float64]: ...
    @property
    def policy(self) -> npt.NDArray[np.float64]: ...
    @property
    def value(self) -> float: ...
    @property
    def action(self) -> int: ...
    @property
    def num_nodes(self) -> int: ...
    @property
    def num_simulations(self) -> int: ...
    @property
    def tree(self) -> Tree | None: ...  # built on each access; None unless return_tree was set

class TabularModel:
    def __init__(
        self,
        next_state: npt.ArrayLike,
        reward: npt.ArrayLike,
        log_prior: npt.ArrayLike,
        terminal: npt.ArrayLike,
    ) -> None: ...
    @property
    def num_states(self) -> int: ...
    @property
    def num_actions(self) -> int: ...
    def step(self, state: int, action: int) -> tuple[int, float, bool]: ...
    def prior_log_probs(self, state: int) -> npt.NDArray[np.float64]: ...

class Random:
    def __init__(self, seed: int, stream: int) -> None: ...
    def uniform(self) -> float: ...
    def next(self) -> int: ...

def search(model: Any, root: Any, config: Config, return_tree: bool) -> SearchResult: ...
def search_batch(
    model: Any, roots: Sequence[Any], config: Config, num_threads: int, return_tree: bool
) -> list[SearchResult]: ...
def search_open_loop(model: Any, config: Config, return_tree: bool) -> SearchResult: ...

class HighwaySim:
    """Native highway-env 1.9.1 highway at rqlbench's config (build with tasks.highway_native)."""

    def __init__(
        self,
        *,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        heading: npt.ArrayLike,
        speed: npt.ArrayLike,
        target_speed: npt.ArrayLike,
        delta: npt.ArrayLike,
        timer: npt.ArrayLike,
        impact_x: npt.ArrayLike,
        impact_y: npt.ArrayLike,
        lane: npt.ArrayLike,
        target_lane: npt.ArrayLike,
        speed_index: npt.ArrayLike,
        crashed: npt.ArrayLike,
        has_impact: npt.ArrayLike,
        time: float,
        frames: int,
    ) -> None: ...
    def step(self, action: int) -> tuple[float, float, bool, bool]:
        """One policy step; then (basic reward, add-on reward, terminated, truncated)."""
    def observe(self) -> npt.NDArray[np.float32]:
        """highway-env's Kinematics observation of the current state, shape (5, 5)."""
    def rewards(self) -> tuple[float, float]:
        """The task's (basic, add-on) rewards of the current state, as after a step."""
    @property
    def terminated(self) -> bool: ...
    @property
    def truncated(self) -> bool: ...
    def copy(self) -> HighwaySim: ...
    @property
    def num_vehicles(self) -> int: ...
    @property
    def ego_lane(self) -> int:
        """The ego vehicle's lane index (0 is the leftmost lane)."""
    @property
    def ego_crashed(self) -> bool: ...
    @property
    def time(self) -> float: ...
    @property
    def frames(self) -> int: ...
    def state(self) -> dict[str, Any]: ...

class MlpPrior:
    """π(.|s) = softmax(MLP(s)/α), evaluated natively in double (rqlbench.mcts.native_prior)."""

    def __init__(
        self,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        activations: list[str | None],
        alpha: float,
    ) -> None: ...
    @property
    def num_inputs(self) -> int: ...
    @property
    def num_actions(self) -> int: ...
    def log_probs(self, obs: np.ndarray) -> np.ndarray: ...
