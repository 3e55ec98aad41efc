"""The task registry: names to Task classes, imported on first use.

Importing gymnasium imports every installed env plugin (highway-env among them, ~2 s), so the
registry names tasks without importing them: listing tasks, building the command line and
making a report stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rqlbench.tasks.base import Task

# name -> the Task class, or "module:Class" imported on first use (so listing tasks or building
# the command line does not import highway-env or MuJoCo).
_REGISTRY: dict[str, type[Task] | str] = {}


def register_task(name: str, cls: type[Task] | str | None = None) -> Any:
    """Adds a task under `name`: a Task class, a "module:Class" path, or as a class decorator."""
    if cls is not None:
        _REGISTRY[name] = cls
        return cls

    def add(cls: type[Task]) -> type[Task]:
        _REGISTRY[name] = cls
        return cls

    return add


def task_names() -> list[str]:
    """The registered task names."""
    return sorted(_REGISTRY)


def task_class(name: str) -> type[Task]:
    """The Task class registered as `name`; unknown names list the valid ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown task {name!r}: choose one of {', '.join(task_names())}")
    entry = _REGISTRY[name]
    if isinstance(entry, str):
        module, attribute = entry.split(":")
        entry = _REGISTRY[name] = getattr(importlib.import_module(module), attribute)
    return entry


def planning_task_names() -> list[str]:
    """The tasks that offer a planning model."""
    return [name for name in task_names() if task_class(name).offers_planning_model()]


def get_task(name: str) -> Task:
    """The task registered as `name`; unknown names list the valid ones."""
    return task_class(name)()
