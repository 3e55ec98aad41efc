"""How long cells take, from the finished ones in a run directory: the dry run's time left and
the deadline that keeps a run from starting cells it cannot finish.

A parking cell trains for ~40 minutes here; a run stopped from outside (a session's end, a batch
job's wall time) loses every cell in flight. With a deadline, a cell starts only if the cells of
its kind that finished so far say it will be done in time, and the run stops cleanly instead.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from rqlbench.methods.registry import get_method
from rqlbench.runner.grid import Cell, plan_cell
from rqlbench.runner.store import RunStore


def timing_key(cell: dict) -> tuple:
    """Cells that take about as long: same task, method and planning budget."""
    return cell["task"], cell["method"], cell.get("simulations")


def cell_seconds(result: dict) -> float:
    return result["train_seconds"] + result["eval_seconds"]


def finished_seconds(
    store: RunStore, steps: dict[tuple, int] | None = None
) -> dict[tuple, list[float]]:
    """Training plus evaluation seconds of the finished cells, per timing key; with `steps`,
    only of the kinds of cell it names, trained for as many steps."""
    seconds: dict[tuple, list[float]] = defaultdict(list)
    for path in sorted(store.cells_dir.glob("*.json")):
        record = json.loads(path.read_text())
        key = timing_key(record["cell"])
        if steps is None or (key in steps and record.get("steps") == steps[key]):
            seconds[key].append(cell_seconds(record))
    return seconds


def known_seconds(
    store: RunStore, cells: list[Cell], preset: str, timings_from: Iterable[str | Path] = ()
) -> dict[tuple, list[float]]:
    """The times of the cells finished in `store`; for a kind of cell not timed there, those in
    the `timings_from` run directories at the same training steps (e.g. the tuning run before
    a main run: a fresh run's first cells are then judged too). Their evaluation episodes may
    differ in number; training is most of a learning cell's time."""
    seconds, timings_from = finished_seconds(store), list(timings_from)
    if not timings_from:
        return seconds
    steps = {timing_key(cell.as_dict()): plan_cell(cell, preset).steps for cell in cells}
    borrowed: dict[tuple, list[float]] = defaultdict(list)
    for directory in timings_from:
        other = RunStore(directory)
        if not other.cells_dir.is_dir():
            raise FileNotFoundError(
                f"--timings-from {directory}: not a run directory (no {other.cells_dir}): give "
                "the --out of an earlier `rqlbench run` or `rqlbench tune`"
            )
        for key, times in finished_seconds(other, steps).items():
            borrowed[key] += times
    return {**borrowed, **seconds}


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _sort(name: str) -> tuple[bool, bool]:
    """Methods that take alike times: training ones, planners, the rest (the prior)."""
    method = get_method(name)
    return method.trains, method.plans


class DeadlineReached(RuntimeError):
    """The run stopped starting cells before its deadline; the finished ones are saved."""


class Deadline:
    """Admits a cell only if it is expected to finish by `when` (seconds since the epoch).

    Expected, on the safe side: the slowest finished cell of its kind; for a kind not timed yet,
    the slowest timed kind of its task that is alike (training, planning or neither); plus
    SETUP_SECONDS for what a cell's timings leave out. With nothing alike timed, a cell starts:
    nothing is known.
    """

    SETUP_SECONDS = 60.0  # starting a worker (importing torch), loading the prior, saving

    def __init__(
        self, when: float, seconds: dict[tuple, list[float]], clock: Callable[[], float] = time.time
    ):
        self.when, self.clock = when, clock
        self.seconds = defaultdict(list, {key: list(times) for key, times in seconds.items()})
        self.held_back: list[Cell] = []

    def expected_seconds(self, cell: Cell) -> float:
        if own := self.seconds[timing_key(cell.as_dict())]:
            return max(own)
        sort = _sort(cell.method)
        alike = [
            max(times)
            for (task, method, _), times in self.seconds.items()
            if times and task == cell.task and _sort(method) == sort
        ]
        return max(alike, default=0.0)

    def admits(self, cell: Cell) -> bool:
        return self.clock() + self.expected_seconds(cell) + self.SETUP_SECONDS <= self.when

    def record(self, cell: Cell, result: dict) -> None:
        self.seconds[timing_key(cell.as_dict())].append(cell_seconds(result))

    def admitted(self, cells: Iterable[Cell]) -> Iterator[Cell]:
        """The cells that fit, each judged when a worker asks for it; the rest are held back."""
        for cell in cells:
            if self.admits(cell):
                yield cell
            else:
                self.held_back.append(cell)

    def stop_message(self) -> str:
        first = self.held_back[0]
        at = datetime.fromtimestamp(self.when).isoformat(sep=" ", timespec="minutes")
        return (
            f"stopped before the deadline {at}: {len(self.held_back)} cell(s) would not have "
            f"finished in time (e.g. {first.id}, ~{duration(self.expected_seconds(first))}); the "
            "finished cells are saved: rerun the same command to resume"
        )
