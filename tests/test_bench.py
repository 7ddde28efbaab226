"""The benchmark's code at a tiny size: it runs, the variants agree (timings never asserted)."""

import math

import numpy as np

from jobs.bench.bench_report import write_bench_report
from jobs.bench.suite import Plan, run_bench
from jobs.data.synthetic import TRUE_WEIGHTS, synthetic_arrays, synthetic_data


def test_bench_runs_every_variant_and_reports_ratios(spark, wine_csv, tmp_path):
    result = run_bench(spark, wine_csv, Plan.tiny(), echo=False)
    names = set(result["timings"])
    assert {
        "gd/article",
        "gd/sparklab",
        "gd/numpy",
        "gd/empty_jobs",
        "gd/mllib_lbfgs",
        "gd/mllib_normal",
        "cv/article",
        "cv/sparklab",
        "cv/sequential_fits",
        "cv/mllib_normal_p1",
        "cv/mllib_normal_p2",
    } <= names
    for name in (
        "cv_vs_single_fit",
        "article_cv_vs_cv",
        "article_gd_vs_gd",
        "gd_vs_empty_jobs",
        "gd_4e6_vs_numpy",
    ):
        assert math.isfinite(result["ratios"][name]), name
        assert result["ratios"][name] > 0, name
    report = write_bench_report(result, tmp_path)
    assert "| `article_gd_vs_gd` |" in report.read_text()
    assert (tmp_path / "bench_times.png").stat().st_size > 0


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
