"""Deterministic tabular MDPs: the built-in model for tests, benchmarks and the demo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rqlbench import _mcts


@dataclass(frozen=True)
class TabularMDP:
    """Tables of a deterministic MDP with a prior policy; [S, A] except terminal [S]."""

    next_state: np.ndarray
    reward: np.ndarray  # add-on reward r_R(s, a)
    log_prior: np.ndarray  # normalized log π(a|s)
    terminal: np.ndarray  # absorbing states, worth 0

    @classmethod
    def random(
        cls,
        num_states: int,
        num_actions: int,
        *,
        seed: int = 0,
        terminal_fraction: float = 0.0,
        prior_temperature: float = 1.0,
    ) -> TabularMDP:
        """A random MDP: uniform next states, N(0, 1) rewards, softmax-of-Gaussian prior."""
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(num_states, num_actions)) / prior_temperature
        log_prior = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        terminal = rng.random(num_states) < terminal_fraction
        terminal[0] = False  # state 0 is the usual root
        return cls(
            next_state=rng.integers(0, num_states, size=(num_states, num_actions)),
            reward=rng.normal(size=(num_states, num_actions)),
            log_prior=log_prior,
            terminal=terminal,
        )

    @property
    def num_actions(self) -> int:
        return self.next_state.shape[1]

    def native(self) -> _mcts.TabularModel:
        """The C++ model: searched without Python in the loop (GIL released)."""
        return _mcts.TabularModel(self.next_state, self.reward, self.log_prior, self.terminal)

    def python(self) -> PythonTabularModel:
        """The same MDP as a Python callback model (the path an env adapter takes)."""
        return PythonTabularModel(self)


class PythonTabularModel:
    """A closed-loop Python model over a TabularMDP: states are ints, callbacks are plain Python."""

    def __init__(self, mdp: TabularMDP) -> None:
        self.num_actions = mdp.num_actions
        terminal = mdp.terminal.tolist()
        self._transitions = [
            [(s_next, r, terminal[s_next]) for s_next, r in zip(row_next, row_r, strict=True)]
            for row_next, row_r in zip(mdp.next_state.tolist(), mdp.reward.tolist(), strict=True)
        ]
        self._log_prior = list(np.ascontiguousarray(mdp.log_prior, dtype=np.float64))

    def step(self, state: int, action: int) -> tuple[int, float, bool]:
        return self._transitions[state][action]

    def prior_log_probs(self, state: int) -> np.ndarray:
        return self._log_prior[state]
