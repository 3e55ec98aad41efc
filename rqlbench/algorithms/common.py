"""What every learner that customizes a frozen prior shares, and the argument checks."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from rqlbench.algorithms.buffers import PriorReplayBuffer
from rqlbench.priors import Prior, check_prior_matches


class WithPrior:
    """Mixin for SB3 algorithms: holds the prior, caches it in replay, saves it embedded.

    The prior's architecture is saved in the model's data (`prior_spec`) and its weights with the
    other state dicts, so ``load`` rebuilds a working prior.
    """

    store_prior_at_state: ClassVar[bool] = False  # also cache the prior at s (not only at s')

    def _init_prior(
        self, prior: Prior | None, omega: float, cache_prior: bool, setup: bool, kwargs: dict
    ) -> dict[str, Any]:
        require_nonnegative_omega(omega)
        name = type(self).__name__
        if setup and prior is None:
            raise ValueError(f"{name} needs a prior: {name}(prior, env, ...) (see rqlbench.priors)")
        self.prior, self.omega, self.cache_prior = prior, float(omega), cache_prior
        self.prior_spec = None if prior is None else (type(prior), prior.spec())
        return {"replay_buffer_class": PriorReplayBuffer, "replay_buffer_kwargs": {}, **kwargs}

    def _setup_model(self) -> None:
        self.prior = self._attached_prior()
        self.replay_buffer_kwargs.update(
            cache_dim=self.prior.cache_dim,
            cache=self.cache_prior,
            store_current=self.store_prior_at_state,
        )
        super()._setup_model()
        self.replay_buffer.prior = self.prior

    def _attached_prior(self) -> Prior:
        """The prior (rebuilt from its spec after load), checked against the env's spaces."""
        prior = self.prior
        if prior is None:
            prior_class, spec = self.prior_spec
            prior = prior_class.from_spec(spec)
        check_prior_matches(prior, self.observation_space, self.action_space)
        return prior.to(self.device).freeze()

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "prior"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        return [*state_dicts, "prior"], variables


def require_action_space(env: Any, kind: type[spaces.Space], needs: str, fix: str) -> None:
    """ValueError (before SB3's bare assertion) when the env's action space is the wrong kind."""
    space = getattr(env, "action_space", None)
    if space is not None and not isinstance(space, kind):
        raise ValueError(f"{needs}, got {space}: {fix}")


def with_fused_adam(kwargs: dict[str, Any]) -> dict[str, Any]:
    """kwargs with fused Adam (same math as SB3's default Adam, one kernel per step) unless set."""
    policy_kwargs = dict(kwargs.get("policy_kwargs") or {})
    policy_kwargs["optimizer_kwargs"] = {
        "fused": True,
        **(policy_kwargs.get("optimizer_kwargs") or {}),
    }
    return {**kwargs, "policy_kwargs": policy_kwargs}


def require_positive(name: str, value: float, meaning: str) -> None:
    if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0 ({meaning}), got {value!r}")


def require_nonnegative_omega(omega: float) -> None:
    if not (isinstance(omega, int | float) and np.isfinite(omega) and omega >= 0):
        raise ValueError(
            f"omega must be a finite number >= 0 (omega' = omega * prior temperature weighs the "
            f"prior; 0 ignores it), got {omega!r}"
        )
