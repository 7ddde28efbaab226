"""Resolving the paths a job reads, with one-line errors for what is missing."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from jobs.errors import JobError

WINE_ENV = "SPARKLAB_WINE_CSV"
PROJECT_DIR = Path(__file__).resolve().parents[2]
WINE_DEFAULT = PROJECT_DIR / "data" / "winequality-white.csv"


def expand_inputs(patterns: list[str]) -> list[str]:
    """Expand paths and globs to a sorted list of files; fail on any that match nothing."""
    if not patterns:
        raise JobError("no input given: pass --input PATH_OR_GLOB")
    files: list[str] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
            if not matches:
                raise JobError(f"{pattern}: the glob matches no file")
            files.extend(matches)
        elif os.path.isdir(pattern):
            matches = sorted(str(p) for p in Path(pattern).iterdir() if p.is_file())
            if not matches:
                raise JobError(f"{pattern}: the directory holds no file")
            files.extend(matches)
        elif os.path.isfile(pattern):
            files.append(pattern)
        else:
            raise JobError(f"{pattern}: no such file")
    return [os.path.abspath(f) for f in files]


def wine_csv(path: str | None) -> str:
    """The wine CSV to read: `path`, else $SPARKLAB_WINE_CSV, else data/."""
    chosen = path or os.environ.get(WINE_ENV) or str(WINE_DEFAULT)
    if not os.path.isfile(chosen):
        raise JobError(
            f"{chosen}: no such file; run `./lab data` (downloads and checks it), "
            f"`./lab data --from PATH`, or set {WINE_ENV}=PATH"
        )
    return os.path.abspath(chosen)
