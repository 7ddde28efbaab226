"""The partitions page's figures and answer from hand-made numbers."""

from __future__ import annotations

import pytest

from jobs.experiments import partitions
from tests.experiments.builders import job, stage, task


def measured(times: dict[int, tuple[float, float]], iterations: int = 2, slots: int = 2) -> dict:
    """{partitions: (seconds per iteration, seconds per task)} as the driver's JSON would hold it."""
    jobs, stages, tasks, runs = [], [], [], []
    for parts, (per_iteration, per_task) in times.items():
        group = f"fit-{parts}"
        runs.append({"partitions": parts, "group": group, "final_train_mse": 0.25})
        for _ in range(iterations):
            sid = len(stages)
            jobs.append(job(len(jobs), group, [sid], per_iteration))
            stages.append(stage(sid, per_iteration))
            tasks += [task(sid, i, per_task, run=per_task / 2) for i in range(parts)]
        jobs.append(job(len(jobs), f"load-{parts}", [len(stages)], 5.0))  # not the fit's
        stages.append(stage(len(stages), 5.0))
    return {
        "plan": {"partitions": list(times), "rows": 1000, "iterations": iterations},
        "slots": slots,
        "runs": runs,
        "numbers": {"jobs": jobs, "stages": stages, "tasks": tasks, "executors": []},
    }


def test_rows_count_the_fits_jobs_and_tasks_per_partition_count():
    summary = partitions.summarize(measured({1: (0.2, 0.15), 8: (0.1, 0.02)}, iterations=3))
    one, eight = summary["rows"]
    assert (one["jobs"], one["tasks"], one["tasks_per_iteration"]) == (3, 3, 1)
    assert (eight["jobs"], eight["tasks"], eight["tasks_per_iteration"]) == (3, 24, 8)
    assert eight["iteration_seconds"] == 0.1
    assert eight["run_share"] == pytest.approx(0.5)
    assert len(eight["task_seconds"]) == 24


def test_the_answer_names_the_fastest_and_the_cost_of_extra_tasks():
    summary = partitions.summarize(measured({1: (0.2, 0.15), 2: (0.1, 0.05), 512: (2.65, 0.01)}))
    answer = summary["answer"]
    assert answer.startswith("Fastest with 2 partitions: 100 ms per iteration")
    assert "1 partition took 2.00x as long" in answer
    assert "512 partitions took 26.50x" in answer
    assert "about 5.0 ms to an iteration" in answer  # (2.65 - 0.1) / (512 - 2)


def test_when_the_most_partitions_win_the_answer_says_so():
    summary = partitions.summarize(measured({1: (0.9, 0.8), 64: (0.3, 0.01)}))
    assert summary["answer"].startswith("Fastest with 64 partitions")
    assert "The most partitions were the fastest" in summary["answer"]


def test_when_one_partition_wins_the_answer_says_a_second_task_never_paid():
    summary = partitions.summarize(measured({1: (0.05, 0.04), 8: (0.09, 0.01)}))
    assert summary["answer"].startswith("Fastest with 1 partition:")
    assert "never paid for itself" in summary["answer"]
