"""The per-iteration all-reduce of the regression jobs: ONE Spark job."""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import TYPE_CHECKING, Any

from jobs.kernels import add_partials

if TYPE_CHECKING:
    from pyspark import RDD


def sum_partials(blocks: RDD, kernel: Callable[[Any], tuple]) -> tuple:
    """Apply `kernel` to every block and add the partial tuples.

    The partials are added on the driver in partition order, not in the order
    tasks finish (as `reduce` does), so a run is bit-identical to any other
    with the same partitioning: after a retried task, a lost worker or on
    another cluster size.
    """

    def per_partition(index, items):
        total = None
        for item in items:
            part = kernel(item)
            total = part if total is None else add_partials(total, part)
        if total is not None:
            yield index, total

    partials = sorted(blocks.mapPartitionsWithIndex(per_partition).collect(), key=lambda pair: pair[0])
    return reduce(add_partials, (part for _, part in partials))
