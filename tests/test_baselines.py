"""The competitor methods' targets and losses against their formulas (docs/algorithms.md §3)."""

import math

import pytest
import torch
from rqlbench.baselines import (
    GreedySAC,
    GreedySQL,
    KLRewardSAC,
    KLRewardSQL,
    LoglikRewardSAC,
    LoglikRewardSQL,
)

from rqlbench.priors import (
    ConstantGaussianPrior,
    DiscreteModulePrior,
    actor_gaussian,
    squashed_gaussian_log_prob,
)
from rqlbench.tasks.toy import QuadraticBandit, TabularEnv

SMALL = dict(policy_kwargs=dict(net_arch=[8]), learning_starts=32, batch_size=8, seed=0)


class Table(torch.nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.table = torch.nn.Embedding.from_pretrained(logits)

    def forward(self, obs):
        return self.table(obs.long().reshape(-1))


def discrete(cls, **kwargs):
    g = torch.Generator().manual_seed(0)
    env = TabularEnv(torch.full((4, 3, 4), 0.25).numpy(), torch.randn(4, 3, generator=g).numpy())
    prior = DiscreteModulePrior(
        Table(torch.randn(4, 3, generator=g)), env.observation_space, env.action_space
    )
    model = cls(prior, env, **(SMALL | kwargs))
    model.learn(64)
    return model, model.replay_buffer.sample(8)


def continuous(cls, **kwargs):
    env = QuadraticBandit()
    prior = ConstantGaussianPrior(env.observation_space, env.action_space, 0.3, -1.0)
    model = cls(prior, env, **(SMALL | kwargs))
    model.learn(64)
    return model, model.replay_buffer.sample(8)


def test_greedy_discrete_value_and_policy():
    model, data = discrete(GreedySQL, omega=0.5, alpha=0.3)
    next_q = torch.randn(8, 3)
    log_prior = data.next_prior
    log_policy = torch.log_softmax((next_q + 0.5 * log_prior) / 0.8, dim=1)
    expected = (log_policy.exp() * (next_q - 0.3 * log_policy)).sum(1)
    torch.testing.assert_close(model._next_value(next_q, data), expected)
    assert model.policy.alpha == pytest.approx(0.8) and model.policy.omega == 0.5


@pytest.mark.parametrize("cls", [KLRewardSQL, LoglikRewardSQL])
def test_reward_augmented_discrete_baselines(cls):
    model, data = discrete(cls, omega=0.4, alpha=0.5)
    q = torch.randn(8, 3)
    actions = data.actions.long()
    prior_log_prob = data.prior.gather(1, actions).flatten()
    reward = data.rewards.flatten()
    if cls is KLRewardSQL:
        policy_log_prob = torch.log_softmax(q / 0.5, 1).gather(1, actions).flatten()
        expected = reward - 0.4 * (policy_log_prob - prior_log_prob)
    else:
        expected = reward + 0.4 * prior_log_prob
    torch.testing.assert_close(model._reward(data, q), expected)
    next_q = torch.randn(8, 3)
    torch.testing.assert_close(
        model._next_value(next_q, data), 0.5 * torch.logsumexp(next_q / 0.5, 1)
    )
    assert model.policy.prior_log_probs is None  # acts with its own Q only


@pytest.mark.parametrize("cls", [GreedySAC, KLRewardSAC, LoglikRewardSAC])
def test_continuous_baselines_targets_and_actor_losses(cls):
    model, data = continuous(cls, omega=0.6, ent_coef=0.2, gamma=0.9)
    next_actions, next_log_prob = torch.rand(8, 1) * 2 - 1, torch.randn(8)
    next_q, ent = torch.randn(8), torch.tensor(0.2)
    reward, done = data.rewards.flatten(), data.dones.flatten()
    prior_at = lambda cache, a: model.prior.log_prob_from_cache(cache, a)  # noqa: E731
    if cls is GreedySAC:
        shaped = reward
    elif cls is KLRewardSAC:
        mean, log_std = actor_gaussian(model.actor, data.observations)
        policy_lp = squashed_gaussian_log_prob(mean, log_std, data.actions)
        shaped = reward - 0.6 * (policy_lp - prior_at(data.prior, data.actions))
    else:
        shaped = reward + 0.6 * prior_at(data.prior, data.actions)
    expected = shaped + 0.9 * (1 - done) * (next_q - 0.2 * next_log_prob)
    with torch.no_grad():
        got = model._critic_target(data, next_actions, next_log_prob, next_q, 0.6, ent)
    torch.testing.assert_close(got, expected)
    actions_pi, log_prob, q_pi = torch.rand(8, 1) * 2 - 1, torch.randn(8), torch.randn(8)
    loss = model._actor_loss(data, actions_pi, log_prob, q_pi, 0.6, ent)
    if cls is GreedySAC:
        expected_loss = (0.8 * log_prob - q_pi - 0.6 * prior_at(data.prior, actions_pi)).mean()
    else:
        expected_loss = (0.2 * log_prob - q_pi).mean()
    torch.testing.assert_close(loss, expected_loss)
    assert math.isfinite(loss.item())
