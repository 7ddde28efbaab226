"""The article's way, kept as the reference the lab teaches against.

Per-record RDDs of `(features, target)`; per iteration, GD maps every record
to its gradient, caches that, and runs `count` and `sum`, then two more jobs
for the train and test losses. CV keeps k RDDs (one per fold), builds each
iteration's update as a `union` of keyed `flatMap`s reduced by key, and its
losses the same way. Written from the article's description, with the
lab's split, folds and standardization so its answers can be checked equal
to SparkLab's jobs; only the shape of the computation is the article's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from jobs.data.rows import fold_ids

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext

    from jobs.data.table import RegressionData


def records(data: RegressionData) -> tuple[RDD, RDD]:
    """Train and test records `(x_with_bias, y, row_index)`, one per row, cached."""
    train = data.blocks.flatMap(
        lambda b: [(x, y, i) for x, y, i in zip(b.x_train, b.y_train, b.train_index, strict=True)]
    )
    test = data.blocks.flatMap(lambda b: [(x, y, -1) for x, y in zip(b.x_test, b.y_test, strict=True)])
    return train.cache(), test.cache()


def _mse(rdd: RDD, w: np.ndarray) -> float:
    return rdd.map(lambda r: (r[0] @ w - r[1]) ** 2).mean()


def article_gd(sc: SparkContext, train: RDD, test: RDD, w0: np.ndarray, *, iterations: int, lr: float):
    """Returns (weights, train_mse, test_mse) like `jobs.gd.fit_gd`: losses at the weights
    before each step."""
    w = w0.copy()
    train_mse, test_mse = [], []
    for _ in range(iterations):
        train_mse.append(_mse(train, w))
        test_mse.append(_mse(test, w))
        gradients = train.map(lambda r, w=w: (r[0] @ w - r[1]) * r[0]).cache()
        n = gradients.count()
        total = gradients.sum()
        gradients.unpersist()
        w = w - lr * total / n
    return w, train_mse, test_mse


def article_cv(
    sc: SparkContext, train: RDD, w0: np.ndarray, *, folds: int, seed: int, iterations: int, lr: float
):
    """Returns (k weight vectors, per-iteration mean validation MSE)."""
    splits = [
        train.filter(lambda r, j=j: fold_ids(np.array([r[2]]), folds, seed)[0] == j).cache()
        for j in range(folds)
    ]
    models = [w0.copy() for _ in range(folds)]
    mean_val = []
    for _ in range(iterations):
        shared = sc.broadcast(models)
        # Losses: each record's squared error under every model, keyed "j-val" / "j-train".
        losses = (
            sc.union(
                [
                    split.flatMap(
                        lambda r, j=j, m=shared: [
                            (
                                f"{model}-{'val' if model == j else 'train'}",
                                ((r[0] @ m.value[model] - r[1]) ** 2, 1),
                            )
                            for model in range(folds)
                        ]
                    )
                    for j, split in enumerate(splits)
                ]
            )
            .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]))
            .collectAsMap()
        )
        mean_val.append(float(np.mean([losses[f"{j}-val"][0] / losses[f"{j}-val"][1] for j in range(folds)])))
        # Update: each record's gradient for the k-1 models it trains, keyed by model.
        sums = (
            sc.union(
                [
                    split.flatMap(
                        lambda r, j=j, m=shared: [
                            (model, ((r[0] @ m.value[model] - r[1]) * r[0], 1))
                            for model in range(folds)
                            if model != j
                        ]
                    )
                    for j, split in enumerate(splits)
                ]
            )
            .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]))
            .collectAsMap()
        )
        models = [models[j] - lr * sums[j][0] / sums[j][1] for j in range(folds)]
        shared.destroy()
    for split in splits:
        split.unpersist()
    return models, mean_val
