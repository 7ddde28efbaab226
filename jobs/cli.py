"""The command line of the three jobs: `python -m jobs JOB [options]`.

Parses options, checks them before Spark starts, builds the session, runs
the job, stops the session, and writes `<out>/<job>.json` atomically. Bad
input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs import cv, gd, wordcount
from jobs.data.paths import PROJECT_DIR, expand_inputs, wine_csv
from jobs.errors import JobError, Terminated, interrupt_exit_code, one_line, raise_on_sigterm
from jobs.report.files import new_run_id, write_json_atomic
from jobs.runtime.session import MASTER_URL_FORMS, build_session, is_master_url, master_from_env

JOBS = ("wordcount", "gd", "cv")
RESULTS_DIR = Path("results")


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--master", default=None, help="Spark master URL (default: $SPARKLAB_MASTER, else local[*])"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results directory (default: results/<run-id>)"
    )
    parser.add_argument(
        "--partitions", type=int, default=None, help="partitions of the data (default: the cores Spark has)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _add_wordcount_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        nargs="+",
        default=[str(PROJECT_DIR / "data" / "peter_piper.txt")],
        metavar="PATH_OR_GLOB",
        help=(
            "text files, directories or globs (default: the article's data/peter_piper.txt); "
            "a path that exists is read as it is, even with [ ] * ? in its name; only one "
            "that does not exist is a glob (quote it; [[] matches a literal [); a directory "
            "gives its files, and names starting with _ or . are skipped"
        ),
    )
    parser.add_argument("--top", type=int, default=10, help="how many of the most frequent words to list")
    parser.add_argument("--lower", action="store_true", help="lower-case the words")
    parser.add_argument("--strip-punct", action="store_true", help="strip punctuation")


def _add_regression_options(parser: argparse.ArgumentParser, *, folds: bool) -> None:
    parser.add_argument(
        "--data",
        default=None,
        help="the ;-separated CSV, target last (default: $SPARKLAB_WINE_CSV, else data/)",
    )
    if folds:
        parser.add_argument("--folds", type=int, default=6, help="k, the number of folds and models")
    parser.add_argument("--iterations", type=int, default=50, help="gradient steps")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument(
        "--one-job",
        action="store_true",
        help="run the whole fit as ONE Spark job (a barrier stage with a TCP all-reduce)",
    )
    parser.add_argument(
        "--on-bad-lines",
        choices=("error", "skip"),
        default="error",
        help="error: stop at the first bad row; skip: skip and count them",
    )
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of rows held out for test")
    parser.add_argument("--seed", type=int, default=7, help="seed of the row hash behind the split and folds")
    parser.add_argument(
        "--no-standardize",
        action="store_true",
        help="use raw feature units (the step size must then be tiny)",
    )


JOB_HELP = {
    "wordcount": "Count words in text files with flatMap + reduceByKey.",
    "gd": "Fit linear regression on the wine data by batch gradient descent.",
    "cv": "Cross-validate k models at once, one pass over the data per iteration.",
}


def build_parser() -> argparse.ArgumentParser:
    """The one owner of every job option, its default and its help (tasks.py reads it)."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__)
    sub = parser.add_subparsers(dest="job", required=True, metavar="JOB")
    for name, help_text in JOB_HELP.items():
        job_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == "wordcount":
            _add_wordcount_options(job_parser)
        else:
            _add_regression_options(job_parser, folds=name == "cv")
        _add_common_options(job_parser)
    return parser


def job_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each job's own parser, by job name."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def to_argv(options: dict[str, Any]) -> list[str]:
    """The inverse of the parser: `--name value` for every option that is set
    (None, False and [] are left out; True is a bare flag; lists give several values)."""
    args: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False or value == []:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, list | tuple):
            args += [flag, *map(str, value)]
        else:
            args += [flag, str(value)]
    return args


def progress_printer(job: str, iterations: int, quiet: bool) -> gd.OnStep | None:
    if quiet:
        return None
    width = len(str(iterations))
    second = "val" if job == "cv" else "test"

    def on_step(step: int, train: float, other: float) -> None:
        print(
            f"[{job}] step {step:>{width}}/{iterations}  train_mse {train:.6f}  {second}_mse {other:.6f}",
            file=sys.stderr,
            flush=True,
        )

    return on_step


def _load(spark, args):
    from jobs.data.table import Split, load_table

    spark.sparkContext.setJobGroup("load", "read, check and split the data")
    split = Split(test_fraction=args.test_fraction, seed=args.seed, standardize=not args.no_standardize)
    data = load_table(
        spark, args.data, split=split, partitions=args.partitions, on_bad_lines=args.on_bad_lines
    )
    for note in data.notes:
        print(f"sparklab {args.job}: note: {note}", file=sys.stderr)
    if data.notes:  # the loader changed the partitioning: the result says what ran
        args.partitions = data.blocks.getNumPartitions()
    if data.skipped_lines:
        line, what = data.skipped_examples[0]
        print(
            f"sparklab {args.job}: skipped {data.skipped_lines} bad lines (--on-bad-lines skip), "
            f"the first {data.path}:{line}: {what}",
            file=sys.stderr,
        )
    return data, split


def _data_json(data, split) -> dict[str, Any]:
    return {
        "data": data.path,
        "feature_names": data.feature_names,
        "target": data.target_name,
        "n_train": data.n_train,
        "n_test": data.n_test,
        "feature_mean": data.feature_mean,
        "feature_std": data.feature_std,
        "split": {"test_fraction": split.test_fraction, "seed": split.seed, "standardize": split.standardize},
        "skipped_lines": data.skipped_lines,
        "skipped_examples": [[line, what] for line, what in data.skipped_examples],
    }


def run_wordcount(spark, args) -> dict[str, Any]:
    spark.sparkContext.setJobGroup("wordcount", "count the words")
    tokenizer = wordcount.Tokenizer(lower=args.lower, strip_punct=args.strip_punct)
    result = wordcount.run(spark, args.input, top=args.top, tokenizer=tokenizer, partitions=args.partitions)
    return {**wordcount.to_json(result), "options": {"lower": args.lower, "strip_punct": args.strip_punct}}


def run_gd(spark, args) -> dict[str, Any]:
    data, split = _load(spark, args)
    spark.sparkContext.setJobGroup("fit", f"{args.iterations} gradient descent iterations")
    result = gd.fit_gd(
        spark.sparkContext,
        data,
        iterations=args.iterations,
        lr=args.lr,
        one_job=args.one_job,
        on_step=progress_printer("gd", args.iterations, args.quiet),
    )
    return {
        **gd.to_json(result, data),
        **_data_json(data, split),
        "iterations": args.iterations,
        "lr": args.lr,
    }


def run_cv(spark, args) -> dict[str, Any]:
    data, split = _load(spark, args)
    spark.sparkContext.setJobGroup("fit", f"{args.folds}-fold cross-validation")
    result = cv.cross_validate(
        spark.sparkContext,
        data,
        folds=args.folds,
        iterations=args.iterations,
        lr=args.lr,
        seed=args.seed,
        on_step=progress_printer("cv", args.iterations, args.quiet),
        one_job=args.one_job,
    )
    return {
        **cv.to_json(result),
        **_data_json(data, split),
        "k": args.folds,
        "iterations": args.iterations,
        "lr": args.lr,
    }


RUNNERS: dict[str, Callable[[Any, argparse.Namespace], dict[str, Any]]] = {
    "wordcount": run_wordcount,
    "gd": run_gd,
    "cv": run_cv,
}


def check_arguments(args: argparse.Namespace) -> None:
    """Everything that can be checked before a JVM starts, so it fails in milliseconds."""
    master = args.master if args.master is not None else master_from_env()
    if not is_master_url(master):
        given = f"--master {master}" if args.master is not None else f"SPARKLAB_MASTER={master}"
        raise JobError(f"{given}: not a Spark master URL; {MASTER_URL_FORMS}")
    args.master = master
    if args.out is None:
        args.out = RESULTS_DIR / new_run_id()
    if args.partitions is not None and args.partitions < 1:
        raise JobError(f"--partitions must be at least 1, got {args.partitions}")
    if args.job == "wordcount":
        args.input = expand_inputs(args.input)
        if args.top < 1:
            raise JobError(f"--top must be at least 1, got {args.top}")
        check_out_dir(Path(args.out))
        return
    gd.check_hyperparameters(
        iterations=args.iterations, lr=args.lr, folds=args.folds if args.job == "cv" else None
    )
    if not 0 < args.test_fraction < 1:
        raise JobError(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    args.data = wine_csv(args.data)
    from jobs.data.table import read_header

    read_header(args.data)
    check_out_dir(Path(args.out))


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


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


def execute(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Run one parsed job end to end; returns where its JSON went and the JSON."""
    check_arguments(args)
    master = args.master or master_from_env()
    spark = build_session(master, f"sparklab-{args.job}")
    try:
        started = time.perf_counter()
        payload = RUNNERS[args.job](spark, args)
        seconds = time.perf_counter() - started
        payload = {
            "job": args.job,
            "master": master,
            "app_id": spark.sparkContext.applicationId,
            "spark_version": spark.version,
            "python": platform.python_version(),
            "partitions": args.partitions or spark.sparkContext.defaultParallelism,
            "seconds": seconds,
            **payload,
            "metrics": spark_metrics(spark),
        }
    finally:
        stop_session(spark)
    out = args.out or RESULTS_DIR / new_run_id()
    return write_json_atomic(Path(out) / f"{args.job}.json", payload), payload


def stop_session(spark) -> None:
    """Stop the session; after an interrupt the JVM may be gone already, and
    that must not replace the interrupt's own message."""
    with contextlib.suppress(Exception):
        spark.stop()


def spark_metrics(spark) -> dict[str, Any]:
    """Spark's own account of the run; a failure to read it never fails the job."""
    from jobs.runtime import metrics

    try:
        return metrics.collect(spark.sparkContext)
    except Exception as error:
        return {"error": f"metrics unavailable: {one_line(error)}"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise_on_sigterm()
    # py4j logs every call that an interrupt cuts short, with a traceback, on
    # the root logger (the jobs themselves print, they do not log): the one
    # line below says what happened.
    logging.disable(logging.ERROR)
    try:
        path, _ = execute(args)
    except JobError as error:
        print(f"sparklab {args.job}: error: {error}", file=sys.stderr)
        return JobError.exit_code
    except (KeyboardInterrupt, Terminated) as stop:
        print(f"sparklab {args.job}: interrupted; no result written", file=sys.stderr)
        return interrupt_exit_code(stop)
    except Exception as error:  # Spark's own failures: one readable line last
        if Terminated.received:
            print(f"sparklab {args.job}: interrupted; no result written", file=sys.stderr)
            return Terminated.exit_code
        print(f"sparklab {args.job}: failed: {one_line(error)}", file=sys.stderr)
        return 1
    print(json.dumps({"job": args.job, "result": str(path)}))
    return 0
