"""The comparison's fairness fixes (issue 13): α̂ as each task's YAML states it, for every learning
method, and a full-reward baseline trained with the recipe of the task's RL prior (HER on
parking, its relabelled rewards the task's own ω·r + r_R for each substituted goal)."""

import math

import numpy as np
import pytest
from stable_baselines3 import SAC, HerReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback

from rqlbench.algorithms import SoftQ
from rqlbench.evaluation import evaluate
from rqlbench.methods import MethodRun, prior_temperature, run_method
from rqlbench.tasks import get_task, task_names
from rqlbench.zoo import load_shipped_prior
from rqlbench.zoo.her import RelabelledTaskReward

LEARNING_METHODS = ["rql", "greedy", "kl-reward", "loglik-reward", "full-reward"]
TASKS = ["cartpole", "highway", "mountaincar", "parking", "halfcheetah"]
SMALL = {"buffer_size": 500}  # a cell override that leaves the temperature alone


class TrainedModel(BaseCallback):
    """Keeps the model a method actually trains (parking's full-reward returns a flattened copy)."""

    def _on_training_start(self) -> None:
        self.trained = self.model

    def _on_step(self) -> bool:
        return True


@pytest.fixture(scope="module")
def priors():
    return {task: load_shipped_prior(task, "rl") for task in TASKS}


def _trained(task_name, method, prior, settings=SMALL, steps=0, omega=None, task=None):
    capture = TrainedModel()
    run = MethodRun(
        task=task or get_task(task_name), prior_model=prior, steps=steps, seed=0, omega=omega,
        settings=settings, callback=capture,
    )  # fmt: skip
    policy = run_method(method, run)
    return capture.trained, policy, run


def test_every_task_states_alpha_hat():
    assert set(TASKS) == set(task_names())
    for name in TASKS:
        stated = get_task(name).config()["customization"]["alpha_hat"]
        assert stated == "auto" or stated > 0, name


@pytest.mark.parametrize("method", LEARNING_METHODS)
@pytest.mark.parametrize("task_name", TASKS)
def test_each_learning_method_gets_the_alpha_hat_the_yaml_states(priors, task_name, method):
    prior = priors[task_name]
    stated = get_task(task_name).config()["customization"]["alpha_hat"]
    model, _, _ = _trained(task_name, method, prior)
    if isinstance(model, SoftQ):  # RSQL and its baselines are SoftQ subclasses
        assert model.alpha == stated  # fixed, as the YAML states it
        assert stated == pytest.approx(prior_temperature(prior))  # as its comment says: prior's α
        return
    assert isinstance(model, SAC)
    assert stated == "auto", "a continuous task states auto (the paper's RSAC tunes α̂)"
    # Tuned as in SAC (a trainable coefficient with its optimizer), from the prior's α: a fixed
    # temperature from the prior recipe (mountaincar's ent_coef 0.1) would have neither.
    assert model.log_ent_coef is not None and model.log_ent_coef.requires_grad
    assert model.ent_coef_optimizer is not None
    assert model.log_ent_coef in model.ent_coef_optimizer.param_groups[0]["params"]
    start = math.exp(float(model.log_ent_coef.detach()))
    assert start == pytest.approx(prior_temperature(prior), rel=1e-5)


def test_mountaincar_no_longer_inherits_the_prior_recipe_ent_coef(priors):
    task = get_task("mountaincar")
    assert task.config()["prior"]["rl"]["learner"]["ent_coef"] == 0.1  # the recipe still fixes it
    run = MethodRun(task=task, prior_model=priors["mountaincar"], steps=0, seed=0)
    assert run.learner_kwargs()["ent_coef"] == f"auto_{prior_temperature(priors['mountaincar'])}"


def _with_alpha_hat(task_name, value):
    """The real task, its YAML's customization.alpha_hat replaced by `value`."""
    base = type(get_task(task_name))

    class Restated(base):
        def config(self):
            return {**super().config(), "customization": {"alpha_hat": value}}

    return Restated()


@pytest.mark.parametrize("method", ["rql", "full-reward"])
def test_a_stated_number_fixes_alpha_hat_on_a_continuous_task(priors, method):
    task = _with_alpha_hat("mountaincar", 0.3)
    model, _, _ = _trained("mountaincar", method, priors["mountaincar"], task=task)
    assert model.log_ent_coef is None and model.ent_coef_optimizer is None
    assert float(model.ent_coef_tensor) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("task_name", "value", "message"),
    [
        ("mountaincar", "tuned", r"mountaincar: customization.alpha_hat is 'tuned'; .*\"auto\""),
        ("mountaincar", None, r"alpha_hat is None; .*configs/mountaincar.yaml"),
        ("parking", -0.1, r"alpha_hat is -0.1; the SAC learners need"),
        ("cartpole", True, r"alpha_hat is True; the soft-Q learners need a positive number"),
        ("cartpole", "auto", r"cartpole: customization.alpha_hat is 'auto'; the soft-Q"),
    ],
)
def test_a_bad_alpha_hat_is_refused_naming_the_value_and_the_fix(priors, task_name, value, message):
    task = _with_alpha_hat(task_name, value)
    run = MethodRun(task=task, prior_model=priors[task_name], steps=0, seed=0)
    with pytest.raises(ValueError, match=message):
        run.learner_kwargs()


@pytest.mark.parametrize("task_name", ["cartpole", "highway", "mountaincar", "halfcheetah"])
def test_full_reward_without_a_her_recipe_stays_plain_soft_q_or_sac(priors, task_name):
    model, policy, run = _trained(task_name, "full-reward", priors[task_name])
    assert policy is model and type(model) is (SoftQ if run.discrete else SAC)
    assert not isinstance(model.replay_buffer, HerReplayBuffer)


# -- parking: the RL prior's recipe (HER), with the task's reward for relabelled goals ------------

PARKING_TINY = {"buffer_size": 2000, "learning_starts": 260, "batch_size": 16}


@pytest.fixture(scope="module")
def parking_full_reward(priors):
    """A 270-step full-reward cell on parking: the HER model it trained, the policy, the run."""
    return _trained("parking", "full-reward", priors["parking"], PARKING_TINY, steps=270, omega=0.2)


def test_full_reward_on_parking_trains_with_the_rl_prior_recipe(parking_full_reward):
    model, policy, run = parking_full_reward
    recipe = run.task.config()["prior"]["rl"]
    assert isinstance(model.replay_buffer, HerReplayBuffer)
    assert model.replay_buffer.n_sampled_goal == recipe["her"]["n_sampled_goal"]
    assert model.replay_buffer.goal_selection_strategy.name.lower() == "future"
    relabel = model.env.envs[0].get_wrapper_attr("compute_reward")  # what the buffer calls
    assert isinstance(relabel.__self__, RelabelledTaskReward)
    learner = recipe["learner"]
    assert (model.gamma, model.tau) == (learner["gamma"], learner["tau"])
    assert model.learning_rate == learner["learning_rate"]
    assert model.policy_kwargs["net_arch"] == learner["policy_kwargs"]["net_arch"]
    assert model.num_timesteps >= 270 and model._n_updates > 0
    # The policy it returns acts on the task's vector observation, like every other method.
    assert policy.num_timesteps == model.num_timesteps
    assert evaluate(policy, run.task, episodes=1, seed=3)[0].length > 0


def _task_full_reward(task, env, achieved, desired, crashed, omega):
    """ω·r + r_R from Parking.rewards on the live env, the car at `achieved`, the goal `desired`."""
    parking = env.unwrapped
    scales = parking.observation_type_parking.scales
    achieved, desired = achieved * scales, desired * scales  # x y vx vy cos_h sin_h
    parking.vehicle.position = achieved[:2].copy()
    parking.vehicle.heading = math.atan2(achieved[5], achieved[4])
    parking.vehicle.crashed = bool(crashed)
    parking.vehicle.goal.position = desired[:2].copy()
    parking.vehicle.goal.heading = math.atan2(desired[5], desired[4])
    rewards = task.rewards(env, None, 0.0, {})
    return omega * rewards.basic + rewards.addon, rewards.ingredients["contact"]


def test_her_relabelled_rewards_are_the_task_full_reward_for_the_substituted_goal(
    parking_full_reward,
):
    model, _, run = parking_full_reward
    omega = run.omega_prime / prior_temperature(run.prior_model)
    buffer = model.replay_buffer
    stored = np.flatnonzero(buffer.ep_length[: buffer.pos, 0] > 0)
    indices = np.random.default_rng(0).choice(stored, 200)
    samples = buffer._get_virtual_samples(indices, np.zeros_like(indices))  # SB3's relabelling
    desired = samples.observations["desired_goal"].numpy().astype(np.float64)
    achieved = samples.next_observations["achieved_goal"].numpy()
    assert not np.allclose(desired, buffer.observations["desired_goal"][indices, 0])  # relabelled
    env = run.task.make_goal_env("full", omega)
    env.reset(seed=0)
    contacts = []
    for i, index in enumerate(indices):
        crashed = buffer.infos[index, 0]["crashed"]
        expected, contact = _task_full_reward(
            run.task, env, achieved[i], desired[i], crashed, omega
        )
        assert float(samples.rewards[i]) == pytest.approx(expected, rel=1e-5, abs=1e-5), i
        contacts.append(contact)
    assert 0 < sum(contacts) < len(contacts)  # both sides of the add-on reward were checked
    # The real transitions' stored rewards (the live step's ω·r + r_R) are what it computes too.
    real = buffer.next_observations["achieved_goal"][stored, 0]
    goals = buffer.observations["desired_goal"][stored, 0]
    relabel = model.env.envs[0].get_wrapper_attr("compute_reward")
    recomputed = relabel(real, goals, list(buffer.infos[stored, 0]))
    np.testing.assert_allclose(recomputed, buffer.rewards[stored, 0], rtol=1e-5, atol=1e-5)


def test_relabelled_reward_is_the_task_reward_on_live_states_with_crashes_and_contacts():
    task, omega = get_task("parking"), 3.0
    env = RelabelledTaskReward(task.make_goal_env("full", omega))
    rng = np.random.default_rng(1)
    checked = {"crashed": 0, "contact": 0, "clear": 0}
    for episode in range(4):
        obs, _ = env.reset(seed=episode)
        steps, done = [], False
        while not done:  # full throttle ends in a wall (a crash); random actions wander
            action = np.array([1.0, 0.0]) if episode % 2 == 0 else rng.uniform(-1, 1, 2)
            obs, reward, terminated, truncated, info = env.step(action)
            assert env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info) == (
                pytest.approx(reward)
            )
            steps.append((obs["achieved_goal"], info))
            done = terminated or truncated
        # Substitute goals: poses the car reached later, shifted sideways (to cross the lines).
        for t, (achieved, info) in enumerate(steps):
            future = steps[rng.integers(t, len(steps))][0].copy()
            future[:2] += rng.normal(0, 0.02, 2)
            got = env.compute_reward(achieved, future, info)
            crashed = info["crashed"]
            expected, contact = _task_full_reward(task, env, achieved, future, crashed, omega)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
            checked["crashed"] += info["crashed"]
            checked["contact" if contact else "clear"] += 1
    assert all(count > 0 for count in checked.values()), checked


def test_relabelling_without_step_infos_is_refused():
    env = RelabelledTaskReward(get_task("parking").make_goal_env("full"))
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="copy_info_dict=True"):
        env.compute_reward(obs["achieved_goal"][None], obs["desired_goal"][None], [{}])
