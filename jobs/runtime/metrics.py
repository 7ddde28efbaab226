"""What Spark did, from Spark itself: jobs, stages, tasks, shuffle and input
bytes, executors, read from the running application's monitoring REST API
(the same numbers the UI shows) just before the session stops."""

from __future__ import annotations

import json
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

# The headline numbers of a run, in the order the reports show them.
SUMMARY_KEYS = (
    "jobs",
    "stages",
    "tasks",
    "failed_tasks",
    "job_seconds",
    "input_bytes",
    "shuffle_read_bytes",
    "shuffle_write_bytes",
    "executors",
    "executors_lost",
)


def _get(base: str, path: str) -> Any:
    # Generous: on a loaded machine the UI answers slowly, and the numbers are worth the wait.
    with urllib.request.urlopen(f"{base}{path}", timeout=60) as response:
        return json.load(response)


def wait_for_listeners(sc, timeout_ms: int = 10_000) -> None:
    """The REST API is fed by the listener bus, asynchronously: drain it first."""
    sc._jsc.sc().listenerBus().waitUntilEmpty(timeout_ms)


def _api(sc) -> str | None:
    base = sc.uiWebUrl
    return f"{base}/api/v1/applications/{sc.applicationId}" if base else None


def collect(sc, after_job: int | None = None) -> dict[str, Any]:
    """A summary of the application so far (of its jobs after `after_job`,
    when several jobs share it); empty when the UI is off."""
    api = _api(sc)
    if not api:
        return {}
    wait_for_listeners(sc)
    return summarize(api, None if after_job is None else (lambda job: job["jobId"] > after_job))


def last_job_id(sc) -> int:
    """The newest Spark job id of the application so far; -1 before the first
    (or with the UI off, where there is nothing to summarize)."""
    api = _api(sc)
    if not api:
        return -1
    wait_for_listeners(sc)
    return max((job["jobId"] for job in _get(api, "/jobs")), default=-1)


def summarize(api: str, keep: Callable[[dict], bool] | None = None) -> dict[str, Any]:
    """The summary from an application's REST API (`.../api/v1/applications/ID`),
    of the jobs `keep` selects (all by default: one client's jobs, in a
    long-lived application such as a Spark Connect server). Executors are
    the application's own, whoever used them."""
    jobs = [job for job in _get(api, "/jobs") if keep is None or keep(job)]
    stages = _get(api, "/stages?status=complete&status=failed&status=active")
    every = _get(api, "/allexecutors")
    # On local[*] the driver's JVM is the one executor; elsewhere it runs no tasks.
    executors = [e for e in every if e["id"] != "driver"] or every
    stage_of = {(s["stageId"], s["attemptId"]): s for s in stages}

    def totals(selected_jobs: list[dict]) -> dict[str, Any]:
        stage_ids = {sid for job in selected_jobs for sid in job["stageIds"]}
        chosen = [s for (sid, _), s in stage_of.items() if sid in stage_ids]
        return {
            "jobs": len(selected_jobs),
            "stages": len({s["stageId"] for s in chosen}),
            "stage_attempts": len(chosen),
            "tasks": sum(s["numCompleteTasks"] for s in chosen),
            "failed_tasks": sum(s["numFailedTasks"] for s in chosen),
            "killed_tasks": sum(s.get("numKilledTasks", 0) for s in chosen),
            "job_seconds": sum(_duration(job) for job in selected_jobs),
            "executor_run_seconds": sum(s["executorRunTime"] for s in chosen) / 1000,
            "input_bytes": sum(s["inputBytes"] for s in chosen),
            "shuffle_read_bytes": sum(s["shuffleReadBytes"] for s in chosen),
            "shuffle_write_bytes": sum(s["shuffleWriteBytes"] for s in chosen),
        }

    by_group: dict[str, list[dict]] = defaultdict(list)
    for job in jobs:
        by_group[job.get("jobGroup") or "other"].append(job)
    return {
        **totals(jobs),
        "jobs_running": sum(1 for job in jobs if job.get("status") == "RUNNING"),
        "executors": len(executors),
        "executors_lost": sum(1 for e in executors if not e["isActive"]),
        "executor_hosts": sorted({e["hostPort"].rsplit(":", 1)[0] for e in executors}),
        "phases": {group: totals(selected) for group, selected in sorted(by_group.items())},
    }


def _duration(job: dict) -> float:
    if "completionTime" not in job or "submissionTime" not in job:
        return 0.0

    def parse(stamp: str) -> datetime:
        return datetime.strptime(stamp.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")

    return (parse(job["completionTime"]) - parse(job["submissionTime"])).total_seconds()
