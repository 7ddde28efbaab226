"""data-size: time per GD iteration against the number of rows, from the wine
data (4,898 rows) to millions of synthetic rows, on local[*] (in the driver
container) and on the cluster with one worker's executor and with every
worker's.

Every iteration pays a fixed cost (a job, its tasks, the Python workers,
results back to the driver) and a cost per row. Small data sees only the
first; the cluster adds network hops and separate JVMs to it, and can only
win once the per-row work is large enough AND it brings more cores than
local[*] has on this machine.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from jobs.data.synthetic import synthetic_data
from jobs.data.table import load_table
from jobs.experiments.monitoring import live_numbers, percentile, select_group, summarize_tasks
from jobs.experiments.plots import drawn
from jobs.gd import fit_gd

NAME = "data-size"
QUESTION = (
    "How does the time per iteration grow with the rows on local[*], one worker and every worker: "
    "where does per-job overhead stop dominating, and does the cluster ever overtake local[*] here?"
)
WINE = 0  # a size of 0 rows means the wine data


@dataclass(frozen=True)
class Plan:
    rows: tuple[int, ...]
    iterations: int
    runtimes: tuple[str, ...]


RUNTIMES = {
    "cluster": "the cluster, every worker",
    "one-worker": "the cluster, one executor (spark.cores.max 1)",
    "local": "local[*] in the driver container",
}
FULL = Plan(
    rows=(WINE, 20_000, 200_000, 1_000_000, 2_000_000),
    iterations=4,
    runtimes=("cluster", "one-worker", "local"),
)
SMALLEST = Plan(rows=(WINE, 10_000), iterations=2, runtimes=("cluster", "local"))


def _session_args(runtime: str) -> dict:
    # "cluster" asks for what spark-submit was given: the application already open, when there is one.
    return {"one-worker": {"conf": {"spark.cores.max": "1"}}, "local": {"master": "local[*]"}}.get(
        runtime, {}
    )


def task_slots(master: str, cores_max: str | None, default_parallelism: int) -> int:
    """The task slots an application has: local[*]'s cores, or on a standalone
    master the cores it asked for (spark.cores.max, one slot each). Spark's
    default parallelism is no count of slots there: it is at least 2."""
    if master.startswith("local") or not cores_max:
        return default_parallelism
    return min(int(cores_max), default_parallelism)


def measure(ctx) -> dict:
    """Spark part (driver): per runtime one application, the fit at every size."""

    plan = SMALLEST if ctx.smallest else FULL
    runs, numbers = [], {}
    for runtime in plan.runtimes:
        with ctx.session(runtime, **_session_args(runtime)) as spark:
            sc = spark.sparkContext
            partitions = sc.defaultParallelism
            slots = task_slots(sc.master, sc.getConf().get("spark.cores.max"), partitions)
            groups = []
            for rows in plan.rows:
                ctx.group(sc, f"{runtime}-load-{rows}")
                if rows == WINE:
                    data = load_table(spark, ctx.data, partitions=partitions)
                    data.blocks.count()  # cached before the fit
                else:
                    data = synthetic_data(sc, rows, partitions=partitions, seed=1)
                group = ctx.group(sc, f"{runtime}-{rows}", f"GD on {rows or 'the wine'} rows, {runtime}")
                fit_gd(sc, data, iterations=plan.iterations)
                data.blocks.unpersist(blocking=True)
                groups.append(group)
                runs.append({"runtime": runtime, "rows": data.n_train + data.n_test, "group": group,
                             "app_id": sc.applicationId, "slots": slots})  # fmt: skip
                ctx.progress(f"{RUNTIMES[runtime]}: {data.n_train + data.n_test} rows done")
            numbers[runtime] = live_numbers(sc, groups=groups)
    return {"plan": asdict(plan), "cpus": os.cpu_count(), "runs": runs, "numbers_by_runtime": numbers}


def summarize(result: dict) -> dict:
    """The page's figures and answer, from the measured numbers alone (pure)."""
    rows = []
    for run in result["runs"]:
        numbers = result["numbers_by_runtime"][run["runtime"]]
        picked = select_group(numbers["jobs"], numbers["stages"], numbers["tasks"], run["group"])
        tasks = summarize_tasks(picked["tasks"])
        seconds = percentile([job["seconds"] for job in picked["jobs"] if job["seconds"] is not None], 50)
        rows.append(
            {
                "runtime": run["runtime"],
                "label": RUNTIMES[run["runtime"]],
                "rows": run["rows"],
                "slots": run["slots"],
                "jobs": len(picked["jobs"]),
                "tasks": tasks["succeeded"],
                "iteration_seconds": seconds,
                "microseconds_per_row": seconds / run["rows"] * 1e6,
                "task_median_seconds": tasks["median_seconds"],
            }
        )
    return {"rows": rows, "answer": answer(rows, result.get("cpus"))}


def answer(rows: list[dict], cpus: int | None) -> str:
    by_runtime: dict[str, list[dict]] = {}
    for row in rows:
        by_runtime.setdefault(row["runtime"], []).append(row)
    said = []
    for runtime, mine in by_runtime.items():
        mine = sorted(mine, key=lambda row: row["rows"])
        floor = mine[0]["iteration_seconds"]
        past = next((row for row in mine if row["iteration_seconds"] >= 2 * floor), None)
        said.append(
            f"{_capital(RUNTIMES[runtime])} ({mine[0]['slots']} slot{'s' * (mine[0]['slots'] > 1)}): "
            f"{floor * 1000:.0f} ms per iteration at {mine[0]['rows']} rows, "
            f"{mine[-1]['iteration_seconds'] * 1000:.0f} ms "
            f"at {mine[-1]['rows']}; "
            + (
                f"the rows' own work outweighed the fixed cost from {past['rows']} rows on."
                if past
                else f"the fixed cost still dominated at {mine[-1]['rows']} rows."
            )
        )
    local = {row["rows"]: row["iteration_seconds"] for row in by_runtime.get("local", [])}
    for runtime in ("cluster", "one-worker"):
        if runtime not in by_runtime or not local:
            continue
        ahead = [row for row in sorted(by_runtime[runtime], key=lambda r: r["rows"])
                 if row["rows"] in local and row["iteration_seconds"] < local[row["rows"]]]  # fmt: skip
        first = min(row["rows"] for row in by_runtime[runtime])
        if ahead and ahead[0]["rows"] == first:
            said.append(f"{_capital(RUNTIMES[runtime])} was faster than local[*] from {first} rows on.")
        elif ahead:
            said.append(f"{_capital(RUNTIMES[runtime])} overtook local[*] at {ahead[0]['rows']} rows.")
        else:
            slots = by_runtime[runtime][0]["slots"]
            local_slots = by_runtime["local"][0]["slots"]
            why = (
                f"it brings {slots} task slot{'s' * (slots > 1)} against local[*]'s "
                f"{local_slots} on a machine of "
                f"{cpus} CPUs, so it adds hops and JVMs but no cores"
                if slots <= local_slots
                else "even with more slots, the rows measured were too few"
            )
            said.append(
                f"{_capital(RUNTIMES[runtime])} never overtook local[*] up to {max(local)} rows: {why}."
            )
    return " ".join(said)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# The page's table, a column each: row key="column title {format}" (registry.columns).
TABLE = dict(
    label="runtime {}", rows="rows {:d}", slots="slots {:d}", jobs="jobs {:d}", tasks="tasks {:d}",
    iteration_seconds="median s / iteration {:.3f}", microseconds_per_row="us per row {:.2f}",
    task_median_seconds="median task s {:.3f}",
)  # fmt: skip


def plot(result: dict, summary: dict, path) -> None:
    """Host only: seconds per iteration against rows, one line per runtime (log-log)."""
    with drawn(path, figsize=(7, 4.5)) as (_, ax):
        for runtime, label in RUNTIMES.items():
            mine = sorted(
                (row for row in summary["rows"] if row["runtime"] == runtime), key=lambda row: row["rows"]
            )
            if mine:
                ax.plot(
                    [r["rows"] for r in mine], [r["iteration_seconds"] for r in mine], marker="o", label=label
                )
        ax.set(xscale="log", yscale="log", xlabel="rows", ylabel="median seconds per iteration",
               title="GD: time per iteration against data size")  # fmt: skip
        ax.legend()
        ax.grid(alpha=0.3, which="both")
