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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jobs import cv, gd, wordcount
from jobs.checks import check_arguments, replaced_result
from jobs.data.table import Split, load_table
from jobs.dataframe import mllib
from jobs.dataframe import wordcount as dataframe_wordcount
from jobs.errors import JobError, Terminated, interrupt_exit_code, one_line, raise_on_sigterm
from jobs.fit.resident import resident_choice
from jobs.options import THEN, build_parser, split_runs
from jobs.report.failure import FAILED, INTERRUPTED, ended_by, said_or_recorded
from jobs.report.files import write_json_atomic
from jobs.runtime import metrics
from jobs.runtime.conf import conf_value
from jobs.runtime.connect import connect_session, is_connect_session, is_connect_url, redact
from jobs.runtime.session import build_session


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
    # Empty jobs first compile the scheduler's per-job code in the young JVMs
    # (it runs once per job and C1 compiles after some dozens of calls), which
    # the fit's first iterations would otherwise run interpreted. Measured on
    # the cluster: 20 of them took the fit's 50 iterations from ~50 to ~44 ms
    # each, ~42 once warm. Their time is reported apart.
    sc.setJobGroup("warm-up", "empty jobs before the fit")
    started = time.perf_counter()
    empty_job_seconds(sc, data.blocks.getNumPartitions(), jobs=WARM_UP_JOBS)
    warm_up_seconds = time.perf_counter() - started
    sc.setJobGroup("fit", title)
    started = time.perf_counter()
    result = fit(
        sc,
        data,
        iterations=args.iterations,
        lr=args.lr,
        one_job=args.one_job,
        resident=resident_choice(args.resident),
        on_step=progress_printer(args.job, args.iterations, args.quiet),
    )
    fit_seconds = time.perf_counter() - started
    sc.setJobGroup("floor", "empty jobs: the scheduling floor of this runtime")
    floor_seconds = empty_job_seconds(sc, data.blocks.getNumPartitions())
    timing = {
        "load_seconds": load_seconds,
        "warm_up_seconds": warm_up_seconds,
        "warm_up_jobs": WARM_UP_JOBS,
        "fit_seconds": fit_seconds,
        "fit_per_iteration_seconds": fit_seconds / args.iterations,
        "empty_job_seconds": floor_seconds,
        # What these times paid for (the cluster's default; local[*] has no RPC to encrypt).
        "rpc_encrypted": conf_value(sc, "spark.network.crypto.enabled", "false").lower() == "true",
    }
    # The next job of the same application (--then) gets the executors' memory back.
    data.blocks.unpersist()
    return {
        **to_json(result),
        **_data_json(data, split),
        "iterations": args.iterations,
        "lr": args.lr,
        "timing": timing,
    }


WARM_UP_JOBS = 20


def empty_job_seconds(sc, partitions: int, jobs: int = 15) -> float:
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


def one_master(runs: list[argparse.Namespace]) -> str | None:
    """The --master given for the jobs of the command (they share one
    application), or None: then it is the environment's, for all of them."""
    given = {args.master for args in runs if args.master}
    if len(given) > 1:
        raise JobError(f"jobs joined by {THEN} share one application: give one --master, not {sorted(given)}")
    return given.pop() if given else None


def execute(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Run one parsed job end to end; returns where its JSON went and the JSON."""
    [(path, payload)] = execute_all([args])  # run to the end: the session stops
    return path, payload


def execute_all(
    runs: list[argparse.Namespace], on_start: Callable[[str], None] = lambda job: None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Run the parsed jobs one after the other in ONE Spark application (one
    session start, as a notebook would), each job's JSON written as it ends.

    Every job is checked before the JVM starts. Each JSON's metrics are that
    job's own (the application's jobs after the previous one's), its app_id
    the shared one. `on_start(job)` is told which job's turn it is (checks too).
    """
    given = one_master(runs)
    for args in runs:
        args.master = args.master or given  # one given --master is every job's
        on_start(args.job)
        check_arguments(args)  # names the environment's master, if it is that one
        replaced = replaced_result(args.out, args.job)
        if replaced:
            print(f"sparklab {args.job}: note: {replaced}", file=sys.stderr)
    master = runs[0].master  # filled in by the checks
    connect = is_connect_url(master)
    name = "sparklab-" + "+".join(args.job for args in runs)
    spark = connect_session(master) if connect else build_session(master, name)
    try:
        for args in runs:
            on_start(args.job)
            before = None if connect else last_job_id(spark)
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
                else spark_metrics(spark, after_job=before),
            }
            out = args.out  # chosen by check_arguments, before the work
            yield write_json_atomic(Path(out) / f"{args.job}.json", payload), payload
    finally:
        stop_session(spark)


def last_job_id(spark) -> int:
    """The newest Spark job id so far in the application (-1: none yet)."""

    try:
        return metrics.last_job_id(spark.sparkContext)
    except Exception:  # metrics never fail a job: then they cover the whole application
        return -1


def stop_session(spark) -> None:
    """Stop the session; after an interrupt the JVM may be gone already, and
    that must not replace the interrupt's own message."""
    with contextlib.suppress(Exception):
        spark.stop()


def spark_metrics(spark, after_job: int | None = None) -> dict[str, Any]:
    """Spark's own account of the run (its jobs after `after_job`); a failure
    to read it never fails the job."""

    try:
        return metrics.collect(spark.sparkContext, after_job=after_job)
    except Exception as error:
        return {"error": f"metrics unavailable: {one_line(error)}"}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    runs = [parser.parse_args(words) for words in split_runs(sys.argv[1:] if argv is None else argv)]
    raise_on_sigterm()
    # py4j logs every call that an interrupt cuts short, with a traceback, on
    # the root logger (the jobs themselves print, they do not log): the one
    # line below says what happened.
    logging.disable(logging.ERROR)
    current = [runs[0].job]  # the job the last line names: the one whose turn it was
    try:
        for path, payload in execute_all(runs, on_start=lambda job: current.__setitem__(0, job)):
            print(json.dumps({"job": payload["job"], "result": str(path)}), flush=True)
    except JobError as error:
        return ended_by(f"sparklab {current[0]}", error)
    except (KeyboardInterrupt, Terminated) as stop:
        return interrupted(current[0], interrupt_exit_code(stop))
    except Exception as error:  # Spark's own failures: one readable line last
        if Terminated.received:
            return interrupted(current[0], Terminated.exit_code)
        return said_or_recorded(
            f"sparklab {current[0]}: {FAILED}: {one_line(error)}", FAILED, one_line(error), 1
        )
    return 0


def interrupted(job: str, exit_code: int) -> int:
    said = f"sparklab {job}: {INTERRUPTED}; no result written"
    return said_or_recorded(said, INTERRUPTED, "no result written", exit_code)
