"""The worker-loss page's figures and answer from hand-made numbers."""

from __future__ import annotations

from jobs.experiments import worker_loss
from tests.experiments.builders import executor, job, stage, task


def measured(seconds: list[float], *, kill_at: int = 2, lost: bool = True, equal: bool = True) -> dict:
    """One job (one stage, two tasks) per iteration; after the kill, one task failed and re-ran elsewhere."""
    jobs, stages, tasks = [], [], []
    for i, s in enumerate(seconds, 1):
        jobs.append(job(i - 1, "worker-loss/disturbed", [i - 1], s))
        stages.append(stage(i - 1, s))
        if i == kill_at + 1:
            tasks += [
                task(i - 1, 0, 0.1, status="FAILED", executor="1"),
                task(i - 1, 0, s, attempt=1, executor="0", locality="ANY"),
                task(i - 1, 1, 0.1, executor="0"),
            ]
        else:
            tasks += [
                task(i - 1, 0, 0.1, executor="0"),
                task(i - 1, 1, 0.1, executor="1" if i <= kill_at else "0"),
            ]
    executors = [
        executor("0"),
        executor("1", active=not lost, reason=None if not lost else "Worker shutdown"),
    ]
    return {
        "plan": {"rows": 100, "partitions": 2, "iterations": len(seconds), "kill_at": kill_at},
        "disturbed": "worker-loss/disturbed",
        "undisturbed": "worker-loss/undisturbed",
        "blocks_built_at_load": 2,
        "blocks_rebuilt_during_fit": 1,
        "blocks_rebuilt_per_iteration": [1 if i == kill_at + 1 else 0 for i in range(1, len(seconds) + 1)],
        "equal_bit_for_bit": equal,
        "max_abs_difference": 0.0 if equal else 1e-3,
        "numbers": {"jobs": jobs, "stages": stages, "tasks": tasks, "executors": executors},
    }


def test_each_iteration_counts_its_attempts_failures_and_recomputed_blocks():
    rows = worker_loss.summarize(measured([0.5, 0.2, 0.2, 1.5, 0.2]))["rows"]
    assert [row["iteration"] for row in rows] == [1, 2, 3, 4, 5]
    third = rows[2]
    assert (third["task_attempts"], third["failed"], third["retried"], third["rebuilt"]) == (3, 1, 1, 1)
    assert third["executors"] == "0, 1"
    assert (rows[3]["failed"], rows[3]["rebuilt"]) == (0, 0)


def test_the_answer_names_the_lost_executor_and_the_iteration_that_paid():
    answer = worker_loss.summarize(measured([0.5, 0.2, 1.5, 0.3, 0.2], kill_at=2))["answer"]
    assert answer.startswith("1 executor lost (1 on 10.0.0.1: Worker shutdown).")
    assert "Iteration 3 paid for it: 1.50 s against a median of 0.20 s before the loss" in answer
    assert "3 task attempts (1 failed, 1 retries, 1 cached block rebuilt)" in answer
    assert (
        "1 failed task attempt, 1 retried, 1 cached block recomputed from lineage (of 2 built at load)"
        in answer
    )
    assert answer.endswith("The weights equal the undisturbed fit's bit for bit.")


def test_no_loss_and_different_weights_are_said_plainly():
    answer = worker_loss.summarize(measured([0.5, 0.2, 0.2, 0.2], lost=False, equal=False))["answer"]
    assert answer.startswith("No executor was lost")
    assert "The weights DIFFER" in answer
