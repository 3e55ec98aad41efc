"""Episode helpers shared by the diagnostics scripts (run as `python docs/diagnostics/X.py`)."""

from __future__ import annotations

from collections.abc import Callable


def drive(env, seed: int, act: Callable) -> tuple[list, list, list, bool, bool]:
    """One episode from env seed `seed`, `act(obs, t)` choosing each action: its states,
    actions and infos, and whether it terminated or was truncated."""
    obs, _ = env.reset(seed=seed)
    states, actions, infos, terminated, truncated = [], [], [], False, False
    while not (terminated or truncated):
        states.append(obs)
        actions.append(act(obs, len(actions)))
        obs, _, terminated, truncated, info = env.step(actions[-1])
        infos.append(info)
    return states, actions, infos, terminated, truncated


def deterministic(model) -> Callable:
    return lambda obs, t=0: model.predict(obs, deterministic=True)[0]
