"""The per-block gradient kernels of the regression jobs and the partial sums
they return (`Partials`): the one contract between a kernel, the fit loop
(`jobs.fit.loop`), the one-job all-reduce and a job's update function.

Pure numpy: nothing here knows about Spark.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Partials(NamedTuple):
    """One block's (or the whole data's) share of a step, for one model or k.

    For GD the gradient is shaped like the weights (d+1,) and the four
    statistics are floats; for k-fold CV the gradient is (d+1, k) and each
    statistic is a (k,) vector, one entry per model. "Held out" is the test
    split for GD and each model's validation fold for CV.
    """

    gradient: np.ndarray  # sum over training rows of x * residual
    train_count: float | np.ndarray
    train_sse: float | np.ndarray  # sum of squared training residuals
    held_out_count: float | np.ndarray
    held_out_sse: float | np.ndarray

    def __add__(self, other: Partials) -> Partials:  # type: ignore[override]
        """Element-wise sum (a NamedTuple's `+` would concatenate)."""
        return Partials(*(p + q for p, q in zip(self, other, strict=True)))

    def flatten(self) -> np.ndarray:
        """One float64 vector, gradient first: what the all-reduce sends."""
        return np.concatenate([np.ravel(np.asarray(part, dtype=np.float64)) for part in self])

    @staticmethod
    def unflatten(flat: np.ndarray, weights_shape: tuple[int, ...]) -> Partials:
        """The inverse of `flatten` for weights of `weights_shape` ((d+1,) or (d+1, k))."""
        size = int(np.prod(weights_shape))
        models = weights_shape[1:]
        per_model = int(np.prod(models)) if models else 1
        stats = [flat[size + i * per_model : size + (i + 1) * per_model] for i in range(4)]
        if not models:  # one model: plain floats, as the GD kernel returns them
            return Partials(flat[:size].reshape(weights_shape), *(float(s[0]) for s in stats))
        return Partials(flat[:size].reshape(weights_shape), *(s.reshape(models) for s in stats))


# Rows per sub-block of the fused GD kernel. A sub-block of 8192 rows x 12
# float64 (768 KiB) is still in the core's L2/L3 cache when the gradient reads
# it right after the residual: one pass over memory instead of two. Measured
# on a 2-core EPYC (512 KiB L2): 4096 to 12288 rows within noise of each other,
# 1024 rows as slow as two passes (numpy's per-call cost dominates).
SUB_BLOCK_ROWS = 8192


def gd_partials(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    w: np.ndarray,
    rows: int = SUB_BLOCK_ROWS,
) -> Partials:
    """One block's share of a GD step: gradient sum, train count and squared
    error, test count and squared error, all at the weights `w`.

    One fused pass: per sub-block of `rows` rows, the residual, then the
    gradient and the squared error from the same rows while they are cached.
    """
    gradient, train_sse = _fused_residual_sums(x, y, w, rows, with_gradient=True)
    _, test_sse = _fused_residual_sums(x_test, y_test, w, rows, with_gradient=False)
    return Partials(gradient, float(len(y)), train_sse, float(len(y_test)), test_sse)


def _fused_residual_sums(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, rows: int, *, with_gradient: bool
) -> tuple[np.ndarray, float]:
    """(sum of x * residual, sum of squared residuals), residual = x @ w - y,
    accumulated sub-block by sub-block (buffers allocated once per call)."""
    gradient = np.zeros(x.shape[1])
    squared = 0.0
    residual_buffer = np.empty(min(rows, len(y)))
    partial_gradient = np.empty(x.shape[1])
    for start in range(0, len(y), rows):
        rows_here = x[start : start + rows]
        residual = residual_buffer[: len(rows_here)]
        np.dot(rows_here, w, out=residual)
        np.subtract(residual, y[start : start + rows], out=residual)
        if with_gradient:
            np.dot(residual, rows_here, out=partial_gradient)
            gradient += partial_gradient
        squared += float(np.dot(residual, residual))
    return gradient, squared


def read_pass_partials(arrays: tuple[np.ndarray, ...], weights: np.ndarray) -> Partials:
    """The memory floor of a kernel over the same arrays: one read pass (their
    sum) and nothing else. Shaped like a GD kernel's Partials so the fit loop
    and the all-reduce carry it as they carry a fit (the gradient slot holds
    the sum, the rest zeros); what the benchmark sets a fit's iteration against."""
    total = sum(float(np.sum(array)) for array in arrays)
    return Partials(np.full(weights.shape, total), 0.0, 0.0, 0.0, 0.0)


def cv_partials(x: np.ndarray, y: np.ndarray, train_mask: np.ndarray, weights: np.ndarray) -> Partials:
    """One block's share of a step of all k CV models at once.

    `weights` is (d+1, k); `train_mask` is (n, k) with 1.0 where the row
    trains model j (its fold is not j) and 0.0 where it validates it.
    Residuals of all k models form one (n, k) matrix: the row's own fold is
    masked out of the gradient and into the validation loss.
    """
    residual = x @ weights - y[:, None]
    masked = residual * train_mask
    squared = residual * residual
    train_sse = (squared * train_mask).sum(axis=0)
    return Partials(
        x.T @ masked,
        train_mask.sum(axis=0),
        train_sse,
        float(len(y)) - train_mask.sum(axis=0),
        squared.sum(axis=0) - train_sse,
    )


def raw_weights(weights: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The same model in raw feature units: intercept first, then one slope each."""
    slopes = weights[1:] / std
    return np.concatenate([[weights[0] - slopes @ mean], slopes])
