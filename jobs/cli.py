"""The command line of the three jobs: `python -m jobs JOB [options]`.

Parses options, checks them before Spark starts, builds the session, runs
the job, stops the session, and writes `<out>/<job>.json` atomically. Bad
input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs import cv, gd, wordcount
from jobs.errors import JobError
from jobs.inputs import expand_inputs, wine_csv
from jobs.results import new_run_id, write_json_atomic
from jobs.session import build_session, master_from_env

JOBS = ("wordcount", "gd", "cv")
RESULTS_DIR = Path("results")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__)
    sub = parser.add_subparsers(dest="job", required=True, metavar="JOB")
    for name, module, help_text in (
        ("wordcount", wordcount, "count words in text files"),
        ("gd", gd, "linear regression by batch gradient descent"),
        ("cv", cv, "k-fold cross-validation, k models in one pass"),
    ):
        job_parser = sub.add_parser(name, help=help_text)
        job_parser.add_argument(
            "--master", default=None, help="Spark master URL (default: $SPARKLAB_MASTER or local[*])"
        )
        job_parser.add_argument(
            "--out", type=Path, default=None, help="results directory (default: results/<run-id>)"
        )
        job_parser.add_argument("--partitions", type=int, default=None, help="default: the cores Spark has")
        job_parser.add_argument("--quiet", action="store_true", help="no progress lines")
        module.add_arguments(job_parser)
        if name != "wordcount":
            job_parser.add_argument(
                "--data", default=None, help="the CSV (default: $SPARKLAB_WINE_CSV or data/)"
            )
            job_parser.add_argument("--on-bad-lines", choices=("error", "skip"), default="error")
            job_parser.add_argument("--test-fraction", type=float, default=0.2)
            job_parser.add_argument("--seed", type=int, default=7)
            job_parser.add_argument(
                "--no-standardize",
                action="store_true",
                help="use raw feature units (the step size must then be tiny)",
            )
    return parser


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
    from jobs.wine import Split, load_wine

    spark.sparkContext.setJobGroup("load", "read, check and split the data")
    split = Split(test_fraction=args.test_fraction, seed=args.seed, standardize=not args.no_standardize)
    return load_wine(
        spark, args.data, split=split, partitions=args.partitions, on_bad_lines=args.on_bad_lines
    ), split


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
    if args.partitions is not None and args.partitions < 1:
        raise JobError(f"--partitions must be at least 1, got {args.partitions}")
    if args.job == "wordcount":
        args.input = expand_inputs(args.input)
        if args.top < 1:
            raise JobError(f"--top must be at least 1, got {args.top}")
        return
    gd.check_hyperparameters(
        iterations=args.iterations, lr=args.lr, folds=args.folds if args.job == "cv" else None
    )
    if not 0 < args.test_fraction < 1:
        raise JobError(f"--test-fraction must be between 0 and 1, got {args.test_fraction}")
    args.data = wine_csv(args.data)
    from jobs.wine import read_header

    read_header(args.data)


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
        spark.stop()
    out = args.out or RESULTS_DIR / new_run_id()
    return write_json_atomic(Path(out) / f"{args.job}.json", payload), payload


def spark_metrics(spark) -> dict[str, Any]:
    """Spark's own account of the run; a failure to read it never fails the job."""
    from jobs import metrics

    try:
        return metrics.collect(spark.sparkContext)
    except Exception as error:
        return {"error": f"metrics unavailable: {one_line(error)}"}


def one_line(error: BaseException) -> str:
    """A Java or Python error squeezed to its most telling line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception): ", line):
            return line
    return lines[0] if lines else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        path, _ = execute(args)
    except JobError as error:
        print(f"sparklab {args.job}: error: {error}", file=sys.stderr)
        return JobError.exit_code
    except KeyboardInterrupt:
        print(f"sparklab {args.job}: interrupted; no result written", file=sys.stderr)
        return 130
    except Exception as error:  # Spark's own failures: one readable line last
        print(f"sparklab {args.job}: failed: {one_line(error)}", file=sys.stderr)
        return 1
    print(json.dumps({"job": args.job, "result": str(path)}))
    return 0
