"""Resolving the paths a job reads, with one-line errors for what is missing,
and handing them to Hadoop (which `sc.textFile` reads through) literally."""

from __future__ import annotations

import contextlib
import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.errors import JobError

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

WINE_ENV = "SPARKLAB_WINE_CSV"
PROJECT_DIR = Path(__file__).resolve().parents[2]
WINE_DEFAULT = PROJECT_DIR / "data" / "winequality-white.csv"

# Hadoop's glob syntax (org.apache.hadoop.fs.GlobPattern), the backslash included.
HADOOP_GLOB_CHARS = frozenset("\\[]{}*?")
# FileInputFormat's hiddenFileFilter: Hadoop never reads a file named so.
HADOOP_HIDDEN_PREFIXES = ("_", ".")


def is_hidden(name: str) -> bool:
    """A name Hadoop skips (`_SUCCESS`, `.part-0.crc`), and so do directories and globs here."""
    return name.startswith(HADOOP_HIDDEN_PREFIXES)


def check_hadoop_readable(path: str) -> None:
    """Refuse, in one line, an absolute local path that Hadoop cannot read as itself."""
    if ":" in path:
        # org.apache.hadoop.fs.Path takes `a:b` for scheme `a`, in every
        # directory it lists on the way (HADOOP-14217); no escape exists.
        raise JobError(
            f"{path}: Hadoop cannot read a path that holds ':' (it takes it for a URI scheme); "
            "rename the file or copy it to a path without ':'"
        )
    if is_hidden(os.path.basename(path)):
        raise JobError(
            f"{path}: Hadoop skips files whose name starts with '_' or '.'; rename the file or copy it"
        )
    parent = "/"
    for name in path.strip("/").split("/"):
        if "," in name:
            # `hadoop_path` makes this name a pattern, so Hadoop lists `parent`
            # and builds a Path of every name there, which fails on a ':'.
            with contextlib.suppress(OSError):
                colon = next((n for n in sorted(os.listdir(parent)) if ":" in n), None)
                if colon is not None:
                    raise JobError(
                        f"{path}: Hadoop cannot read it: for the ',' in {name!r} it lists {parent}, "
                        f"where {colon!r} holds a ':' (taken for a URI scheme); rename or move one of them"
                    )
        parent = os.path.join(parent, name)


def hadoop_path(path: str) -> str:
    """An existing local file as the string `sc.textFile` reads as exactly that file.

    Hadoop reads the string as comma-separated glob patterns: `\\ [ ] { } * ?`
    are escaped with a backslash (GlobPattern honours it), and `,` (which
    splits paths except inside braces) becomes the group `{\\,}`, a literal
    comma. It is not a URI: `%`, `#`, spaces and any letters are read as they
    are (percent-encoding would be read literally too). What cannot be read at
    all (a `:`, a hidden name) is a JobError, see `check_hadoop_readable`.
    """
    path = "/" + os.path.abspath(path).lstrip("/")  # `//x` is not a host here
    check_hadoop_readable(path)
    escaped = "".join(
        "{\\,}" if char == "," else "\\" + char if char in HADOOP_GLOB_CHARS else char for char in path
    )
    return "file://" + escaped


def read_lines(sc: SparkContext, files: list[str], min_partitions: int) -> RDD[str]:
    """The lines of `files`, in order, each read literally, in about `min_partitions` partitions.

    One textFile per file (the escaped braces of one path would upset how
    Hadoop splits a comma-joined list), each given its share of the
    partitions by size, so the whole splits as one comma-joined read would.
    """
    if len(files) == 1:
        return sc.textFile(hadoop_path(files[0]), minPartitions=min_partitions)
    sizes = [os.path.getsize(f) for f in files]
    total = sum(sizes) or 1
    return sc.union(
        [
            sc.textFile(hadoop_path(f), minPartitions=max(1, round(min_partitions * size / total)))
            for f, size in zip(files, sizes, strict=True)
        ]
    )


def check_readable(path: str) -> None:
    """A one-line JobError for a file this user may not read (root is no exception)."""
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise JobError(f"{path}: permission denied") from None


def _files_in(directory: str) -> list[str]:
    try:
        entries = sorted(Path(directory).iterdir())
    except PermissionError:
        raise JobError(f"{directory}: permission denied") from None
    files = [p for p in entries if p.is_file()]
    visible = [str(p) for p in files if not is_hidden(p.name)]
    if not visible:
        hidden = " (names starting with '_' or '.' are skipped)" if files else ""
        raise JobError(f"{directory}: the directory holds no file{hidden}")
    return visible


def expand_inputs(patterns: list[str]) -> list[str]:
    """Resolve `--input` arguments to a list of absolute file paths.

    An argument that exists is taken literally, whatever characters it holds
    (`notes[1].txt`, `a*b.txt`): a file as it is, a directory as its files
    (sorted; no subdirectories, no hidden `_`/`.` names). Only an argument that
    does not exist and holds glob magic is a glob (Python's, sorted, files
    only, hidden names left out). Each one missing or matching nothing fails.
    """
    if not patterns:
        raise JobError("no input given: pass --input PATH_OR_GLOB")
    files: list[str] = []
    for pattern in patterns:
        if os.path.isfile(pattern):
            files.append(pattern)
        elif os.path.isdir(pattern):
            files.extend(_files_in(pattern))
        elif glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
            visible = [p for p in matches if not is_hidden(os.path.basename(p))]
            if not visible:
                hidden = " (names starting with '_' or '.' are skipped)" if matches else ""
                raise JobError(f"{pattern}: the glob matches no file{hidden}")
            files.extend(visible)
        else:
            raise JobError(f"{pattern}: no such file")
    for file in files:
        check_readable(file)
        check_hadoop_readable(os.path.abspath(file))
    return [os.path.abspath(f) for f in files]


def wine_csv(path: str | None) -> str:
    """The wine CSV to read: `path`, else $SPARKLAB_WINE_CSV, else data/."""
    chosen = path or os.environ.get(WINE_ENV) or str(WINE_DEFAULT)
    if os.path.isdir(chosen):
        raise JobError(f"{chosen}: is a directory; --data takes one CSV file")
    if not os.path.isfile(chosen):
        raise JobError(
            f"{chosen}: no such file; run `./lab data` (downloads and checks it), "
            f"`./lab data --from PATH`, or set {WINE_ENV}=PATH"
        )
    check_readable(chosen)
    check_hadoop_readable(os.path.abspath(chosen))
    return os.path.abspath(chosen)
