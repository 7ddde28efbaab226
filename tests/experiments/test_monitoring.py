"""The monitoring API's JSON -> the experiments' records, without Spark."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jobs.experiments import monitoring
from tests.experiments.builders import job, stage, task


def test_timestamps_become_epoch_seconds_and_spans():
    start = monitoring.parse_time("2026-12-06T08:10:11.100GMT")
    end = monitoring.parse_time("2026-12-06T08:10:12.350GMT")
    assert end - start == pytest.approx(1.25)
    assert monitoring.parse_time(None) is None
    assert monitoring.span(start, None) is None


def test_a_task_record_keeps_attempt_locality_and_times_in_seconds():
    raw = {
        "taskId": 42, "index": 3, "attempt": 1, "executorId": "2", "status": "FAILED",
        "taskLocality": "NODE_LOCAL", "duration": 1500, "schedulerDelay": 20,
        "errorMessage": "ExecutorLostFailure (executor 2 exited)\n  at ...",
        "taskMetrics": {
            "executorRunTime": 1200, "executorDeserializeTime": 100,
            "shuffleReadMetrics": {"remoteBytesRead": 10, "localBytesRead": 5, "recordsRead": 7},
            "shuffleWriteMetrics": {"bytesWritten": 99},
        },
    }  # fmt: skip
    record = monitoring.task_record(raw, stage=5, stage_attempt=1)
    assert (record["stage"], record["stage_attempt"], record["task"], record["index"]) == (5, 1, 42, 3)
    assert (record["attempt"], record["executor"], record["locality"]) == (1, "2", "NODE_LOCAL")
    assert (record["seconds"], record["run_seconds"], record["deserialize_seconds"]) == (1.5, 1.2, 0.1)
    assert (record["shuffle_read_bytes"], record["shuffle_read_records"], record["shuffle_write_bytes"]) == (
        15,
        7,
        99,
    )
    assert record["error"] == "ExecutorLostFailure (executor 2 exited)"


def test_a_task_without_metrics_counts_zero():
    record = monitoring.task_record({"taskId": 1, "index": 0, "status": "RUNNING"}, 0, 0)
    assert (record["seconds"], record["run_seconds"], record["shuffle_read_bytes"]) == (0, 0, 0)


@pytest.mark.parametrize("q", [0, 25, 50, 90, 95, 100])
def test_percentile_agrees_with_numpy(q):
    values = [0.3, 0.1, 0.7, 0.2, 0.9, 0.4, 0.05]
    assert monitoring.percentile(values, q) == pytest.approx(np.percentile(values, q), rel=1e-12)


def test_percentile_of_nothing_is_nan():
    assert math.isnan(monitoring.percentile([], 50))


def test_task_summary_counts_attempts_and_times_successes_only():
    tasks = [
        task(1, 0, 1.0, run=0.5),
        task(1, 1, 3.0, run=2.0, locality="NODE_LOCAL"),
        task(1, 1, 9.0, status="FAILED"),
        task(1, 1, 2.0, attempt=1, run=1.0),
    ]
    summary = monitoring.summarize_tasks(tasks)
    assert (summary["attempts"], summary["succeeded"], summary["failed"], summary["retried"]) == (4, 3, 1, 1)
    assert summary["max_seconds"] == 3.0  # the failed 9 s attempt is not a task time
    assert summary["median_seconds"] == 2.0
    assert summary["seconds_total"] == 6.0
    assert summary["run_seconds_total"] == 3.5
    assert summary["localities"] == {"NODE_LOCAL": 1, "PROCESS_LOCAL": 2}


def test_a_group_selects_its_jobs_stages_and_tasks_only():
    jobs = [job(0, "a", [0], 1.0), job(1, "b", [1, 2], 1.0), job(2, "a", [3], 1.0)]
    stages = [stage(i, 1.0) for i in range(4)]
    tasks = [task(i, 0, 0.1) for i in range(4)]
    picked = monitoring.select_group(jobs, stages, tasks, "a")
    assert [j["job"] for j in picked["jobs"]] == [0, 2]
    assert [s["stage"] for s in picked["stages"]] == [0, 3]
    assert [t["stage"] for t in picked["tasks"]] == [0, 3]
