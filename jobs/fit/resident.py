"""Blocks kept in the Python workers between Spark jobs.

A fit with one Spark job per iteration reads every cached block again in
every job: the JVM's block manager holds it pickled, and each task streams
it into a Python worker and unpickles it (at 4e6 rows, ~416 MB a job). The
Python workers are reused between tasks (`spark.python.worker.reuse`), so a
worker can keep what it unpickled: `Resident.map_partitions` runs a
function on every partition's items, taken from the worker's own copy
where it has one, and otherwise from the JVM's cached copy (which the
worker then keeps).

Correct whatever happens to the workers: a copy is keyed by the
application, the RDD and the partition, and an RDD's content never changes;
a task that lands on a worker without the copy (another worker, a new one
after a loss, an evicted copy) answers "not here", and the driver runs that
partition again over the RDD itself, recomputed from lineage if Spark lost
it. Memory is bounded: each worker keeps at most `default_budget()` bytes,
the least recently used copies dropped first.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pyspark import RDD

# Each worker process keeps at most this share of the machine's memory.
MEMORY_SHARE = 16


def default_budget() -> int:
    """Bytes one worker process may keep: 1/MEMORY_SHARE of the machine's memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MEMORY_SHARE


def size_of(value: Any) -> int:
    """Bytes held by the numpy arrays in `value`: an array, a dataclass, or a list or tuple of them."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if is_dataclass(value) and not isinstance(value, type):
        return sum(size_of(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, (list, tuple)):
        return sum(size_of(item) for item in value)
    return 0


class WorkerCache:
    """Items by key, the least recently used dropped first to stay within `budget` bytes."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self._entries: OrderedDict[Hashable, tuple[list, int]] = OrderedDict()

    def get(self, key: Hashable) -> list | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, items: list) -> bool:
        """Keep `items` under `key`; False (and nothing kept) when they alone exceed the budget."""
        self.drop(key)
        size = size_of(items)
        if size > self.budget:
            return False
        while self.used + size > self.budget:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.used -= dropped
        self._entries[key] = (items, size)
        self.used += size
        return True

    def drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry[1]

    def __len__(self) -> int:
        return len(self._entries)


_worker_cache: WorkerCache | None = None


def worker_cache() -> WorkerCache:
    """This process's cache (a Python worker's, kept while Spark reuses the worker)."""
    global _worker_cache
    if _worker_cache is None:
        _worker_cache = WorkerCache(default_budget())
    return _worker_cache


class Resident:
    """The driver's handle on an RDD whose partitions the workers keep.

    `anchor` is an RDD with the same partitions (by default `rdd` itself);
    when it is cached, tasks follow its blocks' locations, so on a cluster
    a partition's task goes where its copy was made.
    """

    def __init__(self, rdd: RDD, anchor: RDD | None = None):
        self.rdd = rdd
        anchor = rdd if anchor is None else anchor
        self.anchor = anchor if anchor.is_cached else None
        self.key = (rdd.context.applicationId, rdd.id())
        self.read_from_rdd = 0  # partitions read from the RDD itself (first time, or not kept there)
        self._indices: RDD | None = None

    def map_partitions(self, fn: Callable[[int, list], Any]) -> list:
        """[fn(index, items) for every partition], in partition order; one job
        when every task finds its worker's copy, a second for those that do not."""
        partitions = self.rdd.getNumPartitions()
        results: dict[int, Any] = {}
        key = self.key
        if self.read_from_rdd:  # copies exist somewhere: ask the workers first

            def kept(index, nothing):
                for _ in nothing:  # (empty) read to its end: the worker stays reusable
                    pass
                items = worker_cache().get((*key, index))
                yield index, items is not None, None if items is None else fn(index, items)

            for index, found, result in self._index_rdd().mapPartitionsWithIndex(kept).collect():
                if found:
                    results[index] = result
        missing = [index for index in range(partitions) if index not in results]
        if missing:

            def read(index, items):
                items = list(items)
                worker_cache().put((*key, index), items)
                yield index, fn(index, items)

            job = self.rdd.mapPartitionsWithIndex(read)
            for index, result in self.rdd.context.runJob(job, lambda rows: rows, missing):
                results[index] = result
            self.read_from_rdd += len(missing)
        return [results[index] for index in range(partitions)]

    def _index_rdd(self) -> RDD:
        """One task per partition and no rows, cached: the anchor's blocks
        sampled at rate 0 in the JVM (made where those blocks are; nothing
        sent to Python), or, without an anchor, the partition numbers.

        Cached, because reading a cached Python block, even to sample none
        of it, deserializes it in the JVM: ~0.1 s per 100 MB here."""
        if self._indices is None:
            from pyspark import RDD

            if self.anchor is not None:
                sampled = self.anchor._jrdd.sample(False, 0.0, 0).cache()
                self._indices = RDD(sampled, self.rdd.context, self.anchor._jrdd_deserializer)
            else:
                partitions = self.rdd.getNumPartitions()
                self._indices = self.rdd.context.parallelize(range(partitions), partitions).cache()
        return self._indices


def resident(rdd: RDD, anchor: RDD | None = None) -> Resident:
    """The handle for `rdd`, the same for as long as the RDD object lives
    (it rides on the object: a fit after a fit over the same blocks finds
    the workers' copies)."""
    handle = getattr(rdd, _HANDLE, None)
    if handle is None:
        handle = Resident(rdd, anchor)
        setattr(rdd, _HANDLE, handle)
    return handle


_HANDLE = "_sparklab_resident"
