"""The UCI Wine Quality (white) file: shipped in data/ (see data/README.md);
checked by its sha256, downloaded again or copied from a local file on
request. Host only: executors never import this."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.request
from pathlib import Path

from jobs.data.paths import PROJECT_DIR, WINE_DEFAULT
from jobs.errors import JobError
from jobs.report.files import write_bytes_atomic

WINE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/winequality-white.csv"
WINE_SHA256 = "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _shown(path: Path) -> Path:
    """A path as the user knows it: relative to the project when inside it."""
    return path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path


def fetch_wine(dest: Path = WINE_DEFAULT, source: str | None = None, timeout: float = 60) -> Path:
    """Put the checked wine CSV at `dest`, from `source` (a path) or the UCI site.

    Without a source, a `dest` that already holds the right bytes (the shipped
    copy) is only checked: no network needed; one that holds other bytes is
    named, never downloaded over (it may be someone's edit).
    """
    dest = Path(dest)
    if source is None and dest.is_file():
        found = sha256_of(dest)
        if found == WINE_SHA256:
            return dest
        shipped = WINE_DEFAULT.relative_to(PROJECT_DIR)
        raise JobError(
            f"{_shown(dest)} differs from the published file (sha256 {found}, expected {WINE_SHA256}); "
            f"restore it (`git checkout {shipped}`) or copy the published one in "
            f"with `./lab data --from PATH`"
        )
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "wine.csv"
        if source:
            if Path(source).is_dir():
                raise JobError(f"{source}: is a directory; give the CSV file in it")
            if not Path(source).is_file():
                raise JobError(f"{source}: no such file")
            shutil.copyfile(source, staged)
        else:
            try:
                with urllib.request.urlopen(WINE_URL, timeout=timeout) as response:
                    staged.write_bytes(response.read())
            except OSError as error:
                raise JobError(
                    f"{WINE_URL}: download failed ({error}); copy the file in with `./lab data --from PATH`"
                ) from error
        found = sha256_of(staged)
        if found != WINE_SHA256:
            raise JobError(
                f"{source or WINE_URL}: differs from the published file (sha256 {found}, expected "
                f"{WINE_SHA256}); nothing was copied: give the whole published winequality-white.csv"
            )
        return write_bytes_atomic(dest, staged.read_bytes())
