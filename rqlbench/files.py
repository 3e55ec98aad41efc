"""Atomic file writes: readers see either the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()  # what open() would give; mkstemp makes its files private (0600)


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Calls write(temporary path) beside `path`, then renames the result into place."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(FILE_MODE)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_text(path: Path, text: str) -> Path:
    """Writes a text file atomically."""
    return write_atomic(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
