"""The command line of the three jobs: `python -m jobs JOB [options]`.

Parses options, checks them before Spark starts, builds the session, runs
the job, stops the session, and writes `<out>/<job>.json` atomically. Bad
input ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs import cv, gd, wordcount
from jobs.checks import check_arguments
from jobs.errors import JobError, Terminated, interrupt_exit_code, one_line, raise_on_sigterm
from jobs.options import build_parser
from jobs.report.files import write_json_atomic
from jobs.runtime.connect import connect_session, is_connect_session, is_connect_url, redact
from jobs.runtime.session import build_session, master_from_env


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
    tokenizer = wordcount.Tokenizer(lower=args.lower, strip_punct=args.strip_punct)
    options = {"lower": args.lower, "strip_punct": args.strip_punct}
    if is_connect_session(spark):  # no RDDs over Spark Connect: the DataFrame version
        from jobs.dataframe import wordcount as dataframe_wordcount

        result = dataframe_wordcount.run(
            spark, args.input, top=args.top, tokenizer=tokenizer, partitions=args.partitions
        )
        return {**wordcount.to_json(result), "options": options, "api": "dataframe"}
    spark.sparkContext.setJobGroup("wordcount", "count the words")
    result = wordcount.run(spark, args.input, top=args.top, tokenizer=tokenizer, partitions=args.partitions)
    garbled = sum(1 for word in result.counts if "\ufffd" in word)
    if garbled:  # Spark reads text as UTF-8 and replaces what is not
        print(
            f"sparklab wordcount: note: {garbled} distinct words hold bytes that are not UTF-8 "
            "(shown as U+FFFD); convert the files, e.g. `iconv -f latin1 -t utf-8`",
            file=sys.stderr,
        )
    return {**wordcount.to_json(result), "options": options}


def run_mllib(spark, args) -> dict[str, Any]:
    from jobs.data.table import Split
    from jobs.dataframe import mllib

    split = Split(test_fraction=args.test_fraction, seed=args.seed)
    result = mllib.run(
        spark, args.data, split=split, folds=args.folds, max_iter=args.max_iter, partitions=args.partitions
    )
    for solver, fit in result.fits.items():
        if not args.quiet:
            print(
                f"[mllib] {solver:<6}  train_mse {fit.train_mse:.6f}  test_mse {fit.test_mse:.6f}",
                file=sys.stderr,
            )
    return {**mllib.to_json(result, split), "k": args.folds, "api": "dataframe"}


def _run_regression(spark, args, title: str, fit: Callable, to_json: Callable) -> dict[str, Any]:
    """Load, fit (progress on stderr), and the result with what it was fitted on.

    The timings say what they mean: the cached blocks are filled during the
    load (not by the first iteration), the fit is timed alone, and the same
    session measures its scheduling floor (an empty job) to put beside it.
    """
    sc = spark.sparkContext
    started = time.perf_counter()
    data, split = _load(spark, args)
    data.blocks.count()  # fill the cache now: the fit's time is then the fit's
    load_seconds = time.perf_counter() - started
    sc.setJobGroup("fit", title)
    started = time.perf_counter()
    result = fit(
        sc,
        data,
        iterations=args.iterations,
        lr=args.lr,
        one_job=args.one_job,
        on_step=progress_printer(args.job, args.iterations, args.quiet),
    )
    fit_seconds = time.perf_counter() - started
    sc.setJobGroup("floor", "empty jobs: the scheduling floor of this runtime")
    timing = {
        "load_seconds": load_seconds,
        "fit_seconds": fit_seconds,
        "fit_per_iteration_seconds": fit_seconds / args.iterations,
        "empty_job_seconds": empty_job_seconds(sc, data.blocks.getNumPartitions()),
        # What these times paid for (the cluster's default; local[*] has no RPC to encrypt).
        "rpc_encrypted": sc.getConf().get("spark.network.crypto.enabled", "false").lower() == "true",
    }
    return {
        **to_json(result),
        **_data_json(data, split),
        "iterations": args.iterations,
        "lr": args.lr,
        "timing": timing,
    }


def empty_job_seconds(sc, partitions: int, jobs: int = 5) -> float:
    """The median time of an empty Spark job with one task per partition:
    what scheduling alone costs per iteration on this runtime."""
    empty = sc.parallelize(range(partitions), partitions)
    times = []
    for _ in range(jobs):
        started = time.perf_counter()
        empty.map(lambda row: row).collect()  # read to the end: a worker left mid-input is lost
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_gd(spark, args) -> dict[str, Any]:
    return _run_regression(
        spark, args, f"{args.iterations} gradient descent iterations", gd.fit_gd, gd.to_json
    )


def run_cv(spark, args) -> dict[str, Any]:
    fit = functools.partial(cv.cross_validate, folds=args.folds, seed=args.seed)
    return {
        **_run_regression(spark, args, f"{args.folds}-fold cross-validation", fit, cv.to_json),
        "k": args.folds,
    }


RUNNERS: dict[str, Callable[[Any, argparse.Namespace], dict[str, Any]]] = {
    "wordcount": run_wordcount,
    "gd": run_gd,
    "cv": run_cv,
    "mllib": run_mllib,
}


def execute(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Run one parsed job end to end; returns where its JSON went and the JSON."""
    check_arguments(args)
    master = args.master or master_from_env()
    connect = is_connect_url(master)
    spark = connect_session(master) if connect else build_session(master, f"sparklab-{args.job}")
    try:
        started = time.perf_counter()
        payload = RUNNERS[args.job](spark, args)
        seconds = time.perf_counter() - started
        payload = {
            "job": args.job,
            "master": redact(master),
            "app_id": spark.conf.get("spark.app.id") if connect else spark.sparkContext.applicationId,
            # Over Connect, the server's jobs for this client carry it in their tags.
            **({"session_id": spark.session_id} if connect else {}),
            "spark_version": spark.version,
            "python": platform.python_version(),
            # Over Connect, no SparkContext here: the data's own partitioning.
            "partitions": args.partitions or (None if connect else spark.sparkContext.defaultParallelism),
            "seconds": seconds,
            **payload,
            "metrics": {"error": "metrics unavailable over Spark Connect (no SparkContext in the client)"}
            if connect
            else spark_metrics(spark),
        }
    finally:
        stop_session(spark)
    out = args.out  # chosen by check_arguments, before the work
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
