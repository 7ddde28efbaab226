"""The data-size page's figures and answer from hand-made numbers."""

from __future__ import annotations

import pytest

from jobs.experiments import data_size
from tests.experiments.builders import job, task


def measured(times: dict[str, dict[int, float]], slots: dict[str, int], cpus: int = 2) -> dict:
    """{runtime: {rows: seconds per iteration}}, two iterations each."""
    runs, by_runtime = [], {}
    for runtime, per_rows in times.items():
        jobs, tasks = [], []
        for rows, seconds in per_rows.items():
            group = f"data-size/{runtime}-{rows}"
            runs.append(
                {"runtime": runtime, "rows": rows, "group": group, "app_id": runtime, "slots": slots[runtime]}
            )
            for _ in range(2):
                jobs.append(job(len(jobs), group, [len(jobs)], seconds))
                tasks += [task(len(jobs) - 1, i, seconds / 2) for i in range(slots[runtime])]
        by_runtime[runtime] = {"jobs": jobs, "stages": [], "tasks": tasks, "executors": []}
    return {"plan": {}, "cpus": cpus, "runs": runs, "numbers_by_runtime": by_runtime}


def test_rows_hold_each_runtimes_time_per_iteration_and_per_row():
    result = measured({"local": {1000: 0.05, 100_000: 0.2}}, {"local": 2})
    small, large = data_size.summarize(result)["rows"]
    assert (small["jobs"], small["tasks"], small["iteration_seconds"]) == (2, 4, 0.05)
    assert large["microseconds_per_row"] == pytest.approx(2.0)


def test_without_a_crossover_the_answer_says_why_on_two_cores():
    result = measured(
        {"cluster": {5000: 0.3, 1_000_000: 0.9}, "local": {5000: 0.05, 1_000_000: 0.5}},
        {"cluster": 2, "local": 2},
    )
    answer = data_size.summarize(result)["answer"]
    assert "from 1000000 rows on" in answer  # 0.9 >= 2 x 0.3
    assert "never overtook local[*] up to 1000000 rows" in answer
    assert "2 task slots against local[*]'s 2 on a machine of 2 CPUs" in answer


def test_a_crossover_is_named_where_the_cluster_gets_ahead():
    result = measured(
        {
            "cluster": {5000: 0.3, 100_000: 0.4, 1_000_000: 0.6},
            "local": {5000: 0.05, 100_000: 0.3, 1_000_000: 1.2},
        },
        {"cluster": 4, "local": 2},
        cpus=4,
    )
    answer = data_size.summarize(result)["answer"]
    assert "The cluster, every worker overtook local[*] at 1000000 rows." in answer


def test_a_cluster_ahead_from_the_start_is_not_called_a_crossover():
    result = measured(
        {"cluster": {5000: 0.2, 50_000: 0.3}, "local": {5000: 0.3, 50_000: 0.4}}, {"cluster": 2, "local": 2}
    )
    answer = data_size.summarize(result)["answer"]
    assert "The cluster, every worker was faster than local[*] from 5000 rows on." in answer
    assert "overtook" not in answer


def test_a_flat_curve_says_the_fixed_cost_still_dominates():
    result = measured({"local": {5000: 0.10, 50_000: 0.12}}, {"local": 2})
    assert "the fixed cost still dominated at 50000 rows" in data_size.summarize(result)["answer"]


@pytest.mark.parametrize(
    ("master", "cores_max", "default_parallelism", "slots"),
    [
        ("spark://master:7077", "1", 2, 1),  # one executor of one core: Spark's default parallelism is 2
        ("spark://master:7077", "2", 2, 2),
        ("spark://master:7077", None, 2, 2),
        ("local[*]", "2", 4, 4),  # a local session ignores spark.cores.max
    ],
)
def test_the_slots_are_the_cores_the_application_has(master, cores_max, default_parallelism, slots):
    assert data_size.task_slots(master, cores_max, default_parallelism) == slots


def test_one_executor_of_one_slot_is_said_to_bring_one_slot():
    result = measured(
        {"one-worker": {5000: 0.07, 1_000_000: 0.5}, "local": {5000: 0.04, 1_000_000: 0.3}},
        {"one-worker": 1, "local": 2},
    )
    answer = data_size.summarize(result)["answer"]
    assert "(1 slot):" in answer
    assert "it brings 1 task slot against local[*]'s 2 on a machine of 2 CPUs" in answer
