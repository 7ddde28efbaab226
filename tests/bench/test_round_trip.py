"""bench.md from given numbers, without Spark: the Spark Connect row of
`./lab bench --on cluster` (jobs.bench.round_trip.add_to_bench and its
sentence), the scaling table's sizes whose blocks were resident, and a size left out."""

import pytest

from jobs.bench.bench_report import write_bench_report
from jobs.bench.round_trip import NOT_MEASURED, RATIO, add_to_bench


def bench_json(iterations: int = 10, empty_jobs_median: float = 0.5) -> dict:
    return {
        "machine": {
            "cores": 2,
            "memory": "8 GB",
            "python": "3.11",
            "java": "17",
            "pyspark": "4.3.0",
            "numpy": "2",
            "master": "spark://master:7077",
        },
        "plan": {"iterations": iterations, "folds": 3, "repeats": 3},
        "partitions": 2,
        "article": {"cores": 4, "gd_50_seconds": 1, "cv_6fold_50_seconds": 3, "cv_vs_gd": 3},
        "timings": {"gd/empty_jobs": {"min": 0.4, "median": empty_jobs_median, "runs": 3}},
        "scaling": [],
        "ratios": {"gd_vs_empty_jobs": 2.0},
    }


def test_the_connect_query_is_set_against_one_empty_job(tmp_path):
    trip = {"queries": 15, "range_collect_seconds": 0.1, "show_databases_seconds": 0.02}
    result = add_to_bench(bench_json(iterations=10, empty_jobs_median=0.5), trip)
    # 10 empty jobs took 0.5 s: the floor is 0.05 s a job, the query twice that.
    assert result["ratios"][RATIO] == pytest.approx(2.0, rel=1e-12)
    assert result["connect_round_trip"]["empty_job_seconds"] == pytest.approx(0.05, rel=1e-12)
    text = write_bench_report(result, tmp_path).read_text()
    assert f"| `{RATIO}` | 2.000 | A trivial query over Spark Connect" in text
    assert "`spark.range(1).collect()` 100.0 ms, `SHOW DATABASES` (no Spark job) 20.0 ms" in text
    assert "one empty Spark job from the driver 50.0 ms" in text


def test_without_a_server_the_row_says_how_to_start_it(tmp_path):
    result = add_to_bench(bench_json(), None)
    assert result["ratios"][RATIO] is None
    assert "connect_round_trip" not in result
    text = write_bench_report(result, tmp_path).read_text()
    assert f"| `{RATIO}` | - | {NOT_MEASURED} |" in text
    assert NOT_MEASURED == "not measured (start it with ./lab up --connect)"


def test_the_scaling_table_marks_the_sizes_whose_blocks_were_resident(tmp_path):
    result = bench_json()
    entry = {f"{name}_per_iteration": 0.01 for name in ("sparklab", "one_job", "memory_floor", "empty_job")}
    result["scaling"] = [
        {"rows": 10_000, **entry, "sparklab_resident": False},
        {"rows": 4_000_000, **entry, "sparklab_resident": True},
    ]
    text = write_bench_report(result, tmp_path).read_text()
    assert "| 10,000 | 10.00 | 10.00 |" in text
    assert "| 4,000,000 | 10.00 (resident) | 10.00 |" in text


def test_a_size_left_out_is_named_with_the_largest_that_ran_instead(tmp_path):
    result = bench_json()
    entry = {f"{name}_per_iteration": 0.01 for name in ("sparklab", "one_job", "memory_floor", "empty_job")}
    result["scaling"] = [{"rows": 10_000, **entry}, {"rows": 3_800_000, **entry, "sparklab_resident": True}]
    result["scaling_left_out"] = [4_000_000]
    text = write_bench_report(result, tmp_path).read_text()
    assert (
        "4,000,000 rows were left out: their cached blocks would not fit the memory that holds them here "
        "(on the cluster, the executors' heaps); the largest size, 3,800,000 rows, is about as many as fit."
    ) in text
