"""Customization tasks: environments with basic and add-on rewards, metrics and success.

``get_task(name).make_env(reward="addon")`` gives the env a customizing learner trains on;
``reward="basic"`` the one a prior trains on. Importing this package is light: a task's module
(and gymnasium) loads when the task is first used.
"""

from typing import Any

from rqlbench.tasks.registry import (
    SIMULATORS,
    check_task_name,
    get_task,
    offers_planning_model,
    planning_task_names,
    register_task,
    task_class,
    task_config,
    task_names,
)

# One line per task (plans: it offers residual ME-MCTS a planning model).
register_task("cartpole", "rqlbench.tasks.classic:CartPole", plans=True)
register_task("mountaincar", "rqlbench.tasks.classic:MountainCar", plans=False)
register_task("highway", "rqlbench.tasks.driving:Highway", plans=True)
register_task("parking", "rqlbench.tasks.driving:Parking", plans=False)
register_task("halfcheetah", "rqlbench.tasks.locomotion:HalfCheetah", plans=False)

_FROM_BASE = ("REWARD_MODES", "PlanningModel", "StepRewards", "Task", "TaskRewardWrapper")
__all__ = [
    *_FROM_BASE,
    "SIMULATORS",
    "check_task_name",
    "get_task",
    "offers_planning_model",
    "planning_task_names",
    "register_task",
    "task_class",
    "task_config",
    "task_names",
]


def __getattr__(name: str) -> Any:
    # The task interface needs gymnasium: imported on first use, not with the registry.
    if name in _FROM_BASE:
        from rqlbench.tasks import base

        return getattr(base, name)
    raise AttributeError(f"module 'rqlbench.tasks' has no attribute {name!r}")
