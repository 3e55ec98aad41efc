"""Executors run a list of cells and hand each finished result back as it arrives.

`local` uses a process pool (one torch thread per worker); `ray` sends the same function to a
Ray cluster (`address=None` starts a local one). Both yield (cell, result) in completion order,
so the caller saves every cell the moment it finishes, and take the next cell from `cells` only
when a worker is free, so a lazy iterable decides then whether a cell still starts (a deadline).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from rqlbench.runner.grid import Cell

EXECUTORS = ("local", "ray")
Results = Iterator[tuple[Cell, dict[str, Any]]]


def execute(
    cells: Iterable[Cell],
    preset: str,
    prior_dir: str | None = None,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
) -> Results:
    """Runs `cells` and yields (cell, result) as each one finishes."""
    if executor == "local":
        return _local(cells, preset, prior_dir, workers)
    if executor == "ray":
        return _ray(cells, preset, prior_dir, address)
    raise ValueError(f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}")


def _local(cells: Iterable[Cell], preset: str, prior_dir: str | None, workers: int) -> Results:
    from rqlbench.runner.cell import run_cell  # torch and the learners, only once cells run

    if workers == 1:  # in this process: simplest to debug, no start-up cost
        for cell in cells:
            yield cell, run_cell(cell, preset, prior_dir, progress=True)
        return
    # spawn: torch and the simulators are not fork-safe once threads exist.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:

        def start(cell: Cell) -> Future:
            return pool.submit(run_cell, cell, preset, prior_dir)

        yield from _as_workers_free(cells, workers, start)


def _as_workers_free(cells: Iterable[Cell], slots: int, start: Callable[[Cell], Future]) -> Results:
    """Keeps `slots` cells in flight; the next cell is taken from `cells` when one finishes,
    after the caller has handled it."""
    cells, pending = iter(cells), {}

    def fill() -> None:
        while len(pending) < slots and (cell := next(cells, None)) is not None:
            pending[start(cell)] = cell

    fill()
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
                fill()
    finally:
        for future in pending:
            future.cancel()


def _ray(cells: Iterable[Cell], preset: str, prior_dir: str | None, address: str | None) -> Results:
    from rqlbench.runner.cell import run_cell

    try:
        import ray
    except ImportError as error:
        raise ImportError(
            "the ray executor needs Ray: pip install 'rqlbench[ray]' (or use --executor local)"
        ) from error
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster for one user
    # Ray starts its workers at nice 15; the cells are the work, and niced workers starved
    # behind any busy process (importing torch took 38 s instead of 1.5 s on a loaded machine).
    os.environ.setdefault("RAY_worker_niceness", "0")
    if prior_dir is not None:
        prior_dir = os.path.abspath(prior_dir)  # workers run in a directory of Ray's
    started_here = not ray.is_initialized()
    if started_here:
        _start_ray(ray, address)
    try:
        remote = ray.remote(num_cpus=1)(run_cell)

        def start(cell: Cell) -> Future:
            return remote.remote(cell, preset, prior_dir).future()

        yield from _as_workers_free(
            cells, max(1, int(ray.cluster_resources().get("CPU", 1))), start
        )
    finally:
        if started_here:
            ray.shutdown()


def _start_ray(ray: Any, address: str | None) -> None:
    """Starts or joins a Ray cluster whose workers import the same rqlbench as this process."""
    # Without a working_dir, Ray puts this process's working directory first on every worker's
    # sys.path: started in a source checkout, workers would import its rqlbench/ (no compiled
    # core, no rqlbench.baselines) instead of the installed package. An empty one avoids that.
    with tempfile.TemporaryDirectory(prefix="rqlbench-ray-") as empty:
        ray.init(
            address=address, include_dashboard=False, log_to_driver=False,
            runtime_env={"working_dir": empty},
        )  # fmt: skip
