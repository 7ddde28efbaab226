"""Gradient descent and cross-validation against independent numpy references."""

import os

import numpy as np
import pytest

from jobs.cv import cross_validate
from jobs.data.table import Split, load_table
from jobs.errors import JobError
from jobs.fit.loop import iterate
from jobs.gd import _gd_kernel, baseline_weights, fit_gd
from tests.reference import numpy_cv, numpy_gd, split_standardize

RTOL = 1e-9  # the same arithmetic, summed in another order


@pytest.fixture(scope="module")
def wine(spark, wine_csv):
    data = load_table(spark, wine_csv, partitions=3)
    yield data
    data.blocks.unpersist()


@pytest.fixture(scope="module")
def wine_two_partitions(spark, wine_csv):
    """As many partitions as local[2] has task slots, for the one-job (barrier) fits."""
    data = load_table(spark, wine_csv, partitions=2)
    yield data
    data.blocks.unpersist()


@pytest.fixture(scope="module")
def reference(wine_csv):
    return split_standardize(wine_csv)


def test_wine_split_is_80_20_with_train_moments(wine, reference):
    _x, y, x_test, _, _ = reference
    assert (wine.n_train, wine.n_test) == (len(y), len(x_test))
    assert wine.n_train + wine.n_test == 4898
    assert 0.18 < wine.n_test / 4898 < 0.22
    assert len(wine.feature_names) == 11
    assert wine.target_name == "quality"
    np.testing.assert_allclose(wine.target_mean, y.mean(), rtol=1e-12)


def test_gd_equals_numpy_iterations(spark, wine, reference):
    x, y, x_test, y_test, _ = reference
    result = fit_gd(spark.sparkContext, wine, iterations=50, lr=0.1)
    w0 = np.zeros(12)
    w0[0] = y.mean()
    w, train, test = numpy_gd(x, y, x_test, y_test, w0, 50, 0.1)
    np.testing.assert_allclose(result.weights, w, rtol=RTOL)
    np.testing.assert_allclose(result.train_mse, train, rtol=RTOL)
    np.testing.assert_allclose(result.test_mse, test, rtol=RTOL)
    assert result.train_mse[-1] < result.train_mse[0]


def test_gd_converges_to_least_squares(spark, wine_two_partitions, reference):
    x, y, *_ = reference
    exact, *_ = np.linalg.lstsq(x, y, rcond=None)
    # X'X/n has eigenvalues 0.022 to 3.2 here: lr 0.6 is near the best fixed
    # step, 2 / (min + max), and 1000 steps bring the error under 1e-6.
    # (The one-job fit runs them in about a second; it equals the per-iteration
    # jobs bit for bit, see below.)
    result = fit_gd(spark.sparkContext, wine_two_partitions, iterations=1000, lr=0.6, one_job=True)
    np.testing.assert_allclose(result.weights, exact, rtol=1e-6, atol=1e-6)


def test_the_same_split_and_result_whatever_the_partitioning(spark, wine_csv, wine):
    other = load_table(spark, wine_csv, partitions=1)
    try:
        a = fit_gd(spark.sparkContext, wine, iterations=5)
        b = fit_gd(spark.sparkContext, other, iterations=5)
    finally:
        other.blocks.unpersist()
    assert (other.n_train, other.n_test) == (wine.n_train, wine.n_test)
    np.testing.assert_allclose(a.weights, b.weights, rtol=RTOL)


def test_unscaled_features_diverge_and_the_job_refuses(spark, wine_csv):
    raw = load_table(spark, wine_csv, split=Split(standardize=False))
    try:
        with pytest.raises(JobError, match=r"gradient descent diverges: train MSE went from .* at step 2"):
            fit_gd(spark.sparkContext, raw, iterations=10, lr=0.1)
    finally:
        raw.blocks.unpersist()
    # The independent check that it really diverges: numpy, same start, same step.
    x, y, x_test, y_test, _ = split_standardize(wine_csv, standardize=False)
    w0 = np.zeros(12)
    w0[0] = y.mean()
    with np.errstate(over="ignore", invalid="ignore"):
        _, train, _ = numpy_gd(x, y, x_test, y_test, w0, 10, 0.1)
    assert not np.isfinite(train[-1]) or train[-1] > 1e6 * train[0]


def test_cv_equals_k_sequential_numpy_fits(spark, wine, reference):
    x, y, _, _, train_index = reference
    result = cross_validate(spark.sparkContext, wine, folds=6, iterations=50, lr=0.1, seed=7)
    expected = numpy_cv(x, y, train_index, folds=6, seed=7, iterations=50, lr=0.1)
    assert len(result.folds) == 6
    for fold, (w, train, val) in zip(result.folds, expected, strict=True):
        np.testing.assert_allclose(fold.weights, w, rtol=RTOL)
        np.testing.assert_allclose(fold.train_mse, train, rtol=RTOL)
        np.testing.assert_allclose(fold.val_mse, val, rtol=RTOL)
    assert sum(f.n_val for f in result.folds) == wine.n_train
    np.testing.assert_allclose(result.mean_val_mse, np.mean([v for _, _, v in expected], axis=0), rtol=RTOL)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"iterations": 0}, "--iterations must be at least 1, got 0"),
        ({"lr": -0.1}, "--lr must be a positive number, got -0.1"),
        ({"folds": 1}, r"--folds must be at least 2 \(one to validate, one to train\), got 1"),
    ],
)
def test_bad_hyperparameters_are_refused(spark, wine, options, message):
    with pytest.raises(JobError, match=message):
        cross_validate(spark.sparkContext, wine, **options)


def test_one_job_fit_equals_one_job_per_iteration_bit_for_bit(spark, wine_two_partitions):
    sc, wine = spark.sparkContext, wine_two_partitions
    tracker = sc.statusTracker()
    per_iteration = fit_gd(sc, wine, iterations=20)
    sc.setJobGroup("one-job-gd", "one job")
    one_job = fit_gd(sc, wine, iterations=20, one_job=True)
    assert len(tracker.getJobIdsForGroup("one-job-gd")) == 1
    np.testing.assert_array_equal(one_job.weights, per_iteration.weights)
    assert one_job.train_mse == per_iteration.train_mse
    assert one_job.test_mse == per_iteration.test_mse
    cv_jobs = cross_validate(sc, wine, folds=4, iterations=10)
    cv_one = cross_validate(sc, wine, folds=4, iterations=10, one_job=True)
    for a, b in zip(cv_jobs.folds, cv_one.folds, strict=True):
        np.testing.assert_array_equal(a.weights, b.weights)
        assert a.val_mse == b.val_mse


def test_one_job_refuses_more_partitions_than_task_slots(spark, wine_csv):
    data = load_table(spark, wine_csv, partitions=3)  # local[2]: two slots
    try:
        with pytest.raises(JobError, match=r"--one-job runs all 3 partitions at once .* only 2 task slots"):
            fit_gd(spark.sparkContext, data, iterations=5, one_job=True)
    finally:
        data.blocks.unpersist()


def test_one_job_fit_stops_on_divergence_like_the_per_iteration_fit(spark, wine_csv):
    raw = load_table(spark, wine_csv, split=Split(standardize=False))
    try:
        with pytest.raises(JobError, match=r"gradient descent diverges: .* at step 2"):
            fit_gd(spark.sparkContext, raw, iterations=10, lr=0.1, one_job=True)
    finally:
        raw.blocks.unpersist()


def _gd_step(weights, partials, lr=0.1):
    grad, n, *_ = partials
    return weights - lr * grad / n


def test_a_barrier_task_that_dies_mid_fit_reruns_the_job_with_the_same_result(
    spark, wine_two_partitions, tmp_path
):
    sc, wine = spark.sparkContext, wine_two_partitions
    died = tmp_path / "died"

    def dies_once_at_step_10(block, weights, calls=[0]):  # noqa: B006 (a per-process step counter)
        calls[0] += 1
        if calls[0] == 10 and not died.exists():
            died.touch()
            os._exit(1)  # the Python worker crashes: Spark fails the barrier stage
        return _gd_kernel(block, weights)

    def initial():
        return baseline_weights(wine)

    undisturbed = iterate(sc, wine.blocks, _gd_kernel, initial, _gd_step, 30)
    sc.setJobGroup("one-job-rerun", "a task dies")
    rerun = iterate(sc, wine.blocks, dies_once_at_step_10, initial, _gd_step, 30, one_job=True)
    assert died.exists(), "no task died: the test tested nothing"
    assert len(sc.statusTracker().getJobIdsForGroup("one-job-rerun")) == 2
    np.testing.assert_array_equal(rerun, undisturbed)


def test_a_barrier_task_that_always_dies_gives_up_after_the_stage_attempts(spark, wine_two_partitions):
    sc, wine = spark.sparkContext, wine_two_partitions

    def always_dies(block, weights):
        os._exit(1)

    sc.setJobGroup("one-job-gives-up", "every task dies")
    with pytest.raises(JobError, match=r"the one-job fit failed \d+ times in a row .*: .*barrier"):
        iterate(sc, wine.blocks, always_dies, lambda: baseline_weights(wine), _gd_step, 5, one_job=True)
    attempts = int(sc.getConf().get("spark.stage.maxConsecutiveAttempts", "4"))
    assert len(sc.statusTracker().getJobIdsForGroup("one-job-gives-up")) == attempts
