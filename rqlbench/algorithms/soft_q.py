"""Soft Q-learning (max-entropy DQN) and residual soft Q-learning (RSQL, paper eq. 6-8).

Both are Stable-Baselines3 DQN variants: same replay, target network, schedules, callbacks,
loggers and save/load. They differ from DQN in the target (a soft value instead of a max) and in
acting (sampling the Boltzmann policy instead of epsilon-greedy argmax). RSQL learns only the
residual Q_R from the add-on reward and acts with softmax((Q_R + ω' log π)/α̂).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.dqn.policies import CnnPolicy, DQNPolicy, MultiInputPolicy
from torch import Tensor

from rqlbench import residual
from rqlbench.algorithms.buffers import PriorReplayBuffer
from rqlbench.algorithms.common import (
    WithPrior,
    require_action_space,
    require_positive,
    with_fused_adam,
)
from rqlbench.priors import Prior


class SoftQPolicy(DQNPolicy):
    """Acts with the Boltzmann policy softmax((Q + ω' log π)/α); deterministic: its argmax."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alpha, self.omega = 1.0, 0.0
        self.prior_log_probs = None  # set by RSQL; a bound method, so not saved in the policy

    def logits(self, obs: Tensor) -> Tensor:
        q = self.q_net(obs)
        if self.prior_log_probs is None:
            return q
        return residual.residual_logits(q, self.prior_log_probs(obs), self.omega)

    def _predict(self, obs: Tensor, deterministic: bool = True) -> Tensor:
        logits = self.logits(obs)
        if deterministic:
            return logits.argmax(dim=1)
        # Gumbel-max: argmax(l/α + G), G = -log E with E ~ Exp(1), samples softmax(l/α)
        # (6x faster than torch.distributions.Categorical per acting step).
        gumbel = -torch.empty_like(logits).exponential_().log()
        return (logits / self.alpha + gumbel).argmax(dim=1)


class SoftQ(DQN):
    """Soft Q-learning: target r + γ(1-d)·α logsumexp(Q_target(s')/α), Boltzmann exploration.

    The RL prior trainer for discrete tasks. Takes every DQN argument; exploration defaults to
    0 (the Boltzmann policy explores) and the loss to the squared TD error (paper eq. 7).
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": SoftQPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }

    def __init__(
        self,
        policy: str | type[SoftQPolicy] = "MlpPolicy",
        env: Any = None,
        alpha: float = 1.0,
        *,
        learning_starts: int = 1000,
        exploration_initial_eps: float = 0.0,
        exploration_final_eps: float = 0.0,
        loss: str = "mse",
        **kwargs: Any,
    ) -> None:
        require_positive("alpha", alpha, "the policy temperature, e.g. 1.0")
        if loss not in ("mse", "huber"):
            raise ValueError(f"loss must be 'mse' (paper eq. 7) or 'huber', got {loss!r}")
        if kwargs.get("n_steps", 1) != 1:
            raise ValueError(f"n_steps must be 1 for soft targets, got {kwargs['n_steps']}")
        self.alpha, self.loss = float(alpha), loss
        require_action_space(
            env,
            spaces.Discrete,
            f"{type(self).__name__} needs a Discrete action space",
            "use RSAC / SAC for continuous actions",
        )
        super().__init__(
            policy,
            env,
            learning_starts=learning_starts,
            exploration_initial_eps=exploration_initial_eps,
            exploration_final_eps=exploration_final_eps,
            **with_fused_adam(kwargs),
        )

    def _setup_model(self) -> None:
        super()._setup_model()
        self.policy.alpha = self.alpha
        self._trained_params = list(self.q_net.parameters())  # walked once, not per update

    # Hooks of the update; RSQL and the baselines change these only.
    def _reward(self, data: Any, q: Tensor) -> Tensor:
        """The reward the target uses (q: Q(s, .) of the online network, no gradient)."""
        return data.rewards.flatten()

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        """The soft value of s' from the target network's Q(s', .)."""
        return residual.soft_value(next_q, self.alpha)

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            q_all = self.q_net(data.observations)
            with torch.no_grad():
                reward = self._reward(data, q_all.detach())
                next_value = self._next_value(self.q_net_target(data.next_observations), data)
                target = residual.td_target(reward, data.dones.flatten(), next_value, self.gamma)
            q = q_all.gather(1, data.actions.long()).flatten()
            loss = (
                0.5 * F.mse_loss(q, target) if self.loss == "mse" else F.smooth_l1_loss(q, target)
            )
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self._trained_params, self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))


class RSQL(WithPrior, SoftQ):
    """Residual soft Q-learning: learns Q_R from the add-on reward only, given a frozen prior.

    ``RSQL(prior, env, omega=1.0, alpha=1.0).learn(n)``; `env` must return the add-on reward r_R.
    The prior's log π(.|s') for all actions is stored in the replay buffer at insertion
    (``cache_prior=False`` recomputes it per update instead). Saving embeds the prior.
    """

    def __init__(
        self,
        prior: Prior | None = None,
        env: Any = None,
        omega: float = 1.0,
        alpha: float = 1.0,
        *,
        policy: str | type[SoftQPolicy] = "MlpPolicy",
        cache_prior: bool = True,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs = self._init_prior(prior, omega, cache_prior, _init_setup_model, kwargs)
        super().__init__(policy, env, alpha, _init_setup_model=_init_setup_model, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        self._set_acting_policy()

    def _set_acting_policy(self) -> None:
        """Acts with softmax((Q_R + ω' log π)/α̂) (eq. 6)."""
        self.policy.omega, self.policy.prior_log_probs = self.omega, self._acting_log_probs

    def _acting_log_probs(self, obs: Tensor) -> Tensor:
        """log π(.|s) to act at s; while training, s is the last step's s' and already cached."""
        if isinstance(self.replay_buffer, PriorReplayBuffer):
            cached = self.replay_buffer.last_next_cache(obs.cpu().numpy())
            if cached is not None:
                return torch.as_tensor(cached, device=obs.device)
        return self.prior.log_probs(obs)

    def _next_value(self, next_q: Tensor, data: Any) -> Tensor:
        return residual.residual_soft_value(next_q, data.next_prior, self.omega, self.alpha)
