"""The fit loop of the regression jobs: `weights = update(weights, sum of the
kernel's Partials over the blocks)`, one Spark job per iteration, or one
barrier job for the whole fit (with `jobs.fit.allreduce`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Any

import numpy as np

from jobs.errors import JobError
from jobs.fit.allreduce import AllReduceServer, run_task
from jobs.fit.kernels import Partials
from jobs.fit.resident import LOST, attach, resident_blocks
from jobs.runtime.conf import conf_value

if TYPE_CHECKING:
    from pyspark import RDD, SparkContext


def sum_partials(blocks: RDD, kernel: Callable[[Any], Partials]) -> Partials:
    """Apply `kernel` to every block and add the Partials.

    The partials are added on the driver in partition order, not in the order
    tasks finish (as `reduce` does), so a run is bit-identical to any other
    with the same partitioning: after a retried task, a lost worker or on
    another cluster size.
    """

    def per_partition(index, items):
        total = None
        for item in items:
            part = kernel(item)
            total = part if total is None else total + part
        if total is not None:
            yield index, total

    partials = sorted(blocks.mapPartitionsWithIndex(per_partition).collect(), key=lambda pair: pair[0])
    return reduce(add, (part for _, part in partials))


Kernel = Callable[[Any, np.ndarray], Partials]  # (block, weights) -> that block's partial sums
Update = Callable[[np.ndarray, Partials], np.ndarray]  # (weights, summed partials) -> next weights


def iterate(
    sc: SparkContext,
    blocks: RDD,
    kernel: Kernel,
    initial: Callable[[], np.ndarray],
    update: Update,
    iterations: int,
    *,
    one_job: bool = False,
    resident: bool = False,
) -> np.ndarray:
    """Run `iterations` steps of `weights = update(weights, sum of kernel(block, weights))`.

    Per iteration ONE Spark job, the weights carried in its tasks' closure:
    a few hundred numbers at most (k models of the features), where a
    broadcast's own bookkeeping (a file, a block, its removal) would cost
    about 5 ms of a 30 ms iteration here; pyspark broadcasts a closure by
    itself past 1 MB. With `resident`, the blocks stay in the executors'
    memory between those jobs (see jobs.fit.resident). With `one_job`, the
    whole loop runs as a single barrier job (see jobs.fit.allreduce).
    `initial()` may be called more than once: when a rerun barrier job
    starts the fit over, it resets whatever `update` records.
    """
    if one_job:
        return _iterate_in_one_job(sc, blocks, kernel, initial, update, iterations)
    weights, done = initial(), 0

    def steps(items: RDD) -> None:
        nonlocal weights, done
        while done < iterations:
            partials = sum_partials(items, lambda item, weights=weights: kernel(attach(item), weights))
            weights = update(weights, partials)
            done += 1

    if resident:
        with resident_blocks(blocks) as handles:
            try:
                steps(handles)
            except Exception as error:  # pyspark's PythonException, carrying the task's error
                if LOST not in str(error):
                    raise
                # A task ran on another executor than its block's (Spark's
                # locality wait ran out): the same steps go on over the blocks.
                print(f"fit: {LOST} at step {done + 1}; the fit goes on copying its blocks", file=sys.stderr)
    steps(blocks)
    return weights


def _iterate_in_one_job(sc, blocks, kernel, initial, update, iterations) -> np.ndarray:
    partitions = blocks.getNumPartitions()
    slots = sc.defaultParallelism
    if slots < partitions:
        raise JobError(
            f"--one-job runs all {partitions} partitions at once (a barrier stage) but only {slots} task "
            f"slots exist; use --partitions {slots} or add workers"
        )
    # The summed vector unflattens to Partials by the weights' shape.
    weights_shape = initial().shape
    state: dict[str, Any] = {}

    def start() -> np.ndarray:
        state["weights"], state["step"] = initial(), 0
        return state["weights"].ravel()

    def step(flat: np.ndarray) -> np.ndarray | None:
        state["weights"] = update(state["weights"], Partials.unflatten(flat, weights_shape))
        state["step"] += 1
        return None if state["step"] >= iterations else state["weights"].ravel()

    host = conf_value(sc, "spark.driver.host")
    server = AllReduceServer(host, partitions, start, step)
    task = _barrier_task(kernel, server.address, server.token, weights_shape)
    try:
        _collect_with_retries(sc, blocks.barrier().mapPartitionsWithIndex(task), server)
    finally:
        server.close()
    if server.error is not None:
        raise server.error
    if state.get("step") != iterations:
        raise JobError(f"the one-job fit stopped after {state.get('step')} of {iterations} iterations")
    return state["weights"]


def _barrier_task(kernel, address, token, shape):
    """The barrier stage's task (on the executors): its blocks held in the task,
    each step's partial sums exchanged with the driver's all-reduce server."""

    def task(partition, items):
        from pyspark import BarrierTaskContext  # lazy: pyspark, loaded only when used

        context = BarrierTaskContext.get()
        local = list(items)

        def partial(flat_weights):
            weights = flat_weights.reshape(shape)
            return reduce(add, (kernel(block, weights) for block in local)).flatten()

        yield run_task(address, token, partition, context.taskAttemptId(), partial)

    return task


def _collect_with_retries(sc, barrier_job, server: AllReduceServer) -> None:
    """Run the barrier job, again after a lost task or executor.

    One stage, one job. Spark does not retry a failed barrier result stage
    (it aborts the job), so a lost task or executor is retried here: the
    job runs again, recomputing lost blocks from lineage, and the server
    starts the fit over with the new tasks. (A shuffle after the barrier
    stage would make Spark retry it, for a second stage in every fit.)
    """
    from py4j.protocol import Py4JJavaError  # lazy: pyspark, loaded only when used

    attempts = int(conf_value(sc, "spark.stage.maxConsecutiveAttempts", "4"))
    for attempt in range(1, attempts + 1):
        try:
            barrier_job.collect()
            return
        except Py4JJavaError as error:
            if server.error is not None:
                raise
            reason = str(error.java_exception).splitlines()[0][:300]
            if attempt == attempts:
                raise JobError(
                    f"the one-job fit failed {attempts} times in a row "
                    f"(spark.stage.maxConsecutiveAttempts); the last time: {reason}"
                ) from error
            print(f"one-job fit: attempt {attempt} of {attempts} failed ({reason}); again", file=sys.stderr)
