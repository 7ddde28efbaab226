"""Time per iteration against rows on seeded synthetic data: SparkLab's GD
(one job per iteration, and the one-job fit), numpy in one process, the
article's way, and two floors measured beside them: the memory floor (one
read pass over the same cached blocks, in the same barrier tasks on the same
cores) and an empty Spark job; plus the checks every variant passes first."""

from __future__ import annotations

import statistics
import time

import numpy as np

from jobs.bench import article
from jobs.bench.plan import BYTES_PER_ROW, MEMORY_SHARE, RTOL, Measured, Plan, block_holders, fitting_sizes
from jobs.data.synthetic import FEATURES, synthetic_arrays, synthetic_data
from jobs.fit.loop import iterate
from jobs.fit.resident import worth_resident
from jobs.gd import baseline_weights, fit_gd, read_pass_kernel


def numpy_gd(x, y, x_test, y_test, w0, iterations, lr):
    """The floor: the same iterations in one process, no Spark."""
    w = w0.copy()
    train, test = [], []
    for _ in range(iterations):
        r = x @ w - y
        t = x_test @ w - y_test
        train.append(r @ r / len(y))
        test.append(t @ t / len(y_test))
        w = w - lr * (x.T @ r) / len(y)
    return w, train, test


def check(name: str, got, want, rtol: float = RTOL) -> None:
    if not np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=rtol, atol=0):
        raise AssertionError(f"bench: {name} disagrees with SparkLab's result (rtol {rtol:g})")


def run_scaling(sc, plan: Plan, partitions: int, say) -> tuple[list[dict], list[int]]:
    """Seconds per iteration against rows: SparkLab's GD, numpy, the article's way.

    Returns the measurements and the sizes left out for lack of memory."""
    rows_out = []
    holders, memory = block_holders(sc)
    sizes, left_out = fitting_sizes(plan.sizes, holders, memory)
    for rows in left_out:
        say(
            f"scaling: {rows:,} rows left out: ~{rows * BYTES_PER_ROW / 2**20:.0f} MB of blocks do not fit "
            f"{holders} x {memory / 2**20:.0f} MB here (each holder may use 1/{MEMORY_SHARE})"
        )
    for rows in sizes:
        rows_out.append(_measure_size(sc, plan, rows, partitions))
        say(
            f"scaling: {rows:>9,} rows  "
            + "  ".join(
                f"{key.removesuffix('_per_iteration')} {value * 1000:.2f} ms/it"
                for key, value in rows_out[-1].items()
                if key.endswith("_per_iteration")
            )
        )
    return rows_out, left_out


def _measure_size(sc, plan: Plan, rows: int, partitions: int) -> dict:
    """One size's seconds per iteration, every variant checked against numpy first."""
    steps = plan.scaling_iterations
    data = synthetic_data(sc, rows, partitions=partitions)
    x, y, x_test, y_test = synthetic_arrays(rows, partitions, seed=1)
    w0 = baseline_weights(data)
    fit_gd(sc, data, iterations=1)  # fill the cache before timing
    reference = numpy_gd(x, y, x_test, y_test, w0, steps, 0.1)[0]
    check(f"synthetic {rows}: numpy", reference, fit_gd(sc, data, iterations=steps).weights)
    check(f"synthetic {rows}: one-job", reference, fit_gd(sc, data, iterations=steps, one_job=True).weights)
    empty = sc.parallelize(range(partitions), partitions).cache()
    empty.count()
    # The fits and the memory floor are timed per iteration between their
    # first and last steps (LoopTimes): a fit's fixed cost left out (the
    # barrier job's start; the resident blocks written and removed). The
    # one-job fit and the floor run more iterations than the others.
    per_iteration_loops, one_job_loops, floor_loops = LoopTimes(), LoopTimes(), LoopTimes()
    variants = {
        "sparklab": lambda: timed_fit(sc, data, steps, per_iteration_loops, one_job=False),
        "one_job": lambda: timed_fit(sc, data, steps * 4, one_job_loops, one_job=True),
        "memory_floor": lambda: read_pass_loop(sc, data, steps * 4, floor_loops),
        "empty_job": lambda: empty_jobs(empty, steps),
        "numpy": lambda: numpy_gd(x, y, x_test, y_test, w0, steps, 0.1),
    }
    records = article.records(data) if rows <= plan.article_max_rows else None
    if records:
        variants["article"] = lambda: article.article_gd(
            sc, records[0], records[1], w0, iterations=steps, lr=0.1
        )
    measured = Measured()
    measured.run(variants, plan.repeats, echo=False)
    entry = {"rows": rows}
    for name in variants:
        if name not in ("sparklab", "one_job", "memory_floor"):
            entry[f"{name}_per_iteration"] = measured.median(name) / steps
    entry["sparklab_per_iteration"] = per_iteration_loops.median()
    entry["sparklab_resident"] = worth_resident(rows, FEATURES + 2)
    entry["one_job_per_iteration"] = one_job_loops.median()
    entry["memory_floor_per_iteration"] = floor_loops.median()
    entry["one_job_fit_seconds"] = measured.median("one_job")
    for cached in (empty, data.blocks, *(records or ())):
        cached.unpersist()
    return entry


class LoopTimes:
    """Seconds per iteration inside fits, read on the driver between the
    first and the last step's partial sums: the fit's fixed cost (a barrier
    job's start, each block read once into its task; resident blocks
    written and removed) left out."""

    def __init__(self) -> None:
        self.per_iteration: list[float] = []

    def add(self, stamps: list[float]) -> None:
        self.per_iteration.append((stamps[-1] - stamps[0]) / (len(stamps) - 1))

    def median(self) -> float:
        return statistics.median(self.per_iteration)


def timed_fit(sc, data, iterations: int, loops: LoopTimes, *, one_job: bool) -> None:
    stamps: list[float] = []
    fit_gd(
        sc,
        data,
        iterations=iterations,
        lr=0.1,
        one_job=one_job,
        on_step=lambda *_: stamps.append(time.perf_counter()),
    )
    loops.add(stamps)


def read_pass_loop(sc, data, iterations: int, loops: LoopTimes) -> None:
    """The memory floor, through the one-job fit's own loop: the same barrier
    tasks holding the same blocks, the same all-reduce round trip per
    iteration; the kernel only reads every array of the block once (its sum)."""
    stamps: list[float] = []

    def update(weights, _partials):
        stamps.append(time.perf_counter())
        return weights

    iterate(
        sc, data.blocks, read_pass_kernel, lambda: baseline_weights(data), update, iterations, one_job=True
    )
    loops.add(stamps)


def empty_jobs(empty, jobs: int) -> None:
    """`jobs` empty Spark jobs, one task per partition: the scheduling floor of an iteration."""
    for _ in range(jobs):
        # Read to its end: a Python task that leaves input unread loses its worker.
        empty.map(lambda row: row).collect()
