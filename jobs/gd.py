"""Linear regression by batch gradient descent, the article's second job.

The data is cached once as per-partition numpy blocks; each iteration
ships the weights with its tasks and runs ONE job (map + reduce) that
returns the gradient sum, the count and the train and test squared errors.

    spark-submit jobs/__main__.py gd --data data/winequality-white.csv --iterations 50
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jobs.data.table import RegressionData
from jobs.errors import JobError
from jobs.fit.kernels import Partials, gd_partials, raw_weights, read_pass_partials
from jobs.fit.loop import iterate
from jobs.fit.resident import worth_resident

if TYPE_CHECKING:
    from pyspark import SparkContext

OnStep = Callable[[int, float, float], None]


@dataclass(frozen=True)
class GDResult:
    weights: np.ndarray  # bias first, standardized feature space
    raw_weights: np.ndarray  # intercept first, raw feature units
    train_mse: list[float]  # at the weights before each step; one per iteration
    test_mse: list[float]


def check_hyperparameters(*, iterations: int, lr: float, folds: int | None = None) -> None:
    if iterations < 1:
        raise JobError(f"--iterations must be at least 1, got {iterations}")
    if not (lr > 0 and math.isfinite(lr)):
        raise JobError(f"--lr must be a positive number, got {lr}")
    if folds is not None and folds < 2:
        raise JobError(f"--folds must be at least 2 (one to validate, one to train), got {folds}")


# Growth of the loss smaller than this share of the first loss is rounding.
ROUNDING = 1e-9


def check_loss(step: int, first: float, previous: float | None, current: float, lr: float) -> None:
    """Stop when the loss grows: on a least-squares problem it only does so
    when the step is too large for the features' scale, and then it diverges.

    Growth is judged against the problem's scale (the first loss), not the
    last loss: near an exact solution the loss is ~1e-30 and its rounding
    noise would otherwise look like growth.
    """
    if not math.isfinite(current):
        raise JobError(
            f"gradient descent diverges: train MSE is {current} at step {step} with --lr {lr}; "
            f"lower --lr or keep the features standardized"
        )
    if previous is not None and current - previous > ROUNDING * first:
        raise JobError(
            f"gradient descent diverges: train MSE went from {previous:.6g} to {current:.6g} "
            f"at step {step} with --lr {lr}; lower --lr or keep the features standardized"
        )


def baseline_weights(data: RegressionData) -> np.ndarray:
    """The article's starting point: the mean target as bias, zero slopes."""
    weights = np.zeros(len(data.feature_names) + 1)
    weights[0] = data.target_mean
    return weights


def fit_gd(
    sc: SparkContext,
    data: RegressionData,
    *,
    iterations: int = 50,
    lr: float = 0.1,
    on_step: OnStep | None = None,
    one_job: bool = False,
    resident: bool | None = None,
) -> GDResult:
    """Run `iterations` full-batch steps: w <- w - lr * X'(Xw - y) / n.

    One Spark job per iteration, or with `one_job` the whole fit as one job.
    `resident`: the blocks in the executors' shared memory between the jobs
    (None: from RESIDENT_MIN_BYTES of blocks).
    """
    check_hyperparameters(iterations=iterations, lr=lr)
    train_mse: list[float] = []
    test_mse: list[float] = []

    def initial() -> np.ndarray:
        train_mse.clear()
        test_mse.clear()
        return baseline_weights(data)

    def update(weights: np.ndarray, partials: Partials) -> np.ndarray:
        n = partials.train_count
        train_mse.append(partials.train_sse / n)
        test_mse.append(partials.held_out_sse / partials.held_out_count)
        step = len(train_mse)
        if on_step:
            on_step(step, train_mse[-1], test_mse[-1])
        check_loss(step, train_mse[0], train_mse[-2] if step > 1 else None, train_mse[-1], lr)
        return weights - lr * partials.gradient / n

    if resident is None:
        resident = worth_resident(data.n_train + data.n_test, block_columns(data))
    weights = iterate(
        sc,
        data.blocks,
        _gd_kernel,
        initial,
        update,
        iterations,
        one_job=one_job,
        resident=resident,
    )
    return GDResult(
        weights=weights,
        raw_weights=raw_weights(weights, data.feature_mean, data.feature_std),
        train_mse=train_mse,
        test_mse=test_mse,
    )


def block_columns(data: RegressionData) -> int:
    """float64 columns per row of a Block: the features, the bias, the target."""
    return len(data.feature_names) + 2


def _gd_kernel(block, weights: np.ndarray) -> Partials:
    return gd_partials(block.x_train, block.y_train, block.x_test, block.y_test, weights)


def read_pass_kernel(block, weights: np.ndarray) -> Partials:
    """The GD kernel's memory floor over the same block: one read pass of its
    arrays (the benchmark runs it through the same loop; here, so executors
    that never get the benchmark's modules can run it)."""
    return read_pass_partials((block.x_train, block.y_train, block.x_test, block.y_test), weights)


def to_json(result: GDResult) -> dict:
    return {
        "weights": result.weights,
        "raw_weights": result.raw_weights,
        "train_mse": result.train_mse,
        "test_mse": result.test_mse,
        "final_train_mse": result.train_mse[-1],
        "final_test_mse": result.test_mse[-1],
    }
