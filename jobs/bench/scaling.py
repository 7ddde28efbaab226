"""Time per iteration against rows on seeded synthetic data: SparkLab's GD
(one job per iteration, and the one-job fit), numpy in one process (the
floor) and the article's way; plus the checks every variant passes first."""

from __future__ import annotations

import statistics
import time

import numpy as np

from jobs.bench import article
from jobs.bench.plan import BYTES_PER_ROW, MEMORY_SHARE, RTOL, Measured, Plan, block_holders, fitting_sizes
from jobs.data.synthetic import synthetic_arrays, synthetic_data
from jobs.gd import baseline_weights, fit_gd


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
    steps = plan.scaling_iterations
    holders, memory = block_holders(sc)
    sizes, left_out = fitting_sizes(plan.sizes, holders, memory)
    for rows in left_out:
        say(
            f"scaling: {rows:,} rows left out: ~{rows * BYTES_PER_ROW / 2**20:.0f} MB of blocks do not fit "
            f"{holders} x {memory / 2**20:.0f} MB here (each holder may use 1/{MEMORY_SHARE})"
        )
    for rows in sizes:
        data = synthetic_data(sc, rows, partitions=partitions)
        x, y, x_test, y_test = synthetic_arrays(rows, partitions, seed=1)
        w0 = baseline_weights(data)
        fit_gd(sc, data, iterations=1)  # fill the cache before timing
        # The one-job fit reads each block once per fit and then only computes:
        # its time per iteration is read on the driver between the first and
        # the last step's partial sums, the fit's fixed cost left out.
        loop_seconds: list[float] = []

        def one_job_fit(data=data, loop_seconds=loop_seconds):
            stamps: list[float] = []
            fit_gd(
                sc,
                data,
                iterations=steps * 4,
                lr=0.1,
                one_job=True,
                on_step=lambda *_: stamps.append(time.perf_counter()),
            )
            loop_seconds.append((stamps[-1] - stamps[0]) / (len(stamps) - 1))

        variants = {
            "sparklab": lambda data=data: fit_gd(sc, data, iterations=steps, lr=0.1),
            "one_job": one_job_fit,
            "numpy": lambda x=x, y=y, xt=x_test, yt=y_test, w0=w0: numpy_gd(x, y, xt, yt, w0, steps, 0.1),
        }
        records = None
        if rows <= plan.article_max_rows:
            records = article.records(data)
            variants["article"] = lambda rec=records, w0=w0: article.article_gd(
                sc, rec[0], rec[1], w0, iterations=steps, lr=0.1
            )
        check(
            f"synthetic {rows}: numpy",
            numpy_gd(x, y, x_test, y_test, w0, steps, 0.1)[0],
            fit_gd(sc, data, iterations=steps).weights,
        )
        measured = Measured()
        measured.run(variants, plan.repeats, echo=False)
        entry = {
            "rows": rows,
            **{
                f"{name}_per_iteration": measured.median(name) / steps
                for name in variants
                if not name.startswith("one_job")
            },
        }
        entry["one_job_per_iteration"] = statistics.median(loop_seconds)
        entry["one_job_fit_seconds"] = measured.median("one_job")
        say(
            f"scaling: {rows:>9,} rows  "
            + "  ".join(
                f"{key.removesuffix('_per_iteration')} {value * 1000:.2f} ms/it"
                for key, value in entry.items()
                if key.endswith("_per_iteration")
            )
        )
        rows_out.append(entry)
        data.blocks.unpersist()
        if records:
            records[0].unpersist()
            records[1].unpersist()
        del x, y, x_test, y_test
    return rows_out, left_out
