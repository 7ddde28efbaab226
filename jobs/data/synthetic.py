"""Seeded synthetic regression data with known weights, made where it is
used: each partition generates its own rows from (seed, partition), so the
data is the same on every runtime and a lost partition is regenerated."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from jobs.data.rows import holdout_mask
from jobs.data.table import Block, RegressionData

if TYPE_CHECKING:
    from pyspark import SparkContext

FEATURES = 11
# Intercept first, then one weight per (standard normal) feature.
TRUE_WEIGHTS = np.array([5.0, 0.5, -1.2, 0.8, 0.0, 2.0, -0.3, 0.7, -0.9, 1.5, 0.1, -0.6])
NOISE = 0.5


def partition_rows(rows: int, partitions: int, part: int) -> tuple[int, int]:
    """The first row index and the row count of one partition."""
    start = rows * part // partitions
    return start, rows * (part + 1) // partitions - start


def generate(rows: int, partitions: int, part: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    start, count = partition_rows(rows, partitions, part)
    rng = np.random.default_rng([seed, part])
    x = np.empty((count, FEATURES + 1))
    x[:, 0] = 1.0
    x[:, 1:] = rng.standard_normal((count, FEATURES))
    y = x @ TRUE_WEIGHTS + NOISE * rng.standard_normal(count)
    return np.arange(start, start + count), x, y


def synthetic_block(rows: int, partitions: int, part: int, seed: int, test_fraction: float = 0.2) -> Block:
    index, x, y = generate(rows, partitions, part, seed)
    is_test = holdout_mask(index, test_fraction, seed)
    return Block(index[~is_test], x[~is_test], y[~is_test], x[is_test], y[is_test])


def synthetic_arrays(rows: int, partitions: int, seed: int, test_fraction: float = 0.2):
    """The same data in one process (for the numpy floor): x_train, y_train, x_test, y_test."""
    blocks = [synthetic_block(rows, partitions, p, seed, test_fraction) for p in range(partitions)]
    return (
        np.concatenate([b.x_train for b in blocks]),
        np.concatenate([b.y_train for b in blocks]),
        np.concatenate([b.x_test for b in blocks]),
        np.concatenate([b.y_test for b in blocks]),
    )


def synthetic_data(sc: SparkContext, rows: int, *, partitions: int, seed: int = 1) -> RegressionData:
    """Cached blocks of synthetic rows (already standardized), ready for `fit_gd`."""
    blocks = (
        sc.parallelize(range(partitions), partitions)
        .map(lambda part: synthetic_block(rows, partitions, part, seed))
        .setName(f"synthetic {rows} rows")
        .cache()
    )
    n_train, y_sum = blocks.map(lambda b: (len(b.y_train), float(b.y_train.sum()))).reduce(
        lambda a, b: (a[0] + b[0], a[1] + b[1])
    )
    return RegressionData(
        path=f"synthetic:{rows}:{seed}",
        feature_names=[f"x{j}" for j in range(1, FEATURES + 1)],
        target_name="y",
        blocks=blocks,
        n_train=n_train,
        n_test=rows - n_train,
        feature_mean=np.zeros(FEATURES),
        feature_std=np.ones(FEATURES),
        target_mean=y_sum / n_train,
    )
