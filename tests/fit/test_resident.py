"""Blocks kept in the Python workers between jobs (jobs.fit.resident): the
cache's bounds without Spark, then the same answers as the RDD itself,
whatever the partitioning and whether or not a worker holds a copy."""

import numpy as np
import pytest

from jobs.data.table import Block
from jobs.fit.kernels import gd_partials
from jobs.fit.resident import Resident, WorkerCache, resident, size_of


def arrays(rows: int) -> list[np.ndarray]:
    return [np.zeros((rows, 12)), np.zeros(rows)]


def test_size_of_counts_the_arrays_in_blocks_lists_and_tuples():
    block = Block(np.arange(10), np.zeros((10, 12)), np.zeros(10), np.zeros((3, 12)), np.zeros(3))
    assert size_of(block) == 8 * (10 + 120 + 10 + 36 + 3)
    assert size_of([block, (np.zeros(4), "not an array")]) == size_of(block) + 32
    assert size_of(7) == 0


def test_the_cache_drops_the_least_recently_used_to_stay_within_its_budget():
    one = size_of(arrays(100))
    cache = WorkerCache(budget=2 * one)
    assert cache.put("a", arrays(100))
    assert cache.put("b", arrays(100))
    assert cache.get("a") is not None  # "a" is now the most recently used
    assert cache.put("c", arrays(100))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None
    assert cache.used == 2 * one


def test_items_larger_than_the_budget_are_not_kept_and_push_nothing_out():
    cache = WorkerCache(budget=size_of(arrays(100)))
    assert cache.put("a", arrays(100))
    assert not cache.put("big", arrays(101))
    assert cache.get("big") is None
    assert cache.get("a") is not None


def test_putting_a_key_again_replaces_its_items_and_their_size():
    cache = WorkerCache(budget=10**6)
    cache.put("a", arrays(100))
    cache.put("a", arrays(10))
    assert len(cache) == 1
    assert cache.used == size_of(arrays(10))


# A lambda: the workers cannot import this test module, so the function
# travels by value.
row_sums = lambda _index, items: [float(np.sum(item)) for item in items]  # noqa: E731


@pytest.mark.parametrize("partitions", [1, 2, 3])
def test_every_partitions_answer_comes_back_in_partition_order(spark, partitions):
    sc = spark.sparkContext
    rdd = sc.parallelize([np.full(5, float(i)) for i in range(7)], partitions).cache()
    want = [row_sums(i, items) for i, items in enumerate(rdd.glom().collect())]
    handle = Resident(rdd)
    assert handle.map_partitions(row_sums) == want
    assert handle.read_from_rdd == partitions  # the first time, from the RDD
    for _ in range(3):  # later, from the workers' copies, or the RDD where a worker has none
        assert handle.map_partitions(row_sums) == want
    rdd.unpersist()


def test_a_worker_without_the_copy_reads_the_rdd_itself(spark):
    sc = spark.sparkContext
    rdd = sc.parallelize([np.arange(4.0) + i for i in range(4)], 2).cache()
    handle = Resident(rdd)
    want = handle.map_partitions(row_sums)
    read = handle.read_from_rdd
    # As if every worker were new (or had dropped its copy): no copy under this key.
    handle.key = (*handle.key, "elsewhere")
    assert handle.map_partitions(row_sums) == want
    assert handle.read_from_rdd == read + 2
    rdd.unpersist()


def test_an_uncached_rdd_is_kept_with_its_anchors_partitions(spark):
    sc = spark.sparkContext
    anchor = sc.parallelize(range(6), 3).cache()
    derived = anchor.map(lambda n: np.full(2, float(n)))
    handle = Resident(derived, anchor=anchor)
    want = [[2.0 * n for n in range(p * 2, p * 2 + 2)] for p in range(3)]
    for _ in range(3):
        assert handle.map_partitions(row_sums) == want
    anchor.unpersist()


def test_the_handle_is_the_same_for_the_same_rdd_object(spark):
    rdd = spark.sparkContext.parallelize(range(2), 2)
    assert resident(rdd) is resident(rdd)
    assert resident(rdd) is not resident(rdd.map(lambda n: n))


def test_the_kernels_answers_from_kept_blocks_equal_numpy_on_the_whole_data(spark):
    sc = spark.sparkContext
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(300, 12)), rng.normal(size=300)
    w = rng.normal(size=12)
    blocks = [(x[i::3], y[i::3]) for i in range(3)]
    rdd = sc.parallelize(blocks, 3).cache()
    handle = Resident(rdd)
    for _ in range(3):
        parts = handle.map_partitions(
            lambda _i, items: gd_partials(items[0][0], items[0][1], items[0][0][:0], items[0][1][:0], w)
        )
        total = parts[0] + parts[1] + parts[2]
        np.testing.assert_allclose(total.gradient, x.T @ (x @ w - y), rtol=1e-9)
        np.testing.assert_allclose(total.train_sse, np.sum((x @ w - y) ** 2), rtol=1e-9)
    rdd.unpersist()
