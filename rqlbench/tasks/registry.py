"""The task registry: names to Task classes, imported on first use, and each task's config.

Importing gymnasium imports every installed env plugin (highway-env among them, ~2 s), so the
registry names tasks, reads their configs and says which offer a planning model without
importing them: listing tasks, building the command line, planning a run grid and making a
report stay light.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from rqlbench.tasks.base import Task

SIMULATORS = ("reference", "native")  # the task's own env package; a native port for training

# name -> the Task class, or "module:Class" imported on first use (so listing tasks or building
# the command line does not import highway-env or MuJoCo).
_REGISTRY: dict[str, type[Task] | str] = {}
_PLANS: dict[str, bool] = {}  # name -> whether the task offers a planning model


def register_task(name: str, cls: type[Task] | str | None = None, plans: bool | None = None) -> Any:
    """Adds a task under `name`: a Task class, a "module:Class" path (then `plans` must say
    whether it overrides `planning_model`; tests/test_tasks.py checks it), or as a class
    decorator."""
    if isinstance(cls, str) and plans is None:
        raise TypeError(
            f"register_task({name!r}, {cls!r}): a task imported on first use needs plans=True "
            "or plans=False (whether it offers a planning model)"
        )
    if cls is not None:
        _REGISTRY[name] = cls
        _PLANS[name] = plans if isinstance(cls, str) else cls.offers_planning_model()
        return cls

    def add(cls: type[Task]) -> type[Task]:
        return register_task(name, cls)

    return add


def task_names() -> list[str]:
    """The registered task names."""
    return sorted(_REGISTRY)


def task_class(name: str) -> type[Task]:
    """The Task class registered as `name`; unknown names list the valid ones."""
    check_task_name(name)
    entry = _REGISTRY[name]
    if isinstance(entry, str):
        module, attribute = entry.split(":")
        entry = _REGISTRY[name] = getattr(importlib.import_module(module), attribute)
    return entry


def planning_task_names() -> list[str]:
    """The tasks that offer a planning model."""
    return [name for name in task_names() if _PLANS[name]]


def offers_planning_model(name: str) -> bool:
    """Whether the task registered as `name` offers a planning model (without importing it)."""
    check_task_name(name)
    return _PLANS[name]


def task_config(name: str) -> dict[str, Any]:
    """configs/<name>.yaml, with the weights `rqlbench tune` chose.

    configs/tuned/<name>.yaml (generated) sets ``methods.<method>.omega``; its whole record (rule,
    validation episodes, sweep) is under ``tuned``.
    """
    check_task_name(name)
    configs = resources.files("rqlbench.tasks") / "configs"
    config = _load_yaml((configs / f"{name}.yaml").read_text())
    tuned = tuned_config_path(name)
    if tuned.is_file():
        config["tuned"] = _load_yaml(tuned.read_text())
        methods = config.setdefault("methods", {})
        for method, chosen in config["tuned"]["methods"].items():
            # A copy: YAML aliases share one dict between methods.
            methods[method] = {**methods.get(method, {}), "omega": chosen["omega"]}
    return config


def tuned_config_path(task_name: str) -> Path:
    """Where `rqlbench tune` writes a task's chosen weights (configs/tuned/<name>.yaml)."""
    return Path(str(resources.files("rqlbench.tasks") / "configs" / "tuned" / f"{task_name}.yaml"))


def _load_yaml(text: str) -> Any:
    # libyaml's loader where PyYAML has it: planning a grid reads each cell's config, and the
    # pure-Python loader took 57 ms per read of a tuned task's files
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def check_task_name(name: str) -> None:
    """Raises for an unknown task name, listing the valid ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown task {name!r}: choose one of {', '.join(task_names())}")


def get_task(name: str) -> Task:
    """The task registered as `name`; unknown names list the valid ones."""
    return task_class(name)()
