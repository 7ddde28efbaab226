"""partitions: the same GD fit on 1, 2, 8, 64 and 512 partitions.

Every partition is a task in every iteration: more partitions use more of
the task slots, but each task costs scheduling, shipping and a Python
round trip whatever its size. The page shows where the two meet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jobs.data.synthetic import synthetic_data
from jobs.experiments.monitoring import live_numbers, percentile, select_group, summarize_tasks
from jobs.experiments.plots import drawn
from jobs.gd import fit_gd

NAME = "partitions"
QUESTION = (
    "How does the number of partitions change a GD fit's time per iteration: where does "
    "parallelism stop paying for the per-task overhead?"
)


@dataclass(frozen=True)
class Plan:
    partitions: tuple[int, ...]
    rows: int
    iterations: int


FULL = Plan(partitions=(1, 2, 8, 64, 512), rows=200_000, iterations=3)
SMALLEST = Plan(partitions=(1, 4), rows=2_000, iterations=2)


def measure(ctx) -> dict:
    """Spark part (driver): one application, the fit once per partition count."""

    plan = SMALLEST if ctx.smallest else FULL
    runs = []
    with ctx.session("fits") as spark:
        sc = spark.sparkContext
        for partitions in plan.partitions:
            ctx.group(sc, f"load-{partitions}")
            data = synthetic_data(sc, plan.rows, partitions=partitions, seed=1)  # cached here
            group = ctx.group(sc, f"fit-{partitions}", f"GD fit on {partitions} partitions")
            result = fit_gd(sc, data, iterations=plan.iterations, lr=0.1)
            data.blocks.unpersist(blocking=True)
            ctx.progress(f"{partitions} partitions: {plan.iterations} iterations done")
            runs.append({"partitions": partitions, "group": group, "final_train_mse": result.train_mse[-1]})
        numbers = live_numbers(sc, groups=[run["group"] for run in runs])
        slots = sc.defaultParallelism
    return {"plan": asdict(plan), "slots": slots, "runs": runs, "numbers": numbers}


def summarize(result: dict) -> dict:
    """The page's figures and answer, from the measured numbers alone (pure)."""
    numbers = result["numbers"]
    rows = []
    for run in result["runs"]:
        picked = select_group(numbers["jobs"], numbers["stages"], numbers["tasks"], run["group"])
        iteration = [job["seconds"] for job in picked["jobs"] if job["seconds"] is not None]
        tasks = summarize_tasks(picked["tasks"])
        rows.append(
            {
                "partitions": run["partitions"],
                "jobs": len(picked["jobs"]),
                "stages": len(picked["stages"]),
                "tasks": tasks["succeeded"],
                "tasks_per_iteration": tasks["succeeded"] / max(1, len(picked["jobs"])),
                "iteration_seconds": percentile(iteration, 50),
                "task_median_seconds": tasks["median_seconds"],
                "task_p95_seconds": tasks["p95_seconds"],
                "task_max_seconds": tasks["max_seconds"],
                "run_share": tasks["run_seconds_total"] / tasks["seconds_total"]
                if tasks["seconds_total"]
                else 0.0,
                "task_seconds": [t["seconds"] for t in picked["tasks"] if t["status"] == "SUCCESS"],
            }
        )
    return {"rows": rows, "answer": answer(rows, result["slots"])}


def answer(rows: list[dict], slots: int) -> str:
    by_parts = {row["partitions"]: row for row in rows}
    best = min(rows, key=lambda row: row["iteration_seconds"])
    most = max(rows, key=lambda row: row["partitions"])
    fewest = min(rows, key=lambda row: row["partitions"])
    said = [
        f"Fastest with {best['partitions']} partition{'s' * (best['partitions'] > 1)}: "
        f"{best['iteration_seconds'] * 1000:.0f} ms per iteration on {slots} task slot{'s' * (slots > 1)}."
    ]
    if fewest is not best:
        said.append(
            f"{fewest['partitions']} partition{'s' * (fewest['partitions'] > 1)} took "
            f"{fewest['iteration_seconds'] / best['iteration_seconds']:.2f}x as long"
            + (" (one task: one slot busy, the others idle)." if fewest["partitions"] < slots else ".")
        )
    if most is not best:
        extra = most["tasks_per_iteration"] - best["tasks_per_iteration"]
        per_task = (most["iteration_seconds"] - best["iteration_seconds"]) / extra if extra else 0.0
        said.append(
            f"{most['partitions']} partitions took "
            f"{most['iteration_seconds'] / best['iteration_seconds']:.2f}x "
            f"as long: {most['tasks_per_iteration']:.0f} tasks per iteration, each extra task adding about "
            f"{per_task * 1000:.1f} ms to an iteration; their median task ran "
            f"{most['task_median_seconds'] * 1000:.1f} ms, {most['run_share']:.0%} of "
            f"it in the task's own code."
        )
    else:
        said.append(
            "The most partitions were the fastest: the tasks still do enough work to pay for themselves."
        )
    if 1 in by_parts and best["partitions"] == 1:
        said.append("The data is small enough that a second task never paid for itself.")
    return " ".join(said)


# The page's table, a column each: row key="column title {format}" (registry.columns).
TABLE = dict(
    partitions="partitions {:d}", jobs="jobs {:d}", tasks="tasks {:d}",
    iteration_seconds="median s / iteration {:.3f}", task_median_seconds="median task s {:.4f}",
    task_p95_seconds="p95 task s {:.4f}", task_max_seconds="max task s {:.4f}",
    run_share="share running code {:.0%}",
)  # fmt: skip


def plot(result: dict, summary: dict, path) -> None:
    """Host only: time per iteration and the per-task time distribution."""
    rows = summary["rows"]
    with drawn(path, 1, 2, figsize=(11, 4)) as (fig, (left, right)):
        parts = [row["partitions"] for row in rows]
        left.plot(parts, [row["iteration_seconds"] for row in rows], marker="o")
        left.set(xscale="log", xlabel="partitions", ylabel="median seconds per iteration",
                 title="Time per GD iteration")  # fmt: skip
        left.set_xticks(parts, [str(p) for p in parts])
        left.grid(alpha=0.3)
        right.boxplot([row["task_seconds"] for row in rows], tick_labels=[str(p) for p in parts])
        right.set(
            yscale="log", xlabel="partitions", ylabel="task duration (s)", title="Per-task times (every task)"
        )
        right.grid(alpha=0.3)
        fig.suptitle(
            f"{result['plan']['rows']} synthetic rows, {result['plan']['iterations']} iterations each"
        )
