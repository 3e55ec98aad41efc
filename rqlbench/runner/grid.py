"""A run is a grid of cells: task x method x prior kind x omega' x MCTS budget x seed.

Each cell's budget and settings are resolved from its task's YAML (rqlbench/tasks/configs):
``presets.<preset>`` gives steps, evaluation episodes and default seeds (its ``settings`` go to
every trained method's learner, and its ``simulator`` — "reference" or "native" — is what they
train on); ``methods.<method>`` gives that method's default omega' (a
number, or one per prior kind: ``{rl: ..., il: ...}``) and settings;
``presets.<preset>.methods.<method>`` overrides them for one preset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any

from rqlbench.methods import get_method, method_names
from rqlbench.tasks import SIMULATORS, check_task_name, task_config

PRESETS = ("smoke", "quick", "paper")
PRIOR_KINDS = ("rl", "il")
EVAL_SEED = 10_000  # evaluation episodes use env seeds 10000, 10001, ...: never a training seed
VALIDATION_SEED = 20_000  # tuning's episodes: 20000, 20001, ...: never an evaluation seed
# Tuning trains with seeds 1000, 1001, ...: a weight is chosen on a model's validation score, and
# that model must not be evaluated again as one of the main run's seeds (0, 1, ...).
TUNING_TRAINING_SEED = 1000
SPLITS = ("evaluation", "validation")  # which episodes a cell is evaluated on


@dataclass(frozen=True)
class Cell:
    """One unit of work: train (if the method learns) and evaluate one policy."""

    task: str
    method: str
    prior: str  # "rl" or "il"
    seed: int
    omega: float | None = None  # omega'; None: the method's default for the task
    simulations: int | None = None  # planning budget (planning methods); None: task's default
    split: str = "evaluation"  # "validation": tuning's cells, on the validation episodes

    @property
    def first_episode_seed(self) -> int:
        """The env seed of the cell's first episode (its split's)."""
        return VALIDATION_SEED if self.split == "validation" else EVAL_SEED

    @property
    def id(self) -> str:
        """A file-name-safe name, unique within a run."""
        parts = [self.task, self.method, self.prior, f"seed{self.seed}"]
        if self.omega is not None:
            parts.append(f"omega{self.omega:g}")
        if self.simulations is not None:
            parts.append(f"sims{self.simulations}")
        if self.split != "evaluation":
            parts.append(self.split)
        return "__".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CellPlan:
    """A cell's resolved budget and settings."""

    steps: int
    episodes: int
    omega: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    simulator: str = "reference"  # what a learning method trains on (the preset's `simulator`)
    prior_sha256: str | None = None  # the prior file's digest, where the caller looked it up


def preset_config(
    task_name: str, preset: str, split: str = "evaluation", config: dict | None = None
) -> dict[str, Any]:
    """The task's settings for one preset; for the validation split (tuning), the preset's
    `tuning_steps` / `tuning_episodes` replace its steps / episodes where set (e.g. more
    validation episodes keep the tuning rule's 10-point success margin out of the noise of 20
    episodes; fewer steps make a sweep affordable where the weights carry over)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    budget = dict((config or task_config(task_name))["presets"][preset])
    if split == "validation":
        for key in ("steps", "episodes"):
            budget[key] = budget.get(f"tuning_{key}", budget[key])
    return budget


def plan_cell(cell: Cell, preset: str) -> CellPlan:
    """Budget and settings of one cell under a preset."""
    trains = get_method(cell.method).trains
    config = task_config(cell.task)  # read once: planning a grid plans every cell
    budget = preset_config(cell.task, preset, cell.split, config)
    method = config.get("methods", {}).get(cell.method, {})
    override = budget.get("methods", {}).get(cell.method, {})
    settings = dict(budget.get("settings", {})) if trains else {}
    settings.update(method.get("settings", {}))
    settings.update(override.get("settings", {}))
    if cell.simulations is not None:
        settings["num_simulations"] = cell.simulations
    omega = cell.omega if cell.omega is not None else override.get("omega", method.get("omega"))
    if isinstance(omega, dict):  # one omega' per prior kind
        if cell.prior not in omega:
            raise ValueError(
                f"{cell.task}: {cell.method}'s omega' is given per prior kind, {omega}, not for "
                f"the {cell.prior} prior: run `rqlbench tune {cell.task} --priors {cell.prior} "
                "--out NEW_DIR` or pass --omega"
            )
        omega = omega[cell.prior]
    steps = int(override.get("steps", budget["steps"])) if trains else 0
    episodes = int(override.get("episodes", budget["episodes"]))
    if episodes > VALIDATION_SEED - EVAL_SEED:  # evaluation seeds would reach validation ones
        raise ValueError(
            f"{cell.task}.yaml, preset {preset!r}: {episodes} episodes exceed the "
            f"{VALIDATION_SEED - EVAL_SEED} evaluation seeds below the validation seeds"
        )
    simulator = budget.get("simulator", "reference") if trains else "reference"
    if simulator not in SIMULATORS:
        raise ValueError(
            f"{cell.task}.yaml, preset {preset!r}: simulator must be one of {SIMULATORS}, "
            f"got {simulator!r}"
        )
    return CellPlan(steps, episodes, omega, settings, simulator)


def sweep_budgets(tasks: list[str], method: str = "rql-mcts") -> tuple[int, ...]:
    """Every planning budget in the tasks' ``methods.<method>.budgets`` lists, ascending."""
    budgets: set[int] = set()
    for name in tasks:
        listed = task_config(name).get("methods", {}).get(method, {}).get("budgets")
        if not listed:
            raise ValueError(
                f"task {name!r} has no budget sweep: add methods.{method}.budgets (a list of "
                f"simulation counts) to its YAML, or pass --simulations N [N ...]"
            )
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in listed):
            raise ValueError(
                f"task {name!r}: methods.{method}.budgets must be integers >= 1, got {listed!r}"
            )
        budgets.update(listed)
    return tuple(sorted(budgets))


def build_grid(
    tasks: list[str],
    methods: list[str] | None,
    priors: list[str],
    seeds: int,
    omegas: list[float] | None = None,
    simulations: list[int] | None = None,
    split: str = "evaluation",
) -> list[Cell]:
    """Every cell of the grid; a method runs only on the tasks it supports."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}: pass --seeds 1 or more")
    if split == "evaluation" and seeds > TUNING_TRAINING_SEED:
        raise ValueError(
            f"seeds must be at most {TUNING_TRAINING_SEED}, got {seeds}: training seeds from "
            f"{TUNING_TRAINING_SEED} on are the tuning's"
        )
    if not priors:
        raise ValueError(f"no prior kind given: choose from {', '.join(PRIOR_KINDS)}")
    for kind in priors:
        if kind not in PRIOR_KINDS:
            raise ValueError(f"unknown prior kind {kind!r}: choose from {', '.join(PRIOR_KINDS)}")
    for name in tasks:
        check_task_name(name)
    for name in methods or []:
        get_method(name)
    first = TUNING_TRAINING_SEED if split == "validation" else 0
    training_seeds = range(first, first + seeds)
    # A method that ignores the prior policy runs once, under the first kind in PRIOR_KINDS order
    # whatever the order asked (full-reward's ω = ω'/α takes that prior's α: rl when present).
    once_under = min(priors, key=PRIOR_KINDS.index)
    cells = []
    for task, method, kind, seed in product(
        tasks, methods or method_names(), priors, training_seeds
    ):
        registered = get_method(method)
        if not registered.supports(task):
            continue
        if not registered.uses_prior_policy and kind != once_under:
            continue  # the same run under every prior kind: once is enough
        for omega in _sweep("omega" in registered.sweeps, omegas):
            for budget in _sweep("simulations" in registered.sweeps, simulations):
                cells.append(Cell(task, method, kind, seed, omega, budget, split))
    if not cells:
        raise ValueError(f"no cell to run: none of the methods {methods} runs on tasks {tasks}")
    return cells


def _sweep(applies: bool, values: list | None) -> list:
    return list(values) if applies and values else [None]
