"""Residual soft actor-critic (RSAC, paper eq. 9-10) as a Stable-Baselines3 SAC.

Double residual critics learn Q_R from the add-on reward; the actor minimizes
α̂ log π̂(a|s) - min_i Q_R,i(s, a) - ω' log π(a|s), with α̂ tuned as in SAC. The prior's
Gaussian parameters at s and s' are stored in the replay buffer at insertion, so its
log-probabilities cost no network pass during updates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3 import SAC
from stable_baselines3.common.utils import polyak_update
from torch import Tensor

from rqlbench import residual
from rqlbench.algorithms.buffers import PriorReplayBufferSamples
from rqlbench.algorithms.common import WithPrior, require_action_space, with_fused_adam
from rqlbench.priors import Prior


class RSAC(WithPrior, SAC):
    """``RSAC(prior, env, omega=1.0).learn(n)``; `env` returns the add-on reward r_R.

    omega_warmup=(k, n): use ω'·k for the first n environment steps (the authors' warm start).
    ent_coef is α̂ ("auto" tunes it as SAC does). cache_prior=False recomputes the prior per
    update. Every other argument is SB3 SAC's; saving embeds the prior.
    """

    store_prior_at_state = True  # the actor loss needs log π(a|s) for fresh actions

    def __init__(
        self,
        prior: Prior | None = None,
        env: Any = None,
        omega: float = 1.0,
        *,
        policy: str | type = "MlpPolicy",
        omega_warmup: tuple[float, int] | None = None,
        cache_prior: bool = True,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        if omega_warmup is not None:
            factor, steps = omega_warmup
            if not (np.isfinite(factor) and factor >= 0 and int(steps) >= 0):
                raise ValueError(
                    f"omega_warmup must be (factor >= 0, steps >= 0), got {omega_warmup}"
                )
        if kwargs.get("n_steps", 1) != 1:
            raise ValueError(f"n_steps must be 1 for residual targets, got {kwargs['n_steps']}")
        self.omega_warmup = omega_warmup
        require_action_space(
            env,
            spaces.Box,
            "RSAC needs a continuous (Box) action space",
            "use RSQL for discrete actions",
        )
        kwargs = self._init_prior(prior, omega, cache_prior, _init_setup_model, kwargs)
        super().__init__(
            policy, env, _init_setup_model=_init_setup_model, **with_fused_adam(kwargs)
        )

    def current_omega(self) -> float:
        """ω' now: scaled by the warm-start factor during the first steps."""
        if self.omega_warmup is not None and self.num_timesteps < self.omega_warmup[1]:
            return self.omega * self.omega_warmup[0]
        return self.omega

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        omega = self.current_omega()
        logs: dict[str, list[float]] = {"ent_coef": [], "actor_loss": [], "critic_loss": []}
        for step in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            if self.use_sde:
                self.actor.reset_noise()  # log_std may have changed since the last step
            actions_pi, log_prob = self.actor.action_log_prob(data.observations)
            ent_coef = self._update_ent_coef(log_prob)
            critic_loss = self._update_critic(data, omega, ent_coef)
            actor_loss = self._update_actor(data, actions_pi, log_prob, omega, ent_coef)
            if step % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
            for name, value in zip(logs, (ent_coef, actor_loss, critic_loss), strict=True):
                logs[name].append(float(value))
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/omega", omega)
        for name, values in logs.items():
            self.logger.record(f"train/{name}", np.mean(values))

    def _update_ent_coef(self, log_prob: Tensor) -> Tensor:
        """α̂: fixed, or one SAC temperature step towards the target entropy."""
        if self.ent_coef_optimizer is None:
            return self.ent_coef_tensor
        ent_coef = self.log_ent_coef.detach().exp()
        loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
        self.ent_coef_optimizer.zero_grad()
        loss.backward()
        self.ent_coef_optimizer.step()
        return ent_coef

    # Hooks of the update (eq. 9 and 10); the baselines change these only.
    def _critic_target(
        self,
        data: PriorReplayBufferSamples,
        next_actions: Tensor,
        next_log_prob: Tensor,
        next_q: Tensor,
        omega: float,
        ent_coef: Tensor,
    ) -> Tensor:
        """r_R + γ(1-d)[min Q_R(s',a') + ω' log π(a'|s') - α̂ log π̂(a'|s')], a' ~ π̂."""
        return residual.rsac_critic_target(
            data.rewards.flatten(),
            data.dones.flatten(),
            next_q,
            self.prior.log_prob_from_cache(data.next_prior, next_actions),
            next_log_prob,
            omega,
            ent_coef,
            self.gamma,
        )

    def _actor_loss(
        self,
        data: PriorReplayBufferSamples,
        actions_pi: Tensor,
        log_prob: Tensor,
        q_pi: Tensor,
        omega: float,
        ent_coef: Tensor,
    ) -> Tensor:
        """Mean of α̂ log π̂(a|s) - min Q_R(s,a) - ω' log π(a|s), a ~ π̂."""
        prior_log_prob = self.prior.log_prob_from_cache(data.prior, actions_pi)
        return residual.rsac_actor_loss(log_prob, q_pi, prior_log_prob, omega, ent_coef)

    def _update_critic(
        self, data: PriorReplayBufferSamples, omega: float, ent_coef: Tensor
    ) -> Tensor:
        with torch.no_grad():
            next_actions, next_log_prob = self.actor.action_log_prob(data.next_observations)
            next_q = torch.cat(self.critic_target(data.next_observations, next_actions), dim=1)
            target = self._critic_target(
                data, next_actions, next_log_prob, next_q.min(dim=1).values, omega, ent_coef
            )
        current = self.critic(data.observations, data.actions)
        loss = 0.5 * sum(F.mse_loss(q.flatten(), target) for q in current)
        self.critic.optimizer.zero_grad()
        loss.backward()
        self.critic.optimizer.step()
        return loss.detach()

    def _update_actor(
        self,
        data: PriorReplayBufferSamples,
        actions_pi: Tensor,
        log_prob: Tensor,
        omega: float,
        ent_coef: Tensor,
    ) -> Tensor:
        q_pi = torch.cat(self.critic(data.observations, actions_pi), dim=1).min(dim=1).values
        loss = self._actor_loss(data, actions_pi, log_prob, q_pi, omega, ent_coef)
        # Gradients for the actor only: the critics' would be discarded anyway.
        params = self.actor.optimizer.param_groups[0]["params"]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        for param, grad in zip(params, grads, strict=True):
            param.grad = grad
        self.actor.optimizer.step()
        return loss.detach()
