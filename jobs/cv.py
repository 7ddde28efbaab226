"""k-fold cross-validation that trains the k models at once, the article's
third job: ONE pass over the cached data per iteration, each row feeding the
k-1 models whose validation fold it is not in, the k models shipped with the tasks.

    spark-submit jobs/__main__.py cv --folds 6 --iterations 50
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jobs.data.rows import fold_ids
from jobs.data.table import Block, RegressionData
from jobs.errors import JobError
from jobs.fit.kernels import Partials, cv_partials
from jobs.fit.loop import iterate
from jobs.fit.resident import worth_resident
from jobs.gd import OnStep, baseline_weights, block_columns, check_hyperparameters, check_loss

if TYPE_CHECKING:
    from pyspark import SparkContext


@dataclass(frozen=True)
class CVBlock:
    x: np.ndarray
    y: np.ndarray
    train_mask: np.ndarray  # (n, k): 1.0 where the row trains model j


@dataclass(frozen=True)
class FoldResult:
    weights: np.ndarray
    train_mse: list[float]
    val_mse: list[float]
    n_train: int
    n_val: int


@dataclass(frozen=True)
class CVResult:
    folds: list[FoldResult]
    mean_train_mse: list[float]
    mean_val_mse: list[float]


def cv_block(block: Block, folds: int, seed: int) -> CVBlock:
    """The train split's rows with their fold masks (computed once, cached)."""
    fold = fold_ids(block.train_index, folds, seed)
    mask = (fold[:, None] != np.arange(folds)[None, :]).astype(np.float64)
    return CVBlock(block.x_train, block.y_train, mask)


def cross_validate(
    sc: SparkContext,
    data: RegressionData,
    *,
    folds: int = 6,
    iterations: int = 50,
    lr: float = 0.1,
    seed: int = 7,
    on_step: OnStep | None = None,
    one_job: bool = False,
    resident: bool | None = None,
) -> CVResult:
    """Fit k models on the train split, all in one pass (one job) per iteration,
    or with `one_job` the whole fit as one job."""
    check_hyperparameters(iterations=iterations, lr=lr, folds=folds)
    blocks = data.blocks.map(lambda b: cv_block(b, folds, seed)).setName("cv blocks").cache()
    train_mse: list[np.ndarray] = []
    val_mse: list[np.ndarray] = []
    counts: dict[str, np.ndarray] = {}

    def initial() -> np.ndarray:
        train_mse.clear()
        val_mse.clear()
        return np.repeat(baseline_weights(data)[:, None], folds, axis=1)

    def update(weights: np.ndarray, partials: Partials) -> np.ndarray:
        # Per model j: its training rows, and its validation fold as "held out".
        n_train, n_val = partials.train_count, partials.held_out_count
        if (n_val == 0).any():
            empty = int(np.flatnonzero(n_val == 0)[0])
            rows = int(n_train[0] + n_val[0])
            raise JobError(f"fold {empty} holds no rows: use fewer --folds for {rows} rows")
        counts["train"], counts["val"] = n_train, n_val
        train_mse.append(partials.train_sse / n_train)
        val_mse.append(partials.held_out_sse / n_val)
        step = len(train_mse)
        if on_step:
            on_step(step, float(train_mse[-1].mean()), float(val_mse[-1].mean()))
        for j in range(folds):
            check_loss(step, train_mse[0][j], train_mse[-2][j] if step > 1 else None, train_mse[-1][j], lr)
        return weights - lr * partials.gradient / n_train[None, :]

    try:
        if resident is None:  # a CV block also holds each row's k fold memberships
            resident = worth_resident(data.n_train + data.n_test, block_columns(data) + folds)
        weights = iterate(
            sc, blocks, _cv_kernel, initial, update, iterations, one_job=one_job, resident=resident
        )
    finally:
        blocks.unpersist()
    n_train, n_val = counts["train"], counts["val"]
    train = np.array(train_mse)
    val = np.array(val_mse)
    return CVResult(
        folds=[
            FoldResult(
                weights[:, j], train[:, j].tolist(), val[:, j].tolist(), int(n_train[j]), int(n_val[j])
            )
            for j in range(folds)
        ],
        mean_train_mse=train.mean(axis=1).tolist(),
        mean_val_mse=val.mean(axis=1).tolist(),
    )


def _cv_kernel(block: CVBlock, weights: np.ndarray) -> Partials:
    return cv_partials(block.x, block.y, block.train_mask, weights)


def to_json(result: CVResult) -> dict:
    return {
        "folds": [
            {
                "fold": j,
                "weights": fold.weights,
                "train_mse": fold.train_mse,
                "val_mse": fold.val_mse,
                "n_train": fold.n_train,
                "n_val": fold.n_val,
            }
            for j, fold in enumerate(result.folds)
        ],
        "mean_train_mse": result.mean_train_mse,
        "mean_val_mse": result.mean_val_mse,
        "final_mean_val_mse": result.mean_val_mse[-1],
    }
