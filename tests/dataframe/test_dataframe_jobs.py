"""The DataFrame and pyspark.ml jobs against independent references: word
counts against the RDD job and collections.Counter, MLlib's `normal` fit
against numpy.linalg.lstsq on the same train rows, CrossValidator against k
numpy fits on the CV job's folds, converged gradient descent against MLlib.

These run on the local[2] classic session; the same code runs over Spark
Connect in tests/cluster/test_connect.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jobs import wordcount
from jobs.data.table import load_table
from jobs.dataframe import mllib
from jobs.dataframe import wordcount as dataframe_wordcount
from jobs.errors import JobError
from jobs.gd import fit_gd
from tests.dataframe.mllib_reference import FOLDS, cv_errors, lstsq, reference_rows

ROOT = Path(__file__).resolve().parent.parent.parent
PETER_PIPER = ROOT / "data" / "peter_piper.txt"


@pytest.fixture(scope="module")
def tricky_text(tmp_path_factory) -> Path:
    """Whitespace Java's \\s does not know, punctuation, cases, blank lines."""
    path = tmp_path_factory.mktemp("words") / "tricky.txt"
    text = (
        "Peter\u00a0Piper picked\u3000a peck,\tof \x1cpickled\x1fpeppers!\n"
        "\n"
        "  «Où» est—la  PECK? peck\u2028peck\x85Peter\r\n"
        "...  'tis   “quoted” words\u2003and\u202fmore\n"
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "tokenizer",
    [
        wordcount.Tokenizer(),
        wordcount.Tokenizer(lower=True),
        wordcount.Tokenizer(lower=True, strip_punct=True),
    ],
    ids=["plain", "lower", "lower-strip-punct"],
)
def test_dataframe_word_count_equals_the_rdd_word_count(spark, tricky_text, tokenizer):
    files = [str(PETER_PIPER), str(tricky_text)]
    result = dataframe_wordcount.run(spark, files, top=5, tokenizer=tokenizer)
    rdd = wordcount.run(spark, files, top=5, tokenizer=tokenizer)
    assert result.counts == rdd.counts
    assert result.counts == wordcount.counter_reference([Path(f).read_text() for f in files], tokenizer)
    assert result.top == rdd.top


@pytest.fixture(scope="module")
def wine_result(spark, wine_csv):
    """One MLlib run (both solvers and the CV) for the module."""
    return mllib.run(spark, wine_csv, folds=FOLDS)


def test_split_rows_are_the_gd_jobs_rows(spark, wine_csv, wine_result):
    data = load_table(spark, wine_csv, partitions=2)
    try:
        gd_train = np.sort(np.concatenate(data.blocks.map(lambda block: block.train_index).collect()))
    finally:
        data.blocks.unpersist()
    frames = mllib.load_frames(spark, wine_csv, folds=FOLDS, partitions=3)
    try:
        train = np.sort([row["index"] for row in frames.train.select("index").collect()])
    finally:
        frames.train.unpersist()
        frames.test.unpersist()
    assert (wine_result.frames.n_train, wine_result.frames.n_test) == (data.n_train, data.n_test)
    np.testing.assert_array_equal(train, gd_train)


def test_mllib_normal_solution_equals_numpy_lstsq(wine_csv, wine_result):
    x, y, is_test, _ = reference_rows(wine_csv)
    exact = lstsq(x[~is_test], y[~is_test])
    normal = wine_result.fits["normal"]
    # Both solve the same least-squares problem in float64 (MLlib through the
    # normal equations on standardized features, numpy by SVD): they agree
    # to rounding amplified by the features' conditioning, far below 1e-6.
    np.testing.assert_allclose([normal.intercept, *normal.coefficients], exact, rtol=1e-6)
    residual = y[~is_test] - np.column_stack([np.ones((~is_test).sum()), x[~is_test]]) @ exact
    np.testing.assert_allclose(normal.train_mse, np.mean(residual**2), rtol=1e-9)


def test_lbfgs_reaches_the_normal_solution(wine_result):
    normal, lbfgs = wine_result.fits["normal"], wine_result.fits["l-bfgs"]
    # An iterative solver stopped by its tolerance (1e-6): close, not equal.
    np.testing.assert_allclose(
        [lbfgs.intercept, *lbfgs.coefficients], [normal.intercept, *normal.coefficients], rtol=1e-4
    )
    np.testing.assert_allclose(lbfgs.train_mse, normal.train_mse, rtol=1e-8)


def test_converged_gradient_descent_equals_mllib_normal(spark, wine_csv, wine_result):
    data = load_table(spark, wine_csv, partitions=2)
    try:
        # lr 0.6 is near the best fixed step for these standardized features
        # (see test_regression.py): 3000 steps converge well below 1e-5.
        result = fit_gd(spark.sparkContext, data, iterations=3000, lr=0.6, one_job=True)
    finally:
        data.blocks.unpersist()
    normal = wine_result.fits["normal"]
    np.testing.assert_allclose(result.raw_weights, [normal.intercept, *normal.coefficients], rtol=1e-5)


def test_cross_validator_uses_the_cv_jobs_folds(wine_csv, wine_result):
    assert wine_result.cv.folds == FOLDS
    # k normal-equation solves against k SVD solves: rounding only (~1e-9 here).
    np.testing.assert_allclose(wine_result.cv.mean_val_mse, np.mean(cv_errors(wine_csv)), rtol=1e-7)


def test_a_bad_row_stops_the_mllib_job_with_its_line(spark, write_csv):
    path = write_csv(["1;2;3;4", "5;6;7;8", "1;x;3;4", "2;3;4;5"])
    with pytest.raises(JobError, match=r"data\.csv:4: not 4 finite numbers separated by ';'"):
        mllib.load_frames(spark, path, folds=2)
