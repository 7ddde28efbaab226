"""Writing results: atomically, so a crash or Ctrl-C never leaves half a file."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def new_run_id() -> str:
    """A sortable, unique name for one run's directory: 20261124-101500-3f9a."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; a result gets the mode the user's umask gives.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        # BaseException too: Ctrl-C while writing must not leave the temp file.
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, payload: dict[str, Any]) -> Path:
    text = json.dumps(payload, indent=2, default=_jsonable, allow_nan=False)
    return write_bytes_atomic(path, (text + "\n").encode())


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode())


@contextlib.contextmanager
def written_atomically(path: Path) -> Iterator[Path]:
    """A sibling path, `.NAME.partial`, for whatever makes `path` (a file or a
    directory, written here or by a command): renamed to `path` when the block
    ends without an error, removed otherwise. `path` is whole or absent."""
    path = Path(path)
    staged = path.with_name(f".{path.name}.partial")
    _remove(staged)
    try:
        yield staged
        os.replace(staged, path)
    finally:
        _remove(staged)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
