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


def gd_partials(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, w: np.ndarray
) -> Partials:
    """One block's share of a GD step: gradient sum, train count and squared
    error, test count and squared error, all at the weights `w`."""
    residual = x @ w - y
    test_residual = x_test @ w - y_test
    return Partials(
        x.T @ residual,
        float(len(y)),
        float(residual @ residual),
        float(len(y_test)),
        float(test_residual @ test_residual),
    )


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
