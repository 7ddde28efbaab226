"""Independent numpy references for the regression jobs (no Spark, no jobs.data.table).

Only the split and fold *definitions* (a hash of the row index) are shared
with the jobs: they are what "the same split" means, not the arithmetic under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.data.rows import fold_ids, holdout_mask


def read_xy(path: str) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(path, sep=";")
    values = frame.to_numpy(dtype=float)
    return values[:, :-1], values[:, -1]


def split_standardize(path: str, test_fraction: float = 0.2, seed: int = 7, standardize: bool = True):
    x, y = read_xy(path)
    is_test = holdout_mask(np.arange(len(y)), test_fraction, seed)
    mean = x[~is_test].mean(axis=0) if standardize else np.zeros(x.shape[1])
    std = x[~is_test].std(axis=0) if standardize else np.ones(x.shape[1])
    design = np.column_stack([np.ones(len(y)), (x - mean) / std])
    index = np.arange(len(y))
    return design[~is_test], y[~is_test], design[is_test], y[is_test], index[~is_test]


def numpy_gd(x, y, x_test, y_test, w0, iterations, lr):
    w = w0.copy()
    train, test = [], []
    for _ in range(iterations):
        r = x @ w - y
        train.append(np.mean(r**2))
        test.append(np.mean((x_test @ w - y_test) ** 2))
        w = w - lr * (x.T @ r) / len(y)
    return w, np.array(train), np.array(test)


def numpy_cv(x, y, train_index, folds, seed, iterations, lr):
    """k separate fits, one after another, each on its own training rows."""
    fold = fold_ids(train_index, folds, seed)
    results = []
    for j in range(folds):
        train, val = fold != j, fold == j
        w0 = np.zeros(x.shape[1])
        w0[0] = y.mean()
        w, train_mse, val_mse = numpy_gd(x[train], y[train], x[val], y[val], w0, iterations, lr)
        results.append((w, train_mse, val_mse))
    return results
