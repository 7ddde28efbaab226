"""Inputs from anywhere on the host, for one run on the cluster.

A path under a mounted directory (data/, SPARKLAB_DATA_DIR) maps to the
containers' path of it. Any other file or directory is copied, for that run
only, into the `inputs` volume that the driver and every worker mount at
/sparklab/inputs, and removed when the run ends. Past SIZE_LIMIT the copy is
refused with the one line that says how to mount its directory instead.

A run whose host command was killed (SIGKILL: no `finally` ran) leaves its
copies, and a script's code directory, in the driver: every script run and
every run that copies removes those of runs that are over (no process in the driver carries their id) and
older than STALE_SECONDS (a run starting right now has not started its
processes yet).
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

from cluster.project import ComposeProject
from cluster.settings import ROOT, ClusterError, data_dir
from jobs.errors import last_line

CONTAINER_INPUTS = "/sparklab/inputs"
SIZE_LIMIT = 1 << 30  # bytes copied in per run: 1 GB (the README says so)
SIZE_LIMIT_TEXT = "1 GB"
UNPACK = 'mkdir -p "$1" && tar -x --no-same-owner -C "$1"'  # a tar on stdin, into $1
CONTAINER_CODE = "/tmp/sparklab-code"  # a script's code in the driver, one directory per run
STALE_SECONDS = 60
# In the driver, as root: each run directory under the given ones that is old
# enough and that no process names (run ids are unique: `new_run_id`).
REMOVE_STALE = r"""
now=$(date +%s)
for top in "$@"; do
  for entry in "$top"/*; do
    [ -d "$entry" ] || continue
    [ $((now - $(stat -c %Y "$entry"))) -ge "$STALE" ] || continue
    pgrep -f -- "${entry##*/}" >/dev/null || rm -rf -- "$entry"
  done
done
"""


def container_path(host_path: str) -> str:
    """Where a host file is seen inside the containers (the same in every one)."""
    path = Path(host_path).resolve()
    for host_dir, inside in ((ROOT / "data", "/sparklab/data"), (data_dir(), "/sparklab/external")):
        if path.is_relative_to(host_dir.resolve()):
            return f"{inside}/{path.relative_to(host_dir.resolve()).as_posix()}"
    raise ClusterError(
        f"{host_path}: not visible to the cluster; put it under data/ or set "
        f"SPARKLAB_DATA_DIR to its directory and run `./lab up` again"
    )


def tree_size(path: Path) -> int:
    """Bytes in a file, or in every file under a directory (links not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(
        (Path(root) / name).stat().st_size
        for root, _, names in os.walk(path)
        for name in names
        if (Path(root) / name).is_file()
    )


def too_large(path: Path) -> str:
    folder = path if path.is_dir() else path.parent
    return (
        f"{path}: more than the {SIZE_LIMIT_TEXT} that is copied to the cluster for one run; "
        f"mount its directory instead: SPARKLAB_DATA_DIR={folder} ./lab up"
    )


def _readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by whoever extracts, readable by the containers' user spark."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def copy_into_driver(
    project: ComposeProject, files: dict[str, Path], target: str, *, user: str = "spark"
) -> None:
    """Put `files` (name inside -> host path) under `target` in the driver
    container: one tar through `docker compose exec`, nothing on disk."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, path in files.items():
            archive.add(path, arcname=name, filter=_readable)
    command = ("exec", "-T", "-u", user, "driver", "sh", "-c", UNPACK, "sh", target)
    done = project.run(*command, input=buffer.getvalue(), text=False, capture=True, check=False)
    if done.returncode != 0:
        said = last_line(done.stderr, "no reason given")
        raise ClusterError(f"could not copy into the driver container: {said}")


def remove_stale_runs(project: ComposeProject) -> None:
    """Remove what killed runs left in the driver: copied inputs, a script's code."""
    command = ("exec", "-T", "-u", "root", "-e", f"STALE={STALE_SECONDS}", "driver", "sh", "-c", REMOVE_STALE)
    project.run(*command, "sh", CONTAINER_INPUTS, CONTAINER_CODE, check=False, capture=True)


@contextlib.contextmanager
def staged(project: ComposeProject, paths: list[str], run: str) -> Iterator[list[str]]:
    """The containers' paths of `paths`, in order: mounted ones mapped, the
    others copied into the inputs volume for this run and removed afterwards."""
    mapped: list[str] = []
    copies: dict[str, Path] = {}
    total = 0
    for given in paths:
        try:
            mapped.append(container_path(given))
            continue
        except ClusterError:
            pass
        path = Path(given).resolve()
        total += tree_size(path)
        if total > SIZE_LIMIT:
            raise ClusterError(too_large(path))
        name = f"{len(copies)}/{path.name}"  # two inputs of the same name stay apart
        copies[name] = path
        mapped.append(f"{CONTAINER_INPUTS}/{run}/{name}")
    if copies:
        remove_stale_runs(project)
        copy_into_driver(project, copies, f"{CONTAINER_INPUTS}/{run}", user="root")
    try:
        yield mapped
    finally:
        if copies:
            remove = ("exec", "-T", "-u", "root", "driver", "rm", "-rf", f"{CONTAINER_INPUTS}/{run}")
            project.run(*remove, check=False, capture=True)
