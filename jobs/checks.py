"""Everything about a job's command line that can be checked before a JVM
starts, so that a bad option or input fails in milliseconds, with one line:
the master URL, the numbers, the inputs and whether the output can be written.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import tempfile
from pathlib import Path

from jobs import gd
from jobs.data.paths import expand_inputs, wine_csv
from jobs.data.table import read_header
from jobs.errors import JobError
from jobs.report.files import new_run_id
from jobs.runtime.connect import is_connect_url, localhost_instead, token_over_tls
from jobs.runtime.session import MASTER_URL_FORMS, is_master_url, master_from_env

RESULTS_DIR = Path("results")


def check_arguments(args: argparse.Namespace) -> None:
    """Everything that can be checked before a JVM starts, so it fails in milliseconds."""
    master = args.master if args.master is not None else master_from_env()
    connect = is_connect_url(master)
    where = "--master " if args.master is not None else "SPARKLAB_MASTER="
    given = where + master
    if not (is_master_url(master) or connect):
        raise JobError(f"{given}: not a Spark master URL; {MASTER_URL_FORMS}, or sc://HOST:PORT")
    if connect and localhost_instead(master):
        raise JobError(where + token_over_tls(master))  # the token redacted
    if master.startswith("spark://"):
        check_master_listening(master, given)
    if connect and args.job not in ("wordcount", "mllib"):
        raise JobError(
            f"{args.job} runs on RDDs, which Spark Connect does not have; "
            f"the DataFrame versions are wordcount and mllib"
        )
    args.master = master
    if args.out is None:
        args.out = RESULTS_DIR / new_run_id()
    if args.partitions is not None and args.partitions < 1:
        raise JobError(f"--partitions must be at least 1, got {args.partitions}")
    if args.job == "wordcount":
        if not connect:  # over Connect, the files are the server's: it checks them
            args.input = expand_inputs(args.input)
        if args.top < 1:
            raise JobError(f"--top must be at least 1, got {args.top}")
        check_out_dir(Path(args.out))
        return
    if args.job == "mllib":
        if args.folds < 2:
            raise JobError(f"--folds must be at least 2 (one to validate, one to train), got {args.folds}")
        if args.max_iter < 1:
            raise JobError(f"--max-iter must be at least 1, got {args.max_iter}")
    else:
        gd.check_hyperparameters(
            iterations=args.iterations, lr=args.lr, folds=args.folds if args.job == "cv" else None
        )
        if args.one_job and args.resident == "always":
            raise JobError(
                "--resident always keeps the blocks between a fit's jobs, and --one-job runs one job "
                "(its tasks hold the blocks): give one of them"
            )
    if not 0 < args.test_fraction < 1:
        raise JobError(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    if connect:  # the server reads the file (its path, as the server sees it)
        if not args.data:
            raise JobError("--data is required over Spark Connect: the CSV's path as the server sees it")
        check_out_dir(Path(args.out))
        return
    args.data = wine_csv(args.data)

    read_header(args.data)
    check_out_dir(Path(args.out))


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def check_master_listening(master: str, given: str, timeout: float = 3) -> None:
    """Fail in seconds when nothing listens at the master's address: Spark would
    retry it for a minute, then end with "Cannot call methods on a stopped
    SparkContext". Any one address of an HA list that answers will do."""
    refused = []
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
            return
        except OSError as error:
            refused.append(f"{address} ({_reason(error)})")
    raise JobError(
        f"{given}: no Spark master answers at {', '.join(refused)}; "
        "start the cluster (`./lab up`) or check the address"
    )


def replaced_result(out: Path, job: str) -> str | None:
    """A note when `out` holds the job's result already: this run replaces it."""
    result = Path(out) / f"{job}.json"
    return f"{result} is there already; this run replaces it" if result.exists() else None


def check_out_dir(out: Path) -> None:
    """Fail before the work, not after it, when the result cannot be written
    to `out`: create it, write and delete a file in it, then remove again the
    directories this made (the result's writer makes them at the end)."""
    try:
        existing = out
        while not existing.exists() and not existing.is_symlink():
            existing = existing.parent
        if not existing.is_dir():
            if existing == out:
                raise JobError(f"--out {out}: is a file, not a directory")
            raise JobError(f"--out {out}: cannot be created, {existing} is a file")
        made = []  # the missing directories, deepest first
        missing = out
        while missing != existing:
            made.append(missing)
            missing = missing.parent
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise JobError(f"--out {out}: cannot be created ({_reason(error)})") from None
        try:
            with tempfile.TemporaryFile(dir=out):
                pass
        except OSError as error:
            raise JobError(f"--out {out}: not writable ({_reason(error)})") from None
        finally:
            for directory in made:
                with contextlib.suppress(OSError):
                    directory.rmdir()
    except PermissionError:
        raise JobError(f"--out {out}: permission denied") from None
