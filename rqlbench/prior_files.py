"""Where priors are on disk: the shipped ones (package data) and `train-prior`'s layout.

Light on purpose (pathlib and importlib.resources only): the runner checks that every prior of a
grid exists before anything imports torch, so a bad name or path fails before the learners load.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path


def shipped_prior_path(task: str, kind: str = "rl") -> Path:
    """The prior rqlbench ships for a task (see its card.json beside it)."""
    if kind not in ("rl", "il"):
        raise ValueError(f"kind must be 'rl' or 'il', got {kind!r}")
    # Anchored at rqlbench, not rqlbench.zoo: naming that package would import it (and torch).
    assets = Path(str(resources.files("rqlbench") / "zoo" / "assets"))
    path = assets / task / kind / "prior.zip"
    if not path.is_file():
        found = assets.glob("*/*/prior.zip")
        shipped = sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in found)
        raise FileNotFoundError(
            f"no shipped {kind} prior for task {task!r} (shipped: {', '.join(shipped) or 'none'}): "
            f"train one with `rqlbench train-prior {task} --kind {kind}`"
        )
    return path


def prior_path(task: str, kind: str, prior_dir: str | Path | None = None) -> Path:
    """A prior from `prior_dir`/TASK/KIND/prior.zip (train-prior's layout), else the shipped one."""
    if prior_dir is None:
        return shipped_prior_path(task, kind)
    path = Path(prior_dir) / task / kind / "prior.zip"
    if not path.is_file():
        raise FileNotFoundError(
            f"no prior at {path}: train it with `rqlbench train-prior {task} --kind {kind} "
            f"--out {prior_dir}` or drop --prior-dir to use the shipped priors"
        )
    return path


def prior_digest(path: Path) -> str:
    """The SHA-256 of a prior file: a cell records which prior it customized, and a resumed run
    refuses cells of a prior retrained in place since."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
