"""worker-loss: a worker killed during a GD fit on the cluster.

The fit's blocks are cached on the executors. After iteration `kill_at`
the driver prints a cue and waits until Spark has noticed the loss; the
host (`./lab`) SIGKILLs one worker container on that cue. The next
iteration finds the lost executor's cached blocks gone: Spark recomputes
them from their lineage on the executor that is left (counted here by an
accumulator in the block builder), and any task that was running there is
retried. The same fit, run again undisturbed on the same blocks, must give
the same weights bit for bit (partial sums are added in partition order).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass
from itertools import pairwise

from jobs.data.synthetic import FEATURES, synthetic_block
from jobs.data.table import RegressionData
from jobs.errors import JobError
from jobs.experiments.monitoring import live_numbers, percentile, select_group
from jobs.experiments.plots import drawn
from jobs.gd import fit_gd
from jobs.runtime.standalone import executor_count
from jobs.waiting import wait_until

NAME = "worker-loss"
QUESTION = (
    "When a worker dies in the middle of a fit, what does Spark lose, what does it run again, "
    "which iteration pays for it, and is the result still the undisturbed one?"
)
KILL_CUE = "experiment worker-loss: kill a worker now"  # the host acts on this line
NOTICE_SECONDS = 180  # how long the driver waits for Spark to notice the loss


@dataclass(frozen=True)
class Plan:
    rows: int
    partitions: int
    iterations: int
    kill_at: int  # the cue comes after this iteration


FULL = Plan(rows=400_000, partitions=4, iterations=12, kill_at=4)
SMALLEST = Plan(rows=4_000, partitions=2, iterations=5, kill_at=2)


def counted_block(part: int, plan: Plan, seed: int, builds):
    """A synthetic block, counting every time one is built (the first time and every recomputation)."""

    builds.add(1)
    return synthetic_block(plan.rows, plan.partitions, part, seed)


def _wait_for_loss(sc, before: int, deadline: float) -> int:
    """Executors alive once fewer than `before` are (or at the deadline)."""

    # Polling Spark's own count, bounded: not a guess at a delay.
    wait_until(lambda: executor_count(sc) < before, timeout=deadline - time.monotonic(), interval=0.2)
    return executor_count(sc)


def measure(ctx) -> dict:
    """Spark part (driver): cache, fit with the cue after `kill_at`, then the same fit undisturbed."""
    import numpy as np  # lazy: numpy, loaded only when used

    plan = SMALLEST if ctx.smallest else FULL
    seed = 1
    with ctx.session("fit") as spark:
        sc = spark.sparkContext
        executors = executor_count(sc)
        if executors < 2:
            raise JobError(
                f"worker-loss needs 2 workers or more, found {executors} executor(s): ./lab up --workers 2"
            )
        builds = sc.accumulator(0)
        ctx.group(sc, "load")
        blocks = (
            sc.parallelize(range(plan.partitions), plan.partitions)
            .map(lambda part: counted_block(part, plan, seed, builds))
            .setName(f"worker-loss {plan.rows} rows")
            .cache()
        )
        n_train, y_sum = blocks.map(lambda b: (len(b.y_train), float(b.y_train.sum()))).reduce(
            lambda a, b: (a[0] + b[0], a[1] + b[1])
        )
        data = RegressionData(
            path=f"synthetic:{plan.rows}:{seed}", feature_names=[f"x{j}" for j in range(1, FEATURES + 1)],
            target_name="y", blocks=blocks, n_train=n_train, n_test=plan.rows - n_train,
            feature_mean=np.zeros(FEATURES), feature_std=np.ones(FEATURES), target_mean=y_sum / n_train,
        )  # fmt: skip
        built_before = builds.value
        seen: dict[str, int] = {}

        built = [built_before]  # the count after each iteration's job

        def on_step(step: int, train: float, test: float) -> None:
            built.append(builds.value)  # a job's accumulator updates are in when its collect returns
            if step == plan.kill_at:  # the update after this step's job; the next job is step + 1
                seen["before"] = executor_count(sc)
                print(KILL_CUE, file=sys.stderr, flush=True)
                seen["after"] = _wait_for_loss(sc, seen["before"], time.monotonic() + NOTICE_SECONDS)
                ctx.progress(f"executors: {seen['before']} before, {seen['after']} after")

        disturbed = ctx.group(sc, "disturbed", f"GD fit, a worker killed after iteration {plan.kill_at}")
        hit = fit_gd(sc, data, iterations=plan.iterations, on_step=on_step)
        built_during = builds.value - built_before
        undisturbed = ctx.group(sc, "undisturbed", "the same fit again, nobody killed")
        calm = fit_gd(sc, data, iterations=plan.iterations)
        blocks.unpersist()
        numbers = live_numbers(sc, groups=[disturbed, undisturbed])
    return {
        "plan": asdict(plan),
        "disturbed": disturbed,
        "undisturbed": undisturbed,
        "executors_before": seen.get("before"),
        "executors_after": seen.get("after"),
        "blocks_built_at_load": built_before,
        "blocks_rebuilt_during_fit": built_during,
        "blocks_rebuilt_per_iteration": [b - a for a, b in pairwise(built)],
        "weights": hit.weights.tolist(),
        "undisturbed_weights": calm.weights.tolist(),
        "equal_bit_for_bit": bool(np.array_equal(hit.weights, calm.weights)),
        "max_abs_difference": float(np.max(np.abs(hit.weights - calm.weights))),
        "numbers": numbers,
    }


def summarize(result: dict) -> dict:
    """The page's figures and answer, from the measured numbers alone (pure)."""
    numbers = result["numbers"]
    picked = select_group(numbers["jobs"], numbers["stages"], numbers["tasks"], result["disturbed"])
    rebuilt = result["blocks_rebuilt_per_iteration"]
    rows = []
    for iteration, job in enumerate(picked["jobs"], 1):
        tasks = [t for t in picked["tasks"] if t["stage"] in job["stages"]]
        rows.append(
            {
                "iteration": iteration,
                "seconds": job["seconds"],
                "stage_attempts": sum(1 for s in picked["stages"] if s["stage"] in job["stages"]),
                "task_attempts": len(tasks),
                "failed": sum(1 for t in tasks if t["status"] == "FAILED"),
                "retried": sum(1 for t in tasks if t["attempt"] > 0),
                "rebuilt": rebuilt[iteration - 1] if iteration <= len(rebuilt) else 0,
                "executors": ", ".join(sorted({str(t["executor"]) for t in tasks})),
            }
        )
    lost = [e for e in numbers["executors"] if e["executor"] != "driver" and not e["active"]]
    return {"rows": rows, "lost": lost, "answer": answer(rows, lost, result)}


def answer(rows: list[dict], lost: list[dict], result: dict) -> str:
    kill_at = result["plan"]["kill_at"]
    said = []
    if lost:
        said.append(
            f"{len(lost)} executor{'s' * (len(lost) > 1)} lost ("
            + "; ".join(
                f"{e['executor']} on {e['host']}: {e['removed_because'] or 'no reason given'}" for e in lost
            )
            + ")."
        )
    else:
        said.append("No executor was lost: the worker was not killed, or Spark did not notice in time.")
    before = [row["seconds"] for row in rows if row["iteration"] <= kill_at and row["iteration"] > 1]
    after = [row for row in rows if row["iteration"] > kill_at]
    if after:
        paid = max(after, key=lambda row: row["seconds"])
        typical = percentile(before, 50) if before else math.nan
        said.append(
            f"Iteration {paid['iteration']} paid for it: {paid['seconds']:.2f} s against a median of "
            f"{typical:.2f} s before the loss, {paid['task_attempts']} task attempts "
            f"({paid['failed']} failed, {paid['retried']} retries, "
            f"{paid['rebuilt']} cached block{'s' * (paid['rebuilt'] != 1)} rebuilt)."
        )
    failed = sum(row["failed"] for row in rows)
    said.append(
        f"In the whole fit: {failed} failed task attempt{'s' * (failed != 1)}, "
        f"{sum(row['retried'] for row in rows)} retried, {result['blocks_rebuilt_during_fit']} cached "
        f"block{'s' * (result['blocks_rebuilt_during_fit'] != 1)} recomputed from lineage "
        f"(of {result['blocks_built_at_load']} built at load)."
    )
    if result["equal_bit_for_bit"]:
        said.append("The weights equal the undisturbed fit's bit for bit.")
    else:
        said.append(
            "The weights DIFFER from the undisturbed fit's "
            f"(largest difference {result['max_abs_difference']:.2e})."
        )
    return " ".join(said)


# The page's table, a column each: row key="column title {format}" (registry.columns).
TABLE = dict(
    iteration="iteration {:d}", seconds="job s {:.3f}", stage_attempts="stage attempts {:d}",
    task_attempts="task attempts {:d}", failed="failed {:d}", retried="retries {:d}",
    rebuilt="cached blocks rebuilt {:d}", executors="executors {}",
)  # fmt: skip


def plot(result: dict, summary: dict, path) -> None:
    """Host only: seconds per iteration, the ones after the kill marked."""
    rows = summary["rows"]
    kill_at = result["plan"]["kill_at"]
    with drawn(path, figsize=(8, 4)) as (_, ax):
        colours = ["steelblue" if row["iteration"] <= kill_at else "indianred" for row in rows]
        ax.bar([row["iteration"] for row in rows], [row["seconds"] for row in rows], color=colours)
        for row in rows:
            if row["rebuilt"] or row["failed"]:
                note = f"{row['rebuilt']} rebuilt\n{row['failed']} failed"
                ax.annotate(note, (row["iteration"], row["seconds"]),
                            ha="center", va="bottom", fontsize=8)  # fmt: skip
        ax.axvline(kill_at + 0.5, color="black", linestyle="--", label="worker killed")
        ax.set(
            xlabel="iteration (one Spark job each)", ylabel="job seconds", title="GD fit with a worker killed"
        )
        ax.legend()
        ax.grid(alpha=0.3, axis="y")
