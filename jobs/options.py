"""Every job option, its default and its help: the one owner of them.

`jobs.cli` parses with these parsers; `tasks.py` makes the job tasks from
them (`job_parsers`) and turns options back into a command line (`to_argv`).
No pyspark here, so `./lab --list` stays instant.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jobs.data.paths import PROJECT_DIR
from jobs.fit.resident import RESIDENT_CHOICES, RESIDENT_MIN_BYTES

JOBS = ("wordcount", "gd", "cv", "mllib")


CONNECT_JOBS = ("wordcount", "mllib")  # DataFrame programs; gd and cv use RDDs, which Connect lacks


def _add_common_options(parser: argparse.ArgumentParser, *, connect: bool) -> None:
    connect_url = (
        ", or sc://HOST:PORT for a Spark Connect server (its token in $SPARK_CONNECT_AUTHENTICATE_TOKEN)"
        if connect
        else ""
    )
    parser.add_argument(
        "--master",
        default=None,
        help=f"Spark master URL{connect_url} (default: $SPARKLAB_MASTER, else local[*])",
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


def _add_data_option(parser: argparse.ArgumentParser) -> None:
    """--data: the CSV that gd, cv and mllib read."""
    parser.add_argument(
        "--data",
        default=None,
        help="the ;-separated CSV, target last (default: $SPARKLAB_WINE_CSV, else data/)",
    )


def _add_split_options(parser: argparse.ArgumentParser) -> None:
    """The row hash's split (and folds), the same for gd, cv and mllib."""
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of rows held out for test")
    parser.add_argument("--seed", type=int, default=7, help="seed of the row hash behind the split and folds")


def _add_regression_options(parser: argparse.ArgumentParser, *, folds: bool) -> None:
    _add_data_option(parser)
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
        "--resident",
        choices=RESIDENT_CHOICES,
        default="auto",
        help="keep the blocks in the executors' shared memory between a fit's jobs: "
        f"always, never, or auto (from {RESIDENT_MIN_BYTES // 2**20} MB of blocks)",
    )
    parser.add_argument(
        "--on-bad-lines",
        choices=("error", "skip"),
        default="error",
        help="error: stop at the first bad row; skip: skip and count them",
    )
    _add_split_options(parser)
    parser.add_argument(
        "--no-standardize",
        action="store_true",
        help="use raw feature units (the step size must then be tiny)",
    )


def _add_mllib_options(parser: argparse.ArgumentParser) -> None:
    _add_data_option(parser)
    parser.add_argument("--folds", type=int, default=6, help="k, the folds of MLlib's CrossValidator")
    parser.add_argument("--max-iter", type=int, default=100, help="l-bfgs iterations at most")
    _add_split_options(parser)


JOB_HELP = {
    "wordcount": "Count words in text files with flatMap + reduceByKey.",
    "gd": "Fit linear regression on the wine data by batch gradient descent.",
    "cv": "Cross-validate k models at once, one pass over the data per iteration.",
    "mllib": "Fit linear regression with pyspark.ml (normal, l-bfgs) and its CrossValidator, on DataFrames.",
}


def build_parser() -> argparse.ArgumentParser:
    """The one owner of every job option, its default and its help (tasks.py reads it)."""
    parser = argparse.ArgumentParser(
        prog="python -m jobs",
        description="SparkLab's jobs: word count, gradient descent, k-fold CV. "
        "Join jobs with --then to run them in one Spark application, "
        "e.g. `python -m jobs wordcount --then gd --iterations 30`.",
    )
    sub = parser.add_subparsers(dest="job", required=True, metavar="JOB")
    for name, help_text in JOB_HELP.items():
        job_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == "wordcount":
            _add_wordcount_options(job_parser)
        elif name == "mllib":
            _add_mllib_options(job_parser)
        else:
            _add_regression_options(job_parser, folds=name == "cv")
        _add_common_options(job_parser, connect=name in CONNECT_JOBS)
    return parser


def job_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each job's own parser, by job name."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


THEN = "--then"  # `python -m jobs gd ... --then cv ...`: several jobs, one application


def split_runs(argv: list[str]) -> list[list[str]]:
    """The command line cut at each `--then`: one job's arguments each."""
    runs: list[list[str]] = [[]]
    for word in argv:
        if word == THEN:
            runs.append([])
        else:
            runs[-1].append(word)
    return runs


def join_runs(runs: list[list[str]]) -> list[str]:
    """The inverse of split_runs: each job's arguments, `--then` between them."""
    argv: list[str] = []
    for index, words in enumerate(runs):
        argv += [*([THEN] if index else []), *words]
    return argv


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
