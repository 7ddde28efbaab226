"""The benchmark's code at a tiny size: it runs, the variants agree (timings never asserted)."""

import math

from jobs.bench.bench_report import write_bench_report
from jobs.bench.suite import Plan, run_bench


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
        "cv/single_fit",
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
        "one_job_vs_memory_floor",
        "gd_vs_floor_plus_empty_job",
    ):
        assert math.isfinite(result["ratios"][name]), name
        assert result["ratios"][name] > 0, name
    largest = result["scaling"][-1]
    assert largest["memory_floor_per_iteration"] > 0
    assert largest["empty_job_per_iteration"] > 0
    # The driver JVM's collector and compiler time is kept beside each variant's seconds.
    assert result["timings"]["gd/sparklab"]["gc_ms_median"] >= 0
    report = write_bench_report(result, tmp_path).read_text()
    assert "| `article_gd_vs_gd` |" in report
    assert "| `one_job_vs_memory_floor` |" in report
    assert "\n## Bounds\n" in report
    assert (tmp_path / "bench_times.png").stat().st_size > 0
