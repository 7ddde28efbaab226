"""Divergence is judged against the problem's scale, not the last loss."""

import numpy as np
import pytest

from jobs.data.table import load_table
from jobs.errors import JobError
from jobs.gd import check_loss, fit_gd


def test_rounding_noise_at_an_exact_solution_is_not_divergence():
    # The loss fell from 1.0 to ~1e-30; noise of the same size is not growth.
    check_loss(800, first=1.0, previous=1e-31, current=3e-30, lr=0.1)


def test_real_growth_is_divergence_and_the_message_names_both_losses():
    with pytest.raises(JobError, match=r"train MSE went from 1 to 1\.5 at step 3 with --lr 0\.1"):
        check_loss(3, first=2.0, previous=1.0, current=1.5, lr=0.1)


@pytest.mark.parametrize("current", [float("inf"), float("nan")])
def test_a_non_finite_loss_at_the_first_step_is_one_clear_line(current):
    with pytest.raises(JobError, match=rf"train MSE is {current} at step 1 with --lr 0\.1"):
        check_loss(1, first=current, previous=None, current=current, lr=0.1)


def test_a_fit_that_reaches_an_exact_solution_converges_without_complaint(spark, write_csv):
    rng = np.random.default_rng(3)
    features = rng.integers(-20, 20, size=(400, 3)).astype(float)
    target = 1.0 + features @ np.array([2.0, -1.0, 0.5])  # exact: no noise at all
    path = write_csv([";".join(f"{v:g}" for v in (*row, y)) for row, y in zip(features, target, strict=True)])
    data = load_table(spark, path, partitions=2)
    try:
        result = fit_gd(spark.sparkContext, data, iterations=2000, lr=0.1, one_job=True)
    finally:
        data.blocks.unpersist()
    assert result.train_mse[-1] < 1e-20 * result.train_mse[0], result.train_mse[-5:]
    np.testing.assert_allclose(result.raw_weights, [1.0, 2.0, -1.0, 0.5], rtol=1e-9)
