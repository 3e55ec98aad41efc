"""The benchmark runner: a grid of cells, executors that run them, a store that keeps them.

``run_benchmark(...)`` validates everything first (names, seeds, priors, the output directory),
then runs the cells not yet finished in the run directory and saves each as it completes.
Importing the runner is light (the command line builds its parser from it); torch and the
learners load when cells run.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from rqlbench.prior_files import prior_digest, prior_path
from rqlbench.runner.executors import EXECUTORS, execute
from rqlbench.runner.grid import (
    PRESETS,
    PRIOR_KINDS,
    Cell,
    build_grid,
    plan_cell,
    preset_config,
)
from rqlbench.runner.store import RunStore
from rqlbench.runner.timing import (
    Deadline,
    DeadlineReached,
    duration,
    known_seconds,
    timing_key,
)

__all__ = [
    "EXECUTORS",
    "PRESETS",
    "PRIOR_KINDS",
    "Cell",
    "DeadlineReached",
    "RunSpec",
    "RunStore",
    "available_priors",
    "describe_plan",
    "plan_grid",
    "run_benchmark",
]


@dataclass(frozen=True)
class RunSpec:
    """What a run computes (saved as its config.yaml; resuming needs the same spec)."""

    tasks: tuple[str, ...]
    preset: str = "quick"
    methods: tuple[str, ...] | None = None  # None: every method the task supports
    priors: tuple[str, ...] | None = None  # None: every prior kind available for the task
    seeds: int | None = None  # None: the preset's default for the task
    omegas: tuple[float, ...] | None = None  # None: each method's default omega'
    simulations: tuple[int, ...] | None = None  # MCTS budgets; None: the task's default
    prior_dir: str | None = None  # None: the shipped priors
    split: str = "evaluation"  # "validation": evaluate on the validation episodes (tuning)

    def as_config(self) -> dict:
        config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        if self.split == "evaluation":  # runs stored before splits existed stay resumable
            del config["split"]
        return config


def available_priors(task: str, prior_dir: str | None = None) -> list[str]:
    """The prior kinds that exist for a task (shipped, or in `prior_dir`)."""
    kinds = []
    for kind in PRIOR_KINDS:
        try:
            prior_path(task, kind, prior_dir)
        except FileNotFoundError:
            continue
        kinds.append(kind)
    return kinds


def plan_grid(spec: RunSpec) -> list[Cell]:
    """Every cell of the run; raises a clear error for any bad name, seed count or prior."""
    if not spec.tasks:
        raise ValueError("no task given: name at least one (rqlbench list shows them)")
    cells: list[Cell] = []
    for task in spec.tasks:
        budget = preset_config(task, spec.preset)  # also checks the task and preset names
        seeds = spec.seeds if spec.seeds is not None else int(budget["seeds"])
        priors = list(spec.priors or available_priors(task, spec.prior_dir))
        if not priors:
            raise FileNotFoundError(
                f"no prior for task {task!r}: train one with `rqlbench train-prior {task}`"
            )
        for kind in priors:
            prior_path(task, kind, spec.prior_dir)  # a missing prior fails before any work
        methods = list(spec.methods) if spec.methods else None
        cells += build_grid(
            [task], methods, priors, seeds, spec.omegas, spec.simulations, spec.split
        )
    return cells


def describe_plan(
    spec: RunSpec, out: str | Path, workers: int = 1, timings_from: Iterable[str | Path] = ()
) -> str:
    """What a run would do in `out`: cells per task and method, how many are finished, and the
    time left, estimated from the median time of the same kind of finished cell there (or in
    `timings_from`: runner.timing.known_seconds)."""
    store, lines, left = RunStore(out), [], 0.0
    cells = plan_grid(spec)
    digests = _prior_digests(cells, spec.prior_dir)
    _check_existing_run(store, spec, cells, digests)  # what the run would refuse, it refuses here
    remaining: dict[tuple, int] = defaultdict(int)
    planned: dict[tuple, int] = defaultdict(int)
    for cell in cells:
        planned[timing_key(cell.as_dict())] += 1
        remaining[timing_key(cell.as_dict())] += not store.is_done(cell)
    seconds = known_seconds(store, cells, spec.preset, timings_from)
    for key, count in planned.items():
        timed = seconds.get(key, [])
        each = statistics.median(timed) if timed else 0.0
        left += each * remaining[key]
        estimate = f"~{duration(each)} each ({len(timed)} timed)" if timed else "not timed yet"
        task, method, budget = key
        name = method if budget is None else f"{method} ({budget} sims)"
        lines.append(f"  {task:<12} {name:<22} {remaining[key]:>4} of {count:<4} {estimate}")
    untimed = sum(n for key, n in remaining.items() if n and key not in seconds)
    total = f"time left ~{duration(left / workers)} on {workers} worker(s)"
    if untimed:
        total += f" for the timed cells, plus {untimed} cell(s) not timed yet"
    header = f"{out}: {sum(remaining.values())} of {sum(planned.values())} cells to run"
    return "\n".join([header, f"  {'task':<12} {'method':<22} to run", *lines, total])


def _check_existing_run(
    store: RunStore, spec: RunSpec, cells: list[Cell], digests: dict[tuple[str, str], str]
) -> None:
    """Refuses a directory this run may not resume or extend, before anything is written."""
    if (store.path / "config.yaml").exists():
        store.check_resumable(spec.as_config())
        store.refuse_unplanned_cells(cells)
        store.refuse_changed_plans({
            cell: replace(plan_cell(cell, spec.preset), prior_sha256=digests[cell.task, cell.prior])
            for cell in cells
        })  # fmt: skip


def _prior_digests(cells: list[Cell], prior_dir: str | None) -> dict[tuple[str, str], str]:
    """The SHA-256 of each prior file the cells customize, per (task, prior kind)."""
    priors = {(cell.task, cell.prior) for cell in cells}
    return {(task, kind): prior_digest(prior_path(task, kind, prior_dir)) for task, kind in priors}


def _check_same_prior(cell: Cell, result: dict, digests: dict[tuple[str, str], str]) -> None:
    """A prior retrained in place while the run runs must not mix into it."""
    if result["prior_sha256"] != (started := digests[cell.task, cell.prior]):
        raise ValueError(
            f"the {cell.task} {cell.prior} prior changed during the run: {cell.id} customized "
            f"a file with SHA-256 {result['prior_sha256']}, the run started with {started} "
            "(the cell is not saved): keep the priors fixed while a run runs, and choose a new "
            "--out directory"
        )


def run_benchmark(
    spec: RunSpec,
    out: str | Path,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    progress: bool = True,
    stop_by: float | None = None,
    timings_from: Iterable[str | Path] = (),
) -> RunStore:
    """Runs (or resumes) the benchmark `spec` into the run directory `out`.

    With `stop_by` (seconds since the epoch), no cell starts unless the finished cells say it
    will be done by then (runner.timing.Deadline, timed as `describe_plan` says); if any is held
    back, raises DeadlineReached once the cells in flight are saved."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    cells = plan_grid(spec)
    digests = _prior_digests(cells, spec.prior_dir)
    _check_existing_run(RunStore(out), spec, cells, digests)
    store = RunStore.open(out, spec.as_config())
    todo = [cell for cell in cells if not store.is_done(cell)]
    deadline = None
    if stop_by is not None:
        deadline = Deadline(stop_by, known_seconds(store, cells, spec.preset, timings_from))
    to_start = deadline.admitted(todo) if deadline else todo  # judged as workers free up
    with tqdm(
        total=len(cells), initial=len(cells) - len(todo), desc="cells", disable=not progress
    ) as bar:
        for cell, result in execute(
            to_start, spec.preset, spec.prior_dir, executor, workers, address
        ):
            _check_same_prior(cell, result, digests)
            store.save(cell, result)
            if deadline:
                deadline.record(cell, result)
            bar.set_postfix_str(cell.id, refresh=False)
            bar.update()
    if deadline and deadline.held_back:
        raise DeadlineReached(deadline.stop_message())
    return store
