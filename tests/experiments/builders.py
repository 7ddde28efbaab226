"""Hand-made monitoring-API numbers (records as jobs.experiments.monitoring makes them)."""

from __future__ import annotations


def job(job_id: int, group: str, stages: list[int], seconds: float, start: float = 0.0) -> dict:
    return {
        "job": job_id,
        "group": group,
        "status": "SUCCEEDED",
        "stages": stages,
        "start": start,
        "seconds": seconds,
    }


def stage(stage_id: int, seconds: float, attempt: int = 0, **extra) -> dict:
    return {
        "stage": stage_id,
        "attempt": attempt,
        "status": "COMPLETE",
        "tasks": 0,
        "complete_tasks": 0,
        "failed_tasks": 0,
        "seconds": seconds,
        "shuffle_read_bytes": 0,
        "shuffle_write_bytes": 0,
        "input_bytes": 0,
        **extra,
    }


_ids = iter(range(1, 10**9))


def task(
    stage_id: int,
    index: int,
    seconds: float,
    *,
    run: float | None = None,
    status: str = "SUCCESS",
    attempt: int = 0,
    executor: str = "0",
    locality: str = "PROCESS_LOCAL",
    **extra,
) -> dict:
    return {
        "stage": stage_id,
        "stage_attempt": 0,
        "task": next(_ids),
        "index": index,
        "attempt": attempt,
        "executor": executor,
        "status": status,
        "locality": locality,
        "speculative": False,
        "seconds": seconds,
        "run_seconds": seconds if run is None else run,
        "deserialize_seconds": 0.0,
        "scheduler_delay_seconds": 0.0,
        "shuffle_read_bytes": 0,
        "shuffle_read_records": 0,
        "shuffle_write_bytes": 0,
        "error": None,
        **extra,
    }


def executor(executor_id: str, active: bool = True, reason: str | None = None) -> dict:
    return {"executor": executor_id, "host": f"10.0.0.{executor_id}", "active": active,
            "removed_because": reason, "tasks": 0, "failed_tasks": 0}  # fmt: skip
