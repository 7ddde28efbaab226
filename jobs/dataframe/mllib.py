"""Linear regression with pyspark.ml: MLlib's `normal` (normal equations) and
`l-bfgs` solvers, and its CrossValidator for the k folds, on exactly the
rows the GD and CV jobs split and fold.

The split and folds hash each row's 0-based data-row index
(`jobs.data.rows.holdout_mask`, `fold_ids`). A DataFrame keeps no row
numbers, so the file's lines are numbered with `row_number` over
`monotonically_increasing_id` (the file's order: partitions in offset order,
rows in order within them; the numbering runs in one partition, fine for a
table this size), and the hashes are computed here, on the driver (or the
Connect client), for every line index and joined as a small broadcast table.
No Python runs on the executors: the same code works over Spark Connect.

    python -m jobs mllib --master sc://localhost:15002 --data /sparklab/data/winequality-white.csv
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from jobs.data.rows import MAX_ABS, fold_ids, holdout_mask
from jobs.data.table import EMPTY_FILE, Split, header_columns, refuse_a_split_too_small
from jobs.errors import JobError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SOLVERS = ("normal", "l-bfgs")
TEST = -1  # the fold column's value for a held-out (test) row
DEFAULT_SPLIT = Split()  # the GD and CV jobs' defaults


@dataclass(frozen=True)
class Frames:
    """The data as pyspark.ml takes it: `features` (raw units), `label`, `fold`
    (the CV job's fold of each train row). Both frames are cached."""

    path: str
    feature_names: list[str]
    target_name: str
    train: DataFrame
    test: DataFrame
    n_train: int
    n_test: int


@dataclass(frozen=True)
class SolverFit:
    solver: str
    intercept: float
    coefficients: np.ndarray  # raw feature units, like GDResult.raw_weights[1:]
    train_mse: float
    test_mse: float
    iterations: int | None  # l-bfgs: its iterations; normal: none (one solve)


@dataclass(frozen=True)
class CVFit:
    folds: int
    mean_val_mse: float  # CrossValidator's avgMetrics: the folds' mean validation MSE
    std_val_mse: float


@dataclass(frozen=True)
class MLlibResult:
    frames: Frames
    fits: dict[str, SolverFit]
    cv: CVFit


def assignments(lines: int, split: Split, folds: int) -> np.ndarray:
    """Each data-row index's fold (0..k-1) or TEST: the GD and CV jobs' hashes."""
    index = np.arange(lines, dtype=np.int64)
    fold = fold_ids(index, folds, split.seed)
    return np.where(holdout_mask(index, split.test_fraction, split.seed), TEST, fold)


def load_frames(
    spark: SparkSession,
    path: str,
    *,
    split: Split = DEFAULT_SPLIT,
    folds: int = 6,
    partitions: int | None = None,
) -> Frames:
    """Read, check and split the CSV into cached train and test frames.

    Bad rows stop the job with their line (no skipping here: the GD job's
    `--on-bad-lines skip` is the way to fit dirty data). Features are kept in
    raw units: pyspark.ml standardizes inside and answers in raw units.
    """
    from pyspark.sql import functions as F  # lazy: pyspark, loaded only when used

    numbered, columns = _numbered_lines(spark, path)
    rows, last = _checked_rows(numbered, path, len(columns))
    data = _labelled_with_folds(spark, rows, len(columns), assignments(last, split, folds))
    if partitions:
        data = data.repartition(partitions)
    train = data.where(F.col("fold") != TEST).cache()
    test = data.where(F.col("fold") == TEST).cache()
    n_train, n_test = train.count(), test.count()
    refuse_a_split_too_small(path, n_train, n_test, split)
    return Frames(path, columns[:-1], columns[-1], train, test, n_train, n_test)


def _numbered_lines(spark: SparkSession, path: str) -> tuple[DataFrame, list[str]]:
    """The file's lines numbered from 0 (the header), and the header's columns."""
    from pyspark.sql import Window  # lazy: pyspark, loaded only when used
    from pyspark.sql import functions as F  # lazy: pyspark, loaded only when used

    lines = spark.read.text(path)
    order = Window.orderBy(F.monotonically_increasing_id())
    with warnings.catch_warnings():  # the one-partition numbering is meant (see above)
        warnings.filterwarnings("ignore", message=".*No Partition Defined for Window")
        numbered = lines.select("value", (F.row_number().over(order) - 1).alias("line"))
    first = numbered.where(F.col("line") == 0).first()
    if first is None:
        raise JobError.at(path, None, EMPTY_FILE)
    # Spark's text lines keep a byte-order mark (read_header's utf-8-sig drops it).
    return numbered, header_columns(first["value"].lstrip("\ufeff"), path)


def _checked_rows(numbered: DataFrame, path: str, width: int) -> tuple[DataFrame, int]:
    """The data rows as `width` numbers (c0...), every one checked finite; the last line's number.
    A bad row stops the job with its line."""
    from pyspark.sql import functions as F  # lazy: pyspark, loaded only when used

    fields = F.split("value", ";")
    values = [F.trim(fields[j]).try_cast("double").alias(f"c{j}") for j in range(width)]
    rows = numbered.where((F.col("line") > 0) & (F.trim("value") != "")).select(
        "line", F.size(fields).alias("n"), *values
    )
    ok = F.col("n") == width
    for j in range(width):
        value = F.col(f"c{j}")
        ok = ok & value.isNotNull() & ~F.isnan(value) & (F.abs(value) <= MAX_ABS)
    rows = rows.withColumn("ok", F.coalesce(ok, F.lit(False)))
    summary = rows.agg(
        F.count("*").alias("rows"),
        F.count(F.when(~F.col("ok"), 1)).alias("bad"),
        F.min(F.when(~F.col("ok"), F.col("line"))).alias("first_bad"),
        F.max("line").alias("last"),
    ).first()
    if summary["bad"]:
        more = f" (and {summary['bad'] - 1} more bad lines)" if summary["bad"] > 1 else ""
        raise JobError.at(
            path,
            summary["first_bad"] + 1,
            f"not {width} finite numbers separated by ';'{more}; "
            f"the MLlib job takes clean data (`gd --on-bad-lines skip` skips bad rows)",
        )
    if not summary["rows"]:
        raise JobError.at(path, None, "the header has no data rows after it")
    return rows, summary["last"]


def _labelled_with_folds(spark: SparkSession, rows: DataFrame, width: int, fold: np.ndarray) -> DataFrame:
    """(index, features, label, fold): the rows assembled for pyspark.ml, each with its fold
    (data-row index = line - 1: line 0 is the header, as jobs.data.rows.parse_lines)."""
    import pandas as pd  # lazy: pandas, loaded only when used
    from pyspark.ml.feature import VectorAssembler  # lazy: pyspark, loaded only when used
    from pyspark.sql import functions as F  # lazy: pyspark, loaded only when used

    table = pd.DataFrame({"index": np.arange(len(fold), dtype=np.int64), "fold": fold.astype(np.int32)})
    assigned = spark.createDataFrame(table)
    assembler = VectorAssembler(inputCols=[f"c{j}" for j in range(width - 1)], outputCol="features")
    data = assembler.transform(
        rows.select((F.col("line") - 1).alias("index"), *[f"c{j}" for j in range(width)])
    ).select("index", "features", F.col(f"c{width - 1}").alias("label"))
    return data.join(F.broadcast(assigned), "index")


def _mse(model, frame: DataFrame) -> float:
    from pyspark.ml.evaluation import RegressionEvaluator  # lazy: pyspark, loaded only when used

    return RegressionEvaluator(metricName="mse").evaluate(model.transform(frame))


def _regression(solver: str, *, max_iter: int = 100, tol: float = 1e-6):
    from pyspark.ml.regression import LinearRegression  # lazy: pyspark, loaded only when used

    # No regularization: the least-squares fit the GD job converges to.
    return LinearRegression(solver=solver, regParam=0.0, elasticNetParam=0.0, maxIter=max_iter, tol=tol)


def fit_solver(frames: Frames, solver: str, *, max_iter: int = 100, tol: float = 1e-6) -> SolverFit:
    """One fit on the train frame; its MSE on train and test."""
    if solver not in SOLVERS:
        raise JobError(f"solver must be one of {', '.join(SOLVERS)}, not {solver!r}")
    model = _regression(solver, max_iter=max_iter, tol=tol).fit(frames.train)
    iterations = None
    if solver != "normal":
        try:
            iterations = int(model.summary.totalIterations)
        except Exception:  # a summary is optional; the fit is what matters
            iterations = None
    return SolverFit(
        solver=solver,
        intercept=float(model.intercept),
        coefficients=np.asarray(model.coefficients.toArray(), dtype=np.float64),
        train_mse=_mse(model, frames.train),
        test_mse=_mse(model, frames.test),
        iterations=iterations,
    )


def cross_validate(frames: Frames, folds: int) -> CVFit:
    """MLlib's CrossValidator on the train frame with the CV job's folds
    (`foldCol`, not its own random ones), a `normal` fit per fold."""
    from pyspark.ml.evaluation import RegressionEvaluator  # lazy: pyspark, loaded only when used
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder  # lazy: pyspark, loaded only when used

    validator = CrossValidator(
        estimator=_regression("normal"),
        estimatorParamMaps=ParamGridBuilder().build(),
        evaluator=RegressionEvaluator(metricName="mse"),
        numFolds=folds,
        foldCol="fold",
    )
    model = validator.fit(frames.train)
    std = list(getattr(model, "stdMetrics", None) or [math.nan])
    return CVFit(folds=folds, mean_val_mse=float(model.avgMetrics[0]), std_val_mse=float(std[0]))


def run(
    spark: SparkSession,
    path: str,
    *,
    split: Split = DEFAULT_SPLIT,
    folds: int = 6,
    max_iter: int = 100,
    tol: float = 1e-6,
    partitions: int | None = None,
) -> MLlibResult:
    """Load, fit with both solvers, cross-validate; the cached frames are freed after."""
    if folds < 2:
        raise JobError(f"--folds must be at least 2 (one to validate, one to train), got {folds}")
    frames = load_frames(spark, path, split=split, folds=folds, partitions=partitions)
    try:
        fits = {solver: fit_solver(frames, solver, max_iter=max_iter, tol=tol) for solver in SOLVERS}
        return MLlibResult(frames, fits, cross_validate(frames, folds))
    finally:
        frames.train.unpersist()
        frames.test.unpersist()


def to_json(result: MLlibResult, split: Split) -> dict:
    frames = result.frames
    return {
        "data": frames.path,
        "feature_names": frames.feature_names,
        "target": frames.target_name,
        "n_train": frames.n_train,
        "n_test": frames.n_test,
        "split": {"test_fraction": split.test_fraction, "seed": split.seed},
        "fits": {
            solver: {
                # intercept first, raw units: comparable with gd.json's raw_weights
                "raw_weights": [fit.intercept, *fit.coefficients.tolist()],
                "train_mse": fit.train_mse,
                "test_mse": fit.test_mse,
                "iterations": fit.iterations,
            }
            for solver, fit in result.fits.items()
        },
        "cv": {
            "folds": result.cv.folds,
            "mean_val_mse": result.cv.mean_val_mse,
            "std_val_mse": result.cv.std_val_mse,
        },
    }
