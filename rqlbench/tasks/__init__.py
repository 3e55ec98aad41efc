"""Customization tasks: environments with basic and add-on rewards, metrics and success.

``get_task(name).make_env(reward="addon")`` gives the env a customizing learner trains on;
``reward="basic"`` the one a prior trains on. Importing this package registers every task.
"""

from rqlbench.tasks import classic, driving, locomotion  # noqa: F401  (register the tasks)
from rqlbench.tasks.base import (
    REWARD_MODES,
    StepRewards,
    Task,
    TaskRewardWrapper,
    get_task,
    register_task,
    task_names,
)

__all__ = [
    "REWARD_MODES",
    "StepRewards",
    "Task",
    "TaskRewardWrapper",
    "get_task",
    "register_task",
    "task_names",
]
