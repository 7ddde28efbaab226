"""Loading a `;`-separated numeric CSV (the UCI wine data) into cached numpy
blocks: one block per partition, standardized with the train split's moments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Literal

import numpy as np

from jobs.data.paths import hadoop_path
from jobs.data.rows import Moments, design_matrix, holdout_mask, parse_lines
from jobs.errors import JobError

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

OnBadLines = Literal["error", "skip"]
MAX_REPORTED_BAD_LINES = 20
MIN_ROWS_PER_PARTITION = 100


@dataclass(frozen=True)
class Split:
    """How rows are split; part of every result so a run can be reproduced."""

    test_fraction: float = 0.2
    seed: int = 7
    standardize: bool = True


@dataclass(frozen=True)
class Block:
    """One partition's rows ready for the kernels (features standardized,
    bias column first); `index` keeps each row's position in the file."""

    train_index: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class RegressionData:
    path: str
    feature_names: list[str]
    target_name: str
    blocks: RDD[Block]  # cached
    n_train: int
    n_test: int
    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: float  # of the train split: the baseline model's bias
    skipped_lines: int = 0
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the loader changed, for the user


EMPTY_FILE = "the file is empty (expected a header and data rows)"


def read_header(path: str, delimiter: str = ";") -> list[str]:
    if os.path.getsize(path) == 0:
        raise JobError.at(path, None, EMPTY_FILE)
    with open(path, "rb") as handle:
        raw = handle.readline()
    try:
        # utf-8-sig: a byte-order mark (as some editors write) is not part of the first name.
        header = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise JobError.at(
            path,
            1,
            f"the header is not UTF-8 (byte {raw[error.start]:#04x} at column {error.start + 1}); "
            f"convert the file, e.g. `iconv -f latin1 -t utf-8`",
        ) from None
    return header_columns(header.rstrip("\r\n"), path, delimiter)


def header_columns(header: str, path: str, delimiter: str = ";") -> list[str]:
    """Column names from `path`'s header line (its line end and byte-order mark
    already gone): features, then the target. The jobs' and pyspark.ml's reads share it."""
    columns = [name.strip().strip('"') for name in header.split(delimiter)]
    if len(columns) < 2:
        raise JobError.at(
            path,
            1,
            f"the header has {len(columns)} column; expected features and a "
            f"target separated by {delimiter!r}",
        )
    try:
        [float(c) for c in columns]
    except ValueError:
        return columns
    raise JobError.at(path, 1, "the first line holds numbers; expected a header of column names")


def _summarize(parsed, split: Split):
    """One block's contribution to the load summary (runs on executors)."""
    features, target = parsed.values[:, :-1], parsed.values[:, -1]
    is_test = holdout_mask(parsed.index, split.test_fraction, split.seed)
    train = ~is_test
    return (
        len(parsed.bad),
        parsed.bad[:MAX_REPORTED_BAD_LINES],
        int(is_test.sum()),
        Moments.of(features[train]),
        float(target[train].sum()),
    )


def _merge_summaries(a, b):
    return (
        a[0] + b[0],
        sorted(a[1] + b[1])[:MAX_REPORTED_BAD_LINES],
        a[2] + b[2],
        a[3].merge(b[3]),
        a[4] + b[4],
    )


def load_table(
    spark: SparkSession,
    path: str,
    *,
    split: Split = Split(),
    partitions: int | None = None,
    on_bad_lines: OnBadLines = "error",
) -> RegressionData:
    """Read, validate and cache the data set as standardized numpy blocks.

    Two jobs: one to number the lines (zipWithIndex), one to check every row
    and gather the train split's moments; the blocks are cached lazily and
    filled by the first iteration.
    """
    columns = read_header(path)
    sc = spark.sparkContext
    partitions = partitions or sc.defaultParallelism
    numbered = sc.textFile(hadoop_path(path), minPartitions=partitions).zipWithIndex()

    def parse(rows):
        yield parse_lines(rows, columns)

    parsed = numbered.mapPartitions(parse)
    summaries = parsed.map(lambda block: _summarize(block, split)).collect()
    bad_count, bad_examples, n_test, moments, target_sum = reduce(_merge_summaries, summaries)
    _check_rows(path, split, on_bad_lines, bad_count, bad_examples, moments.n, n_test)
    feature_names = columns[:-1]
    mean, std = _scaling(path, split, feature_names, moments)
    parsed, notes = _fewer_partitions(parsed, moments.n + n_test)
    blocks = (
        parsed.map(_block_maker(split, mean, std)).setName(f"wine blocks {os.path.basename(path)}").cache()
    )
    return RegressionData(
        path=path,
        feature_names=feature_names,
        target_name=columns[-1],
        blocks=blocks,
        n_train=moments.n,
        n_test=n_test,
        feature_mean=mean,
        feature_std=std,
        target_mean=target_sum / moments.n,
        skipped_lines=bad_count,
        skipped_examples=bad_examples,
        notes=notes,
    )


def _check_rows(
    path: str,
    split: Split,
    on_bad_lines: OnBadLines,
    bad_count: int,
    bad_examples: list,
    n_train: int,
    n_test: int,
) -> None:
    """Refuse bad lines (unless skipped) and a split too small to fit or test."""
    if bad_count and on_bad_lines == "error":
        line, what = bad_examples[0]
        more = f" (and {bad_count - 1} more bad lines)" if bad_count > 1 else ""
        raise JobError.at(path, line, f"{what}{more}; pass --on-bad-lines skip to skip bad rows")
    if n_train + n_test == 0:
        raise JobError.at(path, None, "the header has no data rows after it")
    refuse_a_split_too_small(path, n_train, n_test, split)


def refuse_a_split_too_small(path: str, n_train: int, n_test: int, split: Split) -> None:
    """A fit needs 2 training rows and a test row (the jobs' and pyspark.ml's reads)."""
    if n_train < 2 or n_test == 0:
        raise JobError.at(
            path,
            None,
            f"{n_train} training and {n_test} test rows; "
            f"need at least 2 and 1 for an {1 - split.test_fraction:.0%} split",
        )


def _scaling(path: str, split: Split, feature_names: list[str], moments) -> tuple[np.ndarray, np.ndarray]:
    """The features' mean and std to standardize by (0 and 1: left as they are)."""
    if not split.standardize:
        return np.zeros_like(moments.mean), np.ones_like(moments.mean)
    mean, std = moments.mean, moments.std
    constant = [name for name, s in zip(feature_names, std, strict=True) if s == 0]
    if constant:
        raise JobError.at(path, None, f"feature {constant[0]!r} is constant in the train split")
    return mean, std


def _block_maker(split: Split, mean: np.ndarray, std: np.ndarray):
    """A parsed block -> its Block: split by row hash, standardized (runs on the executors)."""

    def to_block(block) -> Block:
        is_test = holdout_mask(block.index, split.test_fraction, split.seed)
        features, target = block.values[:, :-1], block.values[:, -1]
        return Block(
            train_index=block.index[~is_test],
            x_train=design_matrix(features[~is_test], mean, std),
            y_train=np.ascontiguousarray(target[~is_test]),
            x_test=design_matrix(features[is_test], mean, std),
            y_test=np.ascontiguousarray(target[is_test]),
        )

    return to_block


def _fewer_partitions(parsed, rows: int):
    """`parsed` with at least MIN_ROWS_PER_PARTITION rows a partition, and a note when it coalesced."""
    most = max(1, rows // MIN_ROWS_PER_PARTITION)
    if parsed.getNumPartitions() <= most:
        return parsed, []
    # Every partition is a task in every iteration: past this, scheduling
    # tiny tasks costs far more than the arithmetic they do.
    note = (
        f"{parsed.getNumPartitions()} partitions for {rows} rows: using {most} "
        f"(at least {MIN_ROWS_PER_PARTITION} rows each; every partition is a task in every iteration)"
    )
    return parsed.coalesce(most), [note]
