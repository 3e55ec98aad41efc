"""Zero-shot residual ME-MCTS on highway-env (paper section 5.3) through the C++ core.

The planner searches from the live env's state with highway-env itself as the model: a tree
state is a deep copy of the simulator, a step runs only the simulator (``_simulate``; no
observation, reward bookkeeping or rendering), and the prior sees a Kinematics observation built
with numpy, identical to highway-env's pandas-based one. Rollouts follow the prior on one copy of
the leaf up to the planning horizon.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from highway_env import utils
from highway_env.envs.common.observation import KinematicObservation
from highway_env.road.lane import AbstractLane
from highway_env.vehicle.kinematics import Vehicle

from rqlbench.mcts import MCTSConfig, SearchResult, search
from rqlbench.priors import DiscretePrior
from rqlbench.tasks import Task, get_task

DEFAULT_FEATURES = ["presence", "x", "y", "vx", "vy"]


def kinematics_observation(env: Any) -> np.ndarray:
    """highway-env's Kinematics observation of `env` without pandas (same values, ~50x faster)."""
    obs_type = env.observation_type
    if not isinstance(obs_type, KinematicObservation) or not _plain(obs_type):
        return obs_type.observe()
    ego = obs_type.observer_vehicle
    count = obs_type.vehicles_count
    close = env.road.close_objects_to(
        ego,
        env.PERCEPTION_DISTANCE,
        count=count - 1,
        see_behind=obs_type.see_behind,
        sort=True,
        vehicles_only=not obs_type.include_obstacles,
    )
    rows = np.zeros((count, 5))
    rows[0] = (1.0, *ego.position, *ego.velocity)
    for i, other in enumerate(close[-count + 1 :] if close else [], start=1):
        rows[i] = (1.0, *(other.position - ego.position), *(other.velocity - ego.velocity))
    ranges = obs_type.features_range or _default_ranges(env, ego)
    obs_type.features_range = ranges  # as highway-env caches it on first use
    filled = len(close[-count + 1 :]) + 1 if close else 1
    for column, feature in enumerate(DEFAULT_FEATURES[1:], start=1):
        low, high = ranges[feature]
        values = utils.lmap(rows[:filled, column], [low, high], [-1, 1])
        rows[:filled, column] = np.clip(values, -1, 1) if obs_type.clip else values
    return rows.astype(np.float32)


def _plain(obs_type: KinematicObservation) -> bool:
    return (
        list(obs_type.features) == DEFAULT_FEATURES
        and not obs_type.absolute
        and obs_type.order == "sorted"
        and obs_type.normalize
    )


def _default_ranges(env: Any, ego: Vehicle) -> dict[str, list[float]]:
    lanes = len(env.road.network.all_side_lanes(ego.lane_index))
    return {
        "x": [-5.0 * Vehicle.MAX_SPEED, 5.0 * Vehicle.MAX_SPEED],
        "y": [-AbstractLane.DEFAULT_WIDTH * lanes, AbstractLane.DEFAULT_WIDTH * lanes],
        "vx": [-2 * Vehicle.MAX_SPEED, 2 * Vehicle.MAX_SPEED],
        "vy": [-2 * Vehicle.MAX_SPEED, 2 * Vehicle.MAX_SPEED],
    }


@dataclass
class PlannerState:
    """A tree state: the simulator copy and its depth below the root."""

    env: Any
    depth: int


class HighwayModel:
    """The closed-loop model the core searches: highway-env's simulator, r_R, and a prior."""

    def __init__(self, prior: DiscretePrior, task: Task | None = None, horizon: int = 6) -> None:
        self.prior, self.task, self.horizon = prior, task or get_task("highway"), horizon
        self.num_actions = int(prior.action_space.n)
        self.simulator_steps = 0
        self.simulator_seconds = 0.0  # inside _simulate: the planner's overhead is the rest
        self.copies = 0

    def root(self, env: Any) -> PlannerState:
        """The root state for a decision in the live `env` (copied; the env is not touched)."""
        self.copies += 1
        return PlannerState(copy.deepcopy(env.unwrapped), 0)

    def _advance(self, sim: Any, action: int) -> tuple[float, bool]:
        """One policy step of the simulator alone; the add-on reward and whether it ended."""
        sim.time += 1 / sim.config["policy_frequency"]
        start = time.perf_counter()
        sim._simulate(action)
        self.simulator_seconds += time.perf_counter() - start
        self.simulator_steps += 1
        rewards = self.task.rewards(sim, action, 0.0, {})
        ended = sim.vehicle.crashed or sim.time >= sim.config["duration"]
        return rewards.addon, bool(ended)

    def step(self, state: PlannerState, action: int) -> tuple[PlannerState, float, bool]:
        sim = copy.deepcopy(state.env)
        self.copies += 1
        reward, ended = self._advance(sim, action)
        return PlannerState(sim, state.depth + 1), reward, ended

    def prior_log_probs(self, state: PlannerState) -> np.ndarray:
        obs = torch.as_tensor(kinematics_observation(state.env)).unsqueeze(0)
        with torch.no_grad():
            return self.prior.log_probs(obs)[0].double().numpy()

    def rollout(self, state: PlannerState, depth: int, gamma: float, seed: int) -> float:
        """Discounted add-on return of the prior from `state` to the planning horizon."""
        steps = min(depth, self.horizon - state.depth)
        if steps <= 0:
            return 0.0
        sim = copy.deepcopy(state.env)
        self.copies += 1
        rng = np.random.default_rng(seed)
        ret, discount = 0.0, 1.0
        for _ in range(steps):
            probs = np.exp(self.prior_log_probs(PlannerState(sim, 0)))
            reward, ended = self._advance(
                sim, int(rng.choice(self.num_actions, p=probs / probs.sum()))
            )
            ret += discount * reward
            discount *= gamma
            if ended:
                break
        return ret


class HighwayPlanner:
    """A policy that plans each decision with residual ME-MCTS from the live env's state.

    ``predict(obs)`` needs the env: call ``bind(env)`` after each reset (evaluate() does).
    """

    def __init__(self, prior: DiscretePrior, config: MCTSConfig, horizon: int = 6) -> None:
        self.model, self.config = HighwayModel(prior, horizon=horizon), config
        self.env: Any = None
        self.decisions = 0
        self.last_result: SearchResult | None = None

    def bind(self, env: Any) -> None:
        self.env = env

    def plan(self, env: Any) -> SearchResult:
        """One search from `env`'s current state."""
        config = self.config
        if config.seed is not None:
            config = MCTSConfig(**{**config.__dict__, "seed": config.seed + self.decisions})
        self.decisions += 1
        self.last_result = search(self.model, self.model.root(env), config)
        return self.last_result

    def predict(self, observation: Any, deterministic: bool = True) -> tuple[int, None]:
        if self.env is None:
            raise RuntimeError("HighwayPlanner.predict needs the env: call bind(env) first")
        return self.plan(self.env).action, None
