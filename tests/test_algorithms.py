"""RSQL, RSAC and SoftQ: docs/algorithms.md §4.3, losses by hand, SB3 compatibility, bad input."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from rqlbench import residual
from rqlbench.algorithms import RSAC, RSQL, SoftQ
from rqlbench.priors import (
    ConstantGaussianPrior,
    DiscreteModulePrior,
    squashed_gaussian_log_prob,
)
from rqlbench.tasks.toy import QuadraticBandit, TabularEnv
from rqlbench.zoo import load_prior, prior_from_model


class TablePrior(nn.Module):
    """Logits per state of a Discrete observation."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.table = nn.Embedding.from_pretrained(logits.float())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.table(obs.long().reshape(-1))


def tabular_task(seed: int, num_states: int = 6, num_actions: int = 3):
    g = torch.Generator().manual_seed(seed)
    transition = torch.rand(num_states, num_actions, num_states, generator=g, dtype=torch.float64)
    transition = (transition + 0.1) / (transition + 0.1).sum(-1, keepdim=True)
    addon = torch.randn(num_states, num_actions, generator=g, dtype=torch.float64)
    logits = torch.randn(num_states, num_actions, generator=g, dtype=torch.float64)
    env = TabularEnv(transition.numpy(), addon.numpy(), horizon=50)
    prior = DiscreteModulePrior(TablePrior(logits), env.observation_space, env.action_space)
    return env, prior, transition, addon, torch.log_softmax(logits, -1)


def small_rsql(env, prior, **kwargs):
    settings = dict(policy_kwargs=dict(net_arch=[16]), learning_starts=64, batch_size=32, seed=0)
    return RSQL(prior, env, **(settings | kwargs))


def bandit_and_prior():
    env = QuadraticBandit(target=-0.3, scale=2.0)
    prior = ConstantGaussianPrior(
        env.observation_space, env.action_space, mean=math.atanh(0.4), log_std=math.log(0.25)
    )
    return env, prior


def small_rsac(env, prior, **kwargs):
    settings = dict(
        policy_kwargs=dict(net_arch=[16, 16]), learning_starts=64, batch_size=32, seed=0
    )
    return RSAC(prior, env, **(settings | kwargs))


@pytest.mark.parametrize("seed", [0, 1])
def test_invariant_3_rsql_converges_to_residual_soft_value_iteration(seed):
    torch.set_num_threads(1)
    env, prior, transition, addon, log_prior = tabular_task(seed)
    omega, alpha, gamma = 0.5, 0.5, 0.8
    q_exact = residual.residual_soft_value_iteration(
        transition, addon, log_prior, omega, alpha, gamma
    )
    model = RSQL(
        prior, env, omega=omega, alpha=alpha, gamma=gamma,
        learning_rate=lambda progress: 0.01 * progress,  # decays to 0: averages target noise
        policy_kwargs=dict(net_arch=[]),  # linear on one-hot states: a Q table
        learning_starts=500, batch_size=256, train_freq=1, target_update_interval=50, seed=seed,
    )  # fmt: skip
    model.learn(3000)  # TV 0.006-0.011 on seeds 0-3 (0.005-0.009 at 8000 steps)
    with torch.no_grad():
        q = model.q_net(torch.arange(6.0).reshape(-1, 1)).double()
    learned = residual.customized_policy(q, log_prior, omega, alpha)
    exact = residual.customized_policy(q_exact, log_prior, omega, alpha)
    total_variation = 0.5 * (learned - exact).abs().sum(-1)
    assert total_variation.mean() < 0.02, total_variation


def test_invariant_3_rsac_converges_to_the_closed_form_optimum():
    torch.set_num_threads(1)
    env, prior = bandit_and_prior()
    omega, alpha = 0.5, 0.2
    # π̂(a) ∝ π(a)^(ω'/α̂) exp(r_R(a)/α̂), its mean by quadrature on (-1, 1).
    a = torch.linspace(-0.999, 0.999, 20001, dtype=torch.float64)[:, None]
    mean, log_std = prior.gaussian(a)
    log_density = omega / alpha * squashed_gaussian_log_prob(mean.double(), log_std.double(), a)
    log_density += -2.0 * (a[:, 0] + 0.3) ** 2 / alpha
    optimum_mean = (torch.softmax(log_density, 0) * a[:, 0]).sum().item()
    model = RSAC(
        prior, env, omega=omega, ent_coef=alpha, gamma=0.0, learning_rate=0.003,
        learning_starts=256, batch_size=256, policy_kwargs=dict(net_arch=[32, 32]), seed=0,
    )  # fmt: skip
    model.learn(1000)  # |Δ| 0.002-0.009 on seeds 0-2 (0.002-0.015 at 2000 steps)
    actions = model.predict(np.zeros((4000, 1), np.float32))[0][:, 0]  # 4000 samples at once
    assert abs(np.mean(actions) - optimum_mean) < 0.05
    assert abs(optimum_mean - 0.4) > 0.1, "the optimum must differ from the prior's mean"


def _fixed_batch(model, monkeypatch):
    model.learn(200)  # fill the buffer, then always train on one batch
    batch = model.replay_buffer.sample(16)
    monkeypatch.setattr(model.replay_buffer, "sample", lambda *args, **kwargs: batch)
    model.set_logger(configure(None, []))
    for group in _optimizers(model):
        for param_group in group.param_groups:
            param_group["lr"] = 0.0
    model.lr_schedule = lambda _: 0.0
    return batch


def _optimizers(model):
    if isinstance(model, RSAC):
        return [model.actor.optimizer, model.critic.optimizer]
    return [model.policy.optimizer]


def test_rsql_loss_is_the_eq_8_target_by_hand(monkeypatch):
    env, prior, *_ = tabular_task(3)
    model = small_rsql(env, prior, omega=0.7, alpha=0.4, gamma=0.9)
    batch = _fixed_batch(model, monkeypatch)
    model.train(gradient_steps=1, batch_size=16)
    with torch.no_grad():
        next_q = model.q_net_target(batch.next_observations).double()
        log_pi = torch.log_softmax(prior.module(batch.next_observations).double(), -1)
        value = 0.4 * torch.log(torch.exp((next_q + 0.7 * log_pi) / 0.4).sum(-1))
        target = batch.rewards.flatten() + 0.9 * (1 - batch.dones.flatten()) * value
        q = model.q_net(batch.observations).gather(1, batch.actions.long()).flatten()
        loss = 0.5 * ((q - target) ** 2).mean()
    assert model.logger.name_to_value["train/loss"] == pytest.approx(loss.item(), rel=1e-5)
    np.testing.assert_allclose(batch.next_prior, log_pi, atol=1e-6)


def test_rsac_losses_are_eq_9_and_10_by_hand(monkeypatch):
    env, prior = bandit_and_prior()
    model = small_rsac(env, prior, omega=0.6, ent_coef=0.3, gamma=0.5)
    batch = _fixed_batch(model, monkeypatch)
    torch.manual_seed(123)
    model.train(gradient_steps=1, batch_size=16)
    torch.manual_seed(123)
    with torch.no_grad():
        actions_pi, log_prob = model.actor.action_log_prob(batch.observations)
        next_actions, next_log_prob = model.actor.action_log_prob(batch.next_observations)
        mean, log_std = prior.gaussian(batch.observations)
        prior_pi = squashed_gaussian_log_prob(mean, log_std, actions_pi)
        prior_next = squashed_gaussian_log_prob(mean, log_std, next_actions)
        next_q = torch.min(*model.critic_target(batch.next_observations, next_actions)).flatten()
        soft_next = next_q + 0.6 * prior_next - 0.3 * next_log_prob
        target = batch.rewards.flatten() + 0.5 * (1 - batch.dones.flatten()) * soft_next
        q1, q2 = model.critic(batch.observations, batch.actions)
        critic_loss = 0.5 * (
            ((q1.flatten() - target) ** 2).mean() + ((q2.flatten() - target) ** 2).mean()
        )
        q_pi = torch.min(*model.critic(batch.observations, actions_pi)).flatten()
        actor_loss = (0.3 * log_prob - q_pi - 0.6 * prior_pi).mean()
    logged = model.logger.name_to_value
    assert logged["train/critic_loss"] == pytest.approx(critic_loss.item(), rel=1e-5)
    assert logged["train/actor_loss"] == pytest.approx(actor_loss.item(), rel=1e-5)


def test_squashed_prior_log_prob_is_finite_with_finite_gradient_at_the_bounds():
    actions = torch.tensor([[-1.0], [1.0], [0.999999999], [0.0]], requires_grad=True)
    log_prob = squashed_gaussian_log_prob(torch.zeros(4, 1), torch.zeros(4, 1), actions)
    log_prob.sum().backward()
    assert torch.isfinite(log_prob).all() and torch.isfinite(actions.grad).all()


@pytest.mark.parametrize("algorithm", ["rsql", "rsac"])
def test_save_load_predict_round_trip(tmp_path, algorithm):
    if algorithm == "rsql":
        env, prior, *_ = tabular_task(0)
        model = small_rsql(env, prior)
        obs = np.arange(6)
    else:
        env, prior = bandit_and_prior()
        model = small_rsac(env, prior, omega_warmup=(3.0, 100))
        obs = np.random.default_rng(0).uniform(-1, 1, (8, 1)).astype(np.float32)
    model.learn(300)
    model.save(tmp_path / "model")
    loaded = type(model).load(tmp_path / "model", env=env)
    np.testing.assert_array_equal(
        model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0]
    )
    assert loaded.omega == model.omega
    for key, value in prior.state_dict().items():
        torch.testing.assert_close(loaded.prior.state_dict()[key], value)
    loaded.learn(100)  # and it keeps learning


@pytest.mark.parametrize("algorithm", ["rsql", "rsac"])
def test_same_seed_same_training_and_cache_equals_recompute(algorithm):
    def train(cache_prior: bool):
        torch.manual_seed(0)
        if algorithm == "rsql":
            env, prior, *_ = tabular_task(0)
            model = small_rsql(env, prior, cache_prior=cache_prior, train_freq=1)
        else:
            env, prior = bandit_and_prior()
            model = small_rsac(env, prior, cache_prior=cache_prior)
        model.learn(300)
        return [p.detach().clone() for p in model.policy.parameters()]

    first, again, recomputed = train(True), train(True), train(False)
    for a, b, c in zip(first, again, recomputed, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)


def test_sb3_callbacks_loggers_and_vectorized_envs(tmp_path):
    class Count(BaseCallback):
        calls = 0

        def _on_step(self) -> bool:
            Count.calls += 1
            return True

    _, prior, *_ = tabular_task(0)
    vec_env = DummyVecEnv([lambda: tabular_task(0)[0]] * 2)
    model = small_rsql(vec_env, prior)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(200, callback=Count())
    assert Count.calls == 100  # 2 envs per call
    assert (tmp_path / "progress.csv").read_text().count("train/loss") == 1


def test_soft_q_learns_a_prior_and_priors_load_from_files(tmp_path):
    env = gym.make("CartPole-v1")
    model = SoftQ(
        env=env, alpha=0.5, learning_starts=100, seed=0, policy_kwargs=dict(net_arch=[16])
    )
    model.learn(300)
    model.save(tmp_path / "soft_q")
    prior = load_prior(tmp_path / "soft_q")
    obs = torch.zeros(3, 4)
    expected = torch.log_softmax(model.q_net(obs) / 0.5, -1)
    torch.testing.assert_close(prior.log_probs(obs), expected)
    sac = SAC("MlpPolicy", QuadraticBandit(), learning_starts=10, policy_kwargs=dict(net_arch=[8]))
    sac.learn(20)
    sac.save(tmp_path / "sac")
    sac_prior = load_prior(tmp_path / "sac.zip")
    mean, log_std, _ = sac.actor.get_action_dist_params(torch.zeros(2, 1))
    torch.testing.assert_close(sac_prior.cache(torch.zeros(2, 1)), torch.cat([mean, log_std], 1))
    assert prior_from_model(sac).action_space == sac.action_space


def test_bad_input_is_refused_clearly(tmp_path):
    env, prior, *_ = tabular_task(0)
    with pytest.raises(ValueError, match="omega must be a finite number >= 0"):
        RSQL(prior, env, omega=-0.5)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        RSQL(prior, env, alpha=0.0)
    with pytest.raises(ValueError, match="needs a prior"):
        RSQL(None, env)
    wrong_actions = TabularEnv(np.full((6, 2, 6), 1 / 6), np.zeros((6, 2)))
    with pytest.raises(
        ValueError, match=r"action space Discrete\(3\) does not match the env's Discrete\(2\)"
    ):
        RSQL(prior, wrong_actions)
    bandit, gaussian = bandit_and_prior()
    with pytest.raises(ValueError, match="continuous"):
        RSAC(prior, env)
    with pytest.raises(ValueError, match="needs a Discrete action space"):
        RSQL(gaussian, bandit)
    with pytest.raises(ValueError, match="omega_warmup"):
        RSAC(gaussian, bandit, omega_warmup=(-1.0, 10))
    with pytest.raises(FileNotFoundError, match="no prior at"):
        load_prior(tmp_path / "missing.zip")
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"this is not a zip")
    with pytest.raises(ValueError, match="not a readable saved model"):
        load_prior(corrupt)

    class NaNObservations(QuadraticBandit):
        def step(self, action):
            _, *rest = super().step(action)
            return np.full(1, np.nan, np.float32), *rest

    with pytest.raises(ValueError, match="contains NaN or inf"):
        small_rsac(NaNObservations(), gaussian).learn(10)


def test_gsde_sac_prior_is_the_state_dependent_squashed_gaussian():
    env = QuadraticBandit()
    sac = SAC("MlpPolicy", env, use_sde=True, learning_starts=10, policy_kwargs=dict(net_arch=[8]))
    sac.learn(20)
    prior = prior_from_model(sac)
    obs, actions = torch.zeros(4, 1), torch.tensor([[-0.9], [-0.2], [0.3], [0.95]])
    mean, log_std, extra = sac.actor.get_action_dist_params(obs)
    dist = sac.actor.action_dist.proba_distribution(mean, log_std, **extra)
    expected = dist.log_prob(actions)  # SB3's own squashed-gSDE log-probability
    torch.testing.assert_close(prior.log_prob(obs, actions), expected, rtol=1e-4, atol=1e-3)


def test_rsac_runs_the_prior_once_per_env_step(monkeypatch):
    env = gym.make("MountainCarContinuous-v0", max_episode_steps=10)
    prior = ConstantGaussianPrior(env.observation_space, env.action_space, 0.0, -1.0)
    calls = []
    original = ConstantGaussianPrior.cache
    monkeypatch.setattr(
        ConstantGaussianPrior, "cache", lambda self, obs: calls.append(1) or original(self, obs)
    )
    small_rsac(env, prior, learning_starts=1000).learn(200)
    # Each s' once; s is the previous s' except at the 20 episode starts.
    assert len(calls) == 200 + 20


def test_rsql_acts_with_the_cached_prior_of_the_last_next_state(monkeypatch):
    env = gym.make("CartPole-v1")
    module = nn.Linear(4, 2)
    prior = DiscreteModulePrior(module, env.observation_space, env.action_space)
    calls = []
    original = DiscreteModulePrior.log_probs
    monkeypatch.setattr(
        DiscreteModulePrior, "log_probs", lambda self, obs: calls.append(1) or original(self, obs)
    )
    model = small_rsql(env, prior, learning_starts=0).learn(200)
    episodes = len(model.ep_info_buffer)
    # Each s' once for the buffer; acting at s reuses it except at the episode starts.
    assert len(calls) == 200 + episodes + 1
    last_next = torch.as_tensor(model.replay_buffer._last_next[0])
    before = len(calls)
    cached = model.policy.logits(last_next)
    assert len(calls) == before  # a cache hit
    model.replay_buffer._last_next = None
    torch.testing.assert_close(model.policy.logits(last_next), cached)
    assert len(calls) == before + 1
