"""CartPole as a planning model: gymnasium's own equations on immutable states.

A state is (x, ẋ, θ, θ̇, elapsed steps). `step` is gymnasium 0.29's CartPoleEnv.step written as
a pure function with the env's own constants (tests check it step for step against the env,
termination bounds included), plus the TimeLimit's truncation at the task's 500 steps.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np


class CartPoleState(NamedTuple):
    """The physical state and the steps taken in the episode so far."""

    x: float
    x_dot: float
    theta: float
    theta_dot: float
    elapsed: int


class CartPoleModel:
    """The dynamics, add-on reward and observation of the cartpole task, for planning."""

    def __init__(self, addon_reward: Any, max_steps: int, physics: Any) -> None:
        """`physics` is a gymnasium CartPoleEnv whose constants are read once."""
        self.addon_reward, self.max_steps = addon_reward, max_steps
        self.gravity, self.masspole = physics.gravity, physics.masspole
        self.total_mass, self.length = physics.total_mass, physics.length
        self.polemass_length, self.force_mag = physics.polemass_length, physics.force_mag
        self.tau, self.euler = physics.tau, physics.kinematics_integrator == "euler"
        self.x_threshold = physics.x_threshold
        self.theta_threshold = physics.theta_threshold_radians

    def root(self, env: Any) -> CartPoleState:
        """The live env's state (the env is not touched)."""
        x, x_dot, theta, theta_dot = env.unwrapped.state
        return CartPoleState(x, x_dot, theta, theta_dot, env.get_wrapper_attr("_elapsed_steps"))

    def step(self, state: CartPoleState, action: int) -> tuple[CartPoleState, float, bool]:
        """The next state, its add-on reward, and whether the episode ended there."""
        x, x_dot, theta, theta_dot, elapsed = state
        force = self.force_mag if action == 1 else -self.force_mag
        costheta, sintheta = math.cos(theta), math.sin(theta)
        temp = (force + self.polemass_length * theta_dot**2 * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta**2 / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        if self.euler:
            x, x_dot = x + self.tau * x_dot, x_dot + self.tau * xacc
            theta, theta_dot = theta + self.tau * theta_dot, theta_dot + self.tau * thetaacc
        else:  # semi-implicit Euler
            x_dot = x_dot + self.tau * xacc
            x = x + self.tau * x_dot
            theta_dot = theta_dot + self.tau * thetaacc
            theta = theta + self.tau * theta_dot
        next_state = CartPoleState(x, x_dot, theta, theta_dot, elapsed + 1)
        terminated = (
            x < -self.x_threshold
            or x > self.x_threshold
            or theta < -self.theta_threshold
            or theta > self.theta_threshold
        )
        return next_state, self.addon_reward(x), terminated or elapsed + 1 >= self.max_steps

    def observe(self, state: CartPoleState) -> np.ndarray:
        """The env's observation of `state` (float32, as the prior saw it in training)."""
        return np.array(state[:4], dtype=np.float32)
