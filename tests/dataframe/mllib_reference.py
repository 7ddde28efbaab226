"""numpy references for the MLlib job (shared by the local and the Connect tests)."""

from __future__ import annotations

import numpy as np

from jobs.data.rows import fold_ids, holdout_mask
from jobs.data.table import Split
from jobs.dataframe.mllib import DEFAULT_SPLIT

FOLDS = 3  # the CV job's default is 6; 3 tests the same fold mapping in half the fits


def reference_rows(path: str, split: Split = DEFAULT_SPLIT, folds: int = FOLDS):
    """The wine file by numpy alone: raw features and target, split and folds
    by the row hash of the 0-based data-row index."""
    values = np.loadtxt(path, delimiter=";", skiprows=1)
    index = np.arange(len(values))
    is_test = holdout_mask(index, split.test_fraction, split.seed)
    return values[:, :-1], values[:, -1], is_test, fold_ids(index, folds, split.seed)


def lstsq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Intercept first, raw units."""
    design = np.column_stack([np.ones(len(x)), x])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def cv_errors(path: str, folds: int = FOLDS) -> list[float]:
    """Each fold's validation MSE of a least-squares fit on the other folds of the train split."""
    x, y, is_test, fold = reference_rows(path, folds=folds)
    x, y, fold = x[~is_test], y[~is_test], fold[~is_test]
    errors = []
    for k in range(folds):
        weights = lstsq(x[fold != k], y[fold != k])
        held = np.column_stack([np.ones((fold == k).sum()), x[fold == k]]) @ weights - y[fold == k]
        errors.append(float(np.mean(held**2)))
    return errors
