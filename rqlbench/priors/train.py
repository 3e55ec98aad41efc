"""Training priors: RL priors (soft-Q or SAC on the basic reward) and IL priors (GAIL on them).

IL priors use the `imitation` library's GAIL with an off-policy max-entropy generator, as in the
paper: soft-Q for discrete actions, SAC for continuous ones. The generator's replay buffer is
relabelled with the current discriminator reward at every sample
(imitation.policies.replay_buffer_wrapper.ReplayBufferRewardWrapper), so stale rewards never
train it.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from imitation.algorithms.adversarial.gail import GAIL
from imitation.data import rollout
from imitation.data.types import TrajectoryWithRew
from imitation.data.wrappers import RolloutInfoWrapper
from imitation.policies.replay_buffer_wrapper import ReplayBufferRewardWrapper
from imitation.rewards.reward_nets import BasicRewardNet, RewardNet
from imitation.util import logger as imitation_logger
from imitation.util.networks import RunningNorm
from stable_baselines3 import SAC, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.save_util import recursive_getattr

from rqlbench.algorithms.soft_q import SoftQ
from rqlbench.evaluation import evaluate, summarize
from rqlbench.files import write_text
from rqlbench.priors.base import squashed_gaussian_log_prob
from rqlbench.priors.sb3 import actor_gaussian, load_model, shipped_prior_path
from rqlbench.provenance import environment
from rqlbench.tasks import Task, get_task

EnvFactory = Callable[[], gym.Env]
GAIL_REWARDS = ("positive", "logit")
SELECTION_SEED = 20_000  # validation episodes for model selection; cards evaluate from 10_000


def max_entropy_learner(
    env: Any, seed: int, policy: str = "MlpPolicy", **kwargs: Any
) -> BaseAlgorithm:
    """SoftQ for a discrete action space, SAC for a continuous one."""
    # SB3 writes into policy_kwargs: never into the caller's.
    kwargs = {**kwargs, "policy_kwargs": copy.deepcopy(kwargs.get("policy_kwargs") or {})}
    if isinstance(env.action_space, spaces.Discrete):
        return SoftQ(policy, env, seed=seed, **kwargs)
    return SAC(policy, env, seed=seed, **kwargs)


def train_rl_prior(
    make_env: EnvFactory, steps: int, seed: int = 0, **learner_kwargs: Any
) -> BaseAlgorithm:
    """A max-entropy RL prior trained on `make_env`'s reward (the task's basic reward)."""
    model = max_entropy_learner(make_vec_env(make_env, n_envs=1, seed=seed), seed, **learner_kwargs)
    return model.learn(steps)


def demonstrations(
    expert: BaseAlgorithm,
    make_env: EnvFactory,
    episodes: int,
    seed: int = 0,
    min_transitions: int = 0,
) -> list[TrajectoryWithRew]:
    """At least `episodes` episodes and `min_transitions` steps of the stochastic expert."""
    venv = make_vec_env(make_env, n_envs=1, seed=seed, wrapper_class=RolloutInfoWrapper)
    return rollout.rollout(
        expert,
        venv,
        rollout.make_sample_until(min_episodes=episodes, min_timesteps=min_transitions or None),
        rng=np.random.default_rng(seed),
        deterministic_policy=False,
    )


def train_il_prior(
    expert: BaseAlgorithm,
    make_env: EnvFactory,
    steps: int,
    seed: int = 0,
    *,
    demo_episodes: int = 20,
    steps_per_round: int = 1024,
    demo_batch_size: int = 256,
    discriminator_updates: int = 4,
    bc_epochs: int = 0,
    bc_weight: float = 0.0,
    gail_reward: str = "positive",
    learner_kwargs: dict[str, Any] | None = None,
) -> BaseAlgorithm:
    """A GAIL generator imitating `expert`'s rollouts; `steps` generator environment steps.

    `bc_epochs` > 0 first fits a SAC generator's actor to the demonstrations by maximum
    likelihood, so GAIL starts from a policy that reaches the expert's states; with `steps` 0
    the prior is that behaviour-cloned actor (no GAIL). `bc_weight` > 0 keeps cloning during
    GAIL: one maximum-likelihood step on a demonstration batch, scaled by `bc_weight`, per
    environment step once the generator trains (GAIL + BC, Jena et al. 2020); without it GAIL's
    early, noisy rewards pulled parking's and halfcheetah's cloned actors off the demonstrations.
    `gail_reward` is "positive" (imitation's -log(1 - D): every step pays, so longer episodes
    pay more) or "logit" (log D - log(1 - D), no bias for or against ending the episode: for
    tasks where success ends the episode, like mountaincar).
    """
    if gail_reward not in GAIL_REWARDS:
        raise ValueError(f"gail_reward must be one of {GAIL_REWARDS}, got {gail_reward!r}")
    if steps < 0 or (steps == 0 and not bc_epochs):
        raise ValueError(f"steps must be > 0 (or 0 with bc_epochs > 0 for BC only), got {steps}")
    demos = demonstrations(expert, make_env, demo_episodes, seed, min_transitions=demo_batch_size)
    venv = make_vec_env(make_env, n_envs=1, seed=seed, wrapper_class=RolloutInfoWrapper)
    reward = _LateReward()
    learner = max_entropy_learner(
        venv,
        seed,
        replay_buffer_class=ReplayBufferRewardWrapper,
        replay_buffer_kwargs={"replay_buffer_class": ReplayBuffer, "reward_fn": reward},
        **(learner_kwargs or {}),
    )
    if bc_epochs:
        clone_demonstrations(learner, demos, bc_epochs, seed)
    if steps == 0:
        return learner
    reward_net = BasicRewardNet(
        venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm
    )
    with tempfile.TemporaryDirectory(prefix="rqlbench-gail-") as log_dir:
        gail = _GAIL(
            demonstrations=demos,
            demo_batch_size=demo_batch_size,
            venv=venv,
            gen_algo=learner,
            reward_net=reward_net,
            n_disc_updates_per_round=discriminator_updates,
            gen_train_timesteps=steps_per_round,
            gen_replay_buffer_capacity=steps_per_round,
            allow_variable_horizon=True,
            log_dir=log_dir,
            custom_logger=imitation_logger.configure(log_dir, format_strs=[]),
        )
        reward.fn = gail_reward_net(gail, gail_reward).predict_processed
        if bc_weight:
            cloning = _KeepCloning(demos, bc_weight, demo_batch_size, seed)
            gail.gen_callback = CallbackList([gail.gen_callback, cloning])
        gail.train(max(steps, steps_per_round))
    return learner


def gail_reward_net(gail: GAIL, kind: str) -> RewardNet:
    """The generator's reward from GAIL's discriminator D = sigmoid(logit).

    "positive" is imitation's -log(1 - D) = softplus(logit). "logit" is the discriminator's logit
    log D - log(1 - D) itself: imitation's `reward_test` is the same softplus net, not the logit.
    """
    return {"positive": gail.reward_train, "logit": gail.reward_train.base}[kind]


def clone_demonstrations(
    model: SAC, demos: list[TrajectoryWithRew], epochs: int, seed: int = 0, batch_size: int = 256
) -> None:
    """Fits a SAC actor to demonstrations by maximum likelihood (behaviour cloning)."""
    obs, actions = _demonstration_tensors(model, demos)
    optimizer = torch.optim.Adam(model.actor.parameters(), lr=1e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(obs), generator=order).split(batch_size):
            _cloning_step(model, obs[batch], actions[batch], optimizer)


def _demonstration_tensors(
    model: BaseAlgorithm, demos: list[TrajectoryWithRew]
) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(model, SAC):
        raise TypeError(f"behaviour cloning trains SAC generators, not {type(model).__name__}")
    transitions = rollout.flatten_trajectories(demos)
    obs = torch.as_tensor(np.array(transitions.obs), dtype=torch.float32)
    actions = torch.as_tensor(model.policy.scale_action(transitions.acts), dtype=torch.float32)
    return obs, actions


def _cloning_step(
    model: SAC,
    obs: torch.Tensor,
    actions: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    weight: float = 1.0,
) -> None:
    mean, log_std = actor_gaussian(model.actor, obs)
    loss = -weight * squashed_gaussian_log_prob(mean, log_std, actions).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class _KeepCloning(BaseCallback):
    """A behaviour-cloning step of the generator's actor per environment step once SAC trains."""

    def __init__(self, demos: list[TrajectoryWithRew], weight: float, batch_size: int, seed: int):
        super().__init__()
        self.demos, self.weight, self.batch_size = demos, weight, batch_size
        self.order = torch.Generator().manual_seed(seed)

    def _init_callback(self) -> None:
        self.obs, self.actions = _demonstration_tensors(self.model, self.demos)

    def _on_step(self) -> bool:
        if self.model.num_timesteps > self.model.learning_starts:
            batch = torch.randint(len(self.obs), (self.batch_size,), generator=self.order)
            optimizer = self.model.actor.optimizer
            _cloning_step(self.model, self.obs[batch], self.actions[batch], optimizer, self.weight)
        return True


class _GAIL(GAIL):
    """imitation's GAIL, also for gSDE SAC generators.

    imitation evaluates the generator's log π(a|s) for every discriminator batch and asserts a
    plain squashed-Gaussian SAC actor while doing so; only AIRL uses that value (GAIL's
    discriminator discards it), so GAIL skips it.
    """

    def _get_log_policy_act_prob(self, obs_th: Any, acts_th: Any) -> None:
        return None


class _LateReward:
    """The discriminator's reward, bound once GAIL exists (the learner is built before it)."""

    fn: Callable[..., np.ndarray] | None = None

    def __call__(self, **transitions: np.ndarray) -> np.ndarray:
        assert self.fn is not None, "GAIL binds the reward before training"
        return self.fn(**transitions)


def train_task_prior(
    task_name: str,
    kind: str,
    workdir: str | Path,
    seed: int = 0,
    steps: int | None = None,
    checkpoint_every: int = 10_000,
    eval_episodes: int = 100,
) -> Path:
    """Trains (or resumes) a task's RL or IL prior in `workdir`; returns its prior.zip.

    Checkpoints (model and replay buffer) go to workdir/checkpoints every `checkpoint_every`
    steps, and a rerun resumes from the newest one. The IL prior imitates workdir/../rl/prior.zip
    if one was trained there, otherwise the shipped RL prior. Writes card.json: the command,
    seed, steps, settings, the expert imitated, the evaluation summary and the environment
    (date, package versions, git hash, machine).
    """
    if kind not in ("rl", "il"):
        raise ValueError(f"kind must be 'rl' or 'il', got {kind!r}")
    task = get_task(task_name)
    settings = task.config()["prior"][kind]
    steps = int(settings["steps"]) if steps is None else steps
    if kind == "rl" and steps < 1:
        raise ValueError(f"an RL prior needs steps >= 1, got {steps}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    def make_env() -> gym.Env:
        return Monitor(task.make_env(reward="basic"))

    if kind == "rl" and "her" in settings:
        model = _train_with_her(task, settings, steps, seed, workdir, checkpoint_every)
    elif kind == "rl":
        venv = make_vec_env(make_env, n_envs=1, seed=seed)
        model = _train_resumable(
            venv, lambda: max_entropy_learner(venv, seed, **settings["learner"]),
            steps, workdir, checkpoint_every, settings.get("select"), make_env,
        )  # fmt: skip
    else:
        expert_path = _imitated_expert(task_name, workdir)
        expert = load_model(expert_path, None)
        model = train_il_prior(
            expert, make_env, steps, seed, demo_episodes=int(settings["demo_episodes"]),
            bc_epochs=int(settings.get("bc_epochs", 0)),
            bc_weight=float(settings.get("bc_weight", 0.0)),
            gail_reward=settings.get("gail_reward", "positive"),
            learner_kwargs=settings.get("learner", task.config()["prior"]["rl"]["learner"]),
        )  # fmt: skip
    prior_path = workdir / "prior.zip"
    model.rqlbench_task = task_name  # saved with the model: methods refuse it for other tasks
    clear_optimizer_moments(model)
    model.save(prior_path)
    card = {
        "task": task_name,
        "kind": kind,
        "command": f"rqlbench train-prior {task_name} --kind {kind} --seed {seed} --steps {steps}",
        "seed": seed,
        "steps": steps,
        "settings": settings,
        "expert": None if kind == "rl" else _expert_name(task_name, expert_path),
        "selection": selection_summary(workdir),
        "evaluation": summarize(evaluate(model, task, eval_episodes, seed=10_000)),
        "trained_on": {"date": datetime.date.today().isoformat(), **environment()},
    }
    write_text(workdir / "card.json", json.dumps(card, indent=2) + "\n")
    return prior_path


def _imitated_expert(task_name: str, workdir: Path) -> Path:
    """The RL prior an IL prior in `workdir` imitates: ../rl/prior.zip, else the shipped one."""
    trained = workdir.parent / "rl" / "prior.zip"
    return trained if trained.is_file() else shipped_prior_path(task_name, "rl")


def _expert_name(task_name: str, path: Path) -> str:
    return "the shipped RL prior" if path == shipped_prior_path(task_name, "rl") else str(path)


def _train_with_her(
    task: Task, settings: dict, steps: int, seed: int, workdir: Path, checkpoint_every: int
) -> SAC:
    """SAC with hindsight goal relabelling on the dict-observation env, as a vector-obs SAC."""
    venv = make_vec_env(lambda: Monitor(task.make_goal_env()), n_envs=1, seed=seed)
    model = _train_resumable(
        venv,
        lambda: max_entropy_learner(
            venv, seed, "MultiInputPolicy", replay_buffer_class=HerReplayBuffer,
            replay_buffer_kwargs=settings["her"], **settings["learner"],
        ),
        steps, workdir, checkpoint_every,
    )  # fmt: skip
    return flatten_goal_observation(model, task.make_env(reward="basic"))


def flatten_goal_observation(model: SAC, env: gym.Env) -> SAC:
    """The same SAC over the task's vector observation [desired goal; ego].

    SB3's dict extractor concatenates the keys (achieved_goal, desired_goal, observation); the
    achieved goal and the observation are both the ego vector, so the first layer of each
    network maps onto the vector exactly: goal columns as they are, the two ego blocks summed.
    """
    size = model.observation_space["observation"].shape[0]
    source = {"desired_goal": slice(0, size), "achieved_goal": slice(size, 2 * size)}
    source["observation"] = source["achieved_goal"]
    flat = SAC(
        "MlpPolicy", env, buffer_size=1, seed=0, device="cpu",
        policy_kwargs=copy.deepcopy(model.policy_kwargs),
    )  # fmt: skip
    state = model.policy.state_dict()
    first_layers = ("actor.latent_pi.0.weight", "critic.qf0.0.weight", "critic.qf1.0.weight",
                    "critic_target.qf0.0.weight", "critic_target.qf1.0.weight")  # fmt: skip
    for name in first_layers:
        weight = state[name]
        mapped = torch.zeros(weight.shape[0], 2 * size + weight.shape[1] - 3 * size)
        column = 0
        for key in model.policy.actor.features_extractor.extractors:  # SB3's concatenation order
            mapped[:, source[key]] += weight[:, column : column + size]
            column += size
        mapped[:, 2 * size :] = weight[:, column:]  # the critic's action columns
        state[name] = mapped
    flat.policy.load_state_dict(state)
    with torch.no_grad():  # in place: the entropy optimizer keeps training the same tensor
        flat.log_ent_coef.copy_(model.log_ent_coef)
    return flat


def clear_optimizer_moments(model: BaseAlgorithm) -> None:
    """Empties the optimizers' moments: a prior is its weights; Adam's state would double it."""
    for name in model._get_torch_save_params()[0]:
        optimizer = recursive_getattr(model, name)
        if isinstance(optimizer, torch.optim.Optimizer):
            optimizer.state.clear()


def _train_resumable(
    venv: Any,
    new_model: Callable[[], BaseAlgorithm],
    steps: int,
    workdir: Path,
    checkpoint_every: int,
    select: dict | None = None,
    make_eval_env: EnvFactory | None = None,
) -> BaseAlgorithm:
    """Trains to `steps`, resuming from the newest checkpoint.

    With `select` ({every, episodes}) the returned model is the one with the best mean basic
    return over `episodes` validation episodes, evaluated every `every` steps (value-based
    learners oscillate: highway's soft-Q prior is not best at its last step).
    """
    checkpoints = workdir / "checkpoints"
    latest = _latest_checkpoint(checkpoints)
    if latest is None:
        model = new_model()
    else:
        model = load_model(latest, venv)
        model.load_replay_buffer(str(latest).replace("rl_model_", "rl_model_replay_buffer_")[:-4])
    callbacks: list[BaseCallback] = [
        _LatestCheckpoint(checkpoint_every, str(checkpoints), save_replay_buffer=True)
    ]
    if select:
        eval_env = make_vec_env(make_eval_env, n_envs=1, seed=SELECTION_SEED)
        callbacks.append(
            _BestModel(eval_env, int(select["every"]), int(select["episodes"]), workdir)
        )
    remaining = steps - model.num_timesteps
    if remaining > 0:
        model.learn(remaining, callback=CallbackList(callbacks), reset_num_timesteps=latest is None)
    best = workdir / "selection" / "best_model.zip"
    return load_model(best, venv) if select and best.exists() else model


class _BestModel(EvalCallback):
    """SB3's EvalCallback keeping best_model.zip, with its history carried across resumes."""

    def __init__(self, eval_env: Any, every: int, episodes: int, workdir: Path) -> None:
        folder = str(workdir / "selection")
        super().__init__(
            eval_env, n_eval_episodes=episodes, eval_freq=every, log_path=folder,
            best_model_save_path=folder, deterministic=True, verbose=0,
        )  # fmt: skip

    def _init_callback(self) -> None:
        super()._init_callback()
        history = Path(f"{self.log_path}.npz")
        if history.exists():
            with np.load(history) as saved:
                self.evaluations_timesteps = saved["timesteps"].tolist()
                self.evaluations_results = saved["results"].tolist()
                self.evaluations_length = saved["ep_lengths"].tolist()
            self.best_mean_reward = float(np.mean(self.evaluations_results, axis=1).max())


def selection_summary(workdir: Path) -> dict[str, Any] | None:
    """Where the selected model was taken: its step and validation mean basic return."""
    history = workdir / "selection" / "evaluations.npz"
    if not history.exists():
        return None
    with np.load(history) as saved:
        means = saved["results"].mean(axis=1)
        best = int(means.argmax())
        return {
            "seed": SELECTION_SEED,
            "episodes": int(saved["results"].shape[1]),
            "evaluated_steps": saved["timesteps"].tolist(),
            "selected_step": int(saved["timesteps"][best]),
            "selected_mean_basic_return": float(means[best]),
        }


class _LatestCheckpoint(CheckpointCallback):
    """Saves model and replay buffer, then deletes the older checkpoints (buffers are large)."""

    def _on_step(self) -> bool:
        result = super()._on_step()
        if self.n_calls % self.save_freq == 0:
            newest = f"_{self.num_timesteps}_steps."
            for path in Path(self.save_path).glob("rl_model_*"):
                if newest not in path.name:
                    path.unlink()
        return result


def _latest_checkpoint(directory: Path) -> Path | None:
    found = [
        (int(m.group(1)), p)
        for p in directory.glob("rl_model_*_steps.zip")
        if (m := re.fullmatch(r"rl_model_(\d+)_steps\.zip", p.name))
    ]
    return max(found)[1] if found else None
