"""Spark's own numbers for an experiment, from the running application's
monitoring REST API (what the UI and the history server show): the jobs of
one job group, their stages, every task attempt, the executors.

The `*_record` functions and `summarize_tasks` are pure: raw REST JSON in,
small plain dicts out (what the experiment's JSON carries); `group_numbers`
is the one that asks the API.
"""

from __future__ import annotations

import json
import math
import urllib.request
from datetime import datetime
from typing import Any

from jobs.runtime.metrics import wait_for_listeners

# A stage's task list comes in pages; none of ours has more tasks than this.
TASK_PAGE = 5000


def parse_time(stamp: str | None) -> float | None:
    """The API's timestamps ("2026-12-06T08:10:11.123GMT") as epoch seconds."""
    if not stamp:
        return None
    return datetime.strptime(stamp.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start


def job_record(raw: dict) -> dict:
    start, end = parse_time(raw.get("submissionTime")), parse_time(raw.get("completionTime"))
    return {
        "job": raw["jobId"],
        "group": raw.get("jobGroup"),
        "status": raw.get("status"),
        "stages": list(raw.get("stageIds", [])),
        "start": start,
        "seconds": span(start, end),
    }


def stage_record(raw: dict) -> dict:
    start, end = parse_time(raw.get("submissionTime")), parse_time(raw.get("completionTime"))
    return {
        "stage": raw["stageId"],
        "attempt": raw["attemptId"],
        "status": raw.get("status"),
        "tasks": raw.get("numTasks", 0),
        "complete_tasks": raw.get("numCompleteTasks", 0),
        "failed_tasks": raw.get("numFailedTasks", 0),
        "seconds": span(start, end),
        "shuffle_read_bytes": raw.get("shuffleReadBytes", 0),
        "shuffle_write_bytes": raw.get("shuffleWriteBytes", 0),
        "input_bytes": raw.get("inputBytes", 0),
    }


def task_record(raw: dict, stage: int, stage_attempt: int) -> dict:
    """One task attempt: where and how it ran, its times in seconds."""
    metrics = raw.get("taskMetrics") or {}
    shuffle_read = metrics.get("shuffleReadMetrics") or {}
    shuffle_write = metrics.get("shuffleWriteMetrics") or {}
    return {
        "stage": stage,
        "stage_attempt": stage_attempt,
        "task": raw["taskId"],
        "index": raw["index"],
        "attempt": raw.get("attempt", 0),
        "executor": raw.get("executorId"),
        "status": raw.get("status"),
        "locality": raw.get("taskLocality"),
        "speculative": bool(raw.get("speculative", False)),
        "seconds": raw.get("duration", 0) / 1000,
        "run_seconds": metrics.get("executorRunTime", 0) / 1000,
        "deserialize_seconds": metrics.get("executorDeserializeTime", 0) / 1000,
        "scheduler_delay_seconds": raw.get("schedulerDelay", 0) / 1000,
        "shuffle_read_bytes": shuffle_read.get("remoteBytesRead", 0) + shuffle_read.get("localBytesRead", 0),
        "shuffle_read_records": shuffle_read.get("recordsRead", 0),
        "shuffle_write_bytes": shuffle_write.get("bytesWritten", 0),
        "error": (raw.get("errorMessage") or "").splitlines()[0][:200] if raw.get("errorMessage") else None,
    }


def executor_record(raw: dict) -> dict:
    return {
        "executor": raw["id"],
        "host": raw.get("hostPort", "").rsplit(":", 1)[0],
        "active": bool(raw.get("isActive", True)),
        "removed_because": raw.get("removeReason"),
        "tasks": raw.get("totalTasks", 0),
        "failed_tasks": raw.get("failedTasks", 0),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize_tasks(tasks: list[dict]) -> dict:
    """Counts and the time distribution of task attempts (successful ones for the times)."""
    done = [t for t in tasks if t["status"] == "SUCCESS"]
    seconds = [t["seconds"] for t in done]
    run = [t["run_seconds"] for t in done]
    return {
        "attempts": len(tasks),
        "succeeded": len(done),
        "failed": sum(1 for t in tasks if t["status"] == "FAILED"),
        "killed": sum(1 for t in tasks if t["status"] == "KILLED"),
        "retried": sum(1 for t in tasks if t["attempt"] > 0),
        "seconds_total": sum(seconds),
        "run_seconds_total": sum(run),
        "median_seconds": percentile(seconds, 50),
        "p95_seconds": percentile(seconds, 95),
        "max_seconds": max(seconds, default=math.nan),
        "min_seconds": min(seconds, default=math.nan),
        "shuffle_read_bytes": sum(t["shuffle_read_bytes"] for t in done),
        "shuffle_write_bytes": sum(t["shuffle_write_bytes"] for t in done),
        "localities": _counts(t["locality"] for t in done),
    }


def _counts(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item)] = counts.get(str(item), 0) + 1
    return dict(sorted(counts.items()))


def select_group(jobs: list[dict], stages: list[dict], tasks: list[dict], group: str) -> dict:
    """The jobs of one job group, with their stages and task attempts."""
    chosen = [job for job in jobs if job["group"] == group]
    stage_ids = {sid for job in chosen for sid in job["stages"]}
    return {
        "jobs": sorted(chosen, key=lambda job: job["job"]),
        "stages": sorted(
            (s for s in stages if s["stage"] in stage_ids), key=lambda s: (s["stage"], s["attempt"])
        ),
        "tasks": sorted((t for t in tasks if t["stage"] in stage_ids), key=lambda t: t["task"]),
    }


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)


def api_base(sc) -> str:
    if not sc.uiWebUrl:
        raise RuntimeError("the experiments read Spark's monitoring API: the UI must be on")
    return f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"


def application_numbers(api: str, groups: list[str] | None = None) -> dict:
    """Jobs, stages, task attempts and executors of an application (its REST
    API at `api`), the tasks of the stages of `groups`' jobs only when given."""
    jobs = [job_record(raw) for raw in _get(f"{api}/jobs")]
    stages = [stage_record(raw) for raw in _get(f"{api}/stages?status=complete&status=failed&status=active")]
    wanted = (
        None if groups is None else {sid for job in jobs if job["group"] in groups for sid in job["stages"]}
    )
    tasks = []
    for stage in stages:
        if wanted is not None and stage["stage"] not in wanted:
            continue
        raw_tasks = _get(f"{api}/stages/{stage['stage']}/{stage['attempt']}/taskList?length={TASK_PAGE}")
        tasks += [task_record(raw, stage["stage"], stage["attempt"]) for raw in raw_tasks]
    executors = [executor_record(raw) for raw in _get(f"{api}/allexecutors")]
    return {"jobs": jobs, "stages": stages, "tasks": tasks, "executors": executors}


def live_numbers(sc, groups: list[str] | None = None) -> dict:
    """`application_numbers` of the running application, once its listener bus is drained."""

    wait_for_listeners(sc)
    return {"app_id": sc.applicationId, **application_numbers(api_base(sc), groups)}
