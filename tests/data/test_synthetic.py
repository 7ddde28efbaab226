"""The benchmark's synthetic data (jobs.data.synthetic): the same rows in Spark and numpy."""

import numpy as np

from jobs.data.synthetic import TRUE_WEIGHTS, synthetic_arrays, synthetic_data


def test_synthetic_data_is_the_same_in_spark_and_numpy_and_recovers_its_weights(spark):
    data = synthetic_data(spark.sparkContext, 5_000, partitions=3)
    try:
        blocks = data.blocks.collect()
    finally:
        data.blocks.unpersist()
    x, y, _, _ = synthetic_arrays(5_000, 3, seed=1)
    np.testing.assert_array_equal(np.concatenate([b.x_train for b in blocks]), x)
    np.testing.assert_array_equal(np.concatenate([b.y_train for b in blocks]), y)
    fitted, *_ = np.linalg.lstsq(x, y, rcond=None)
    np.testing.assert_allclose(fitted, TRUE_WEIGHTS, atol=0.05)
