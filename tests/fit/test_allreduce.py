"""The one-job fit's all-reduce server, with real sockets and threads (no Spark)."""

import contextlib
import socket
import struct
import threading

import numpy as np
import pytest

from jobs.fit.allreduce import AllReduceServer, run_task

PARTITIONS = 3
STEPS = 40


def make_server():
    history = []

    def initial():
        history.clear()
        return np.zeros(2)

    def update(total):
        history.append(total.copy())
        return None if len(history) >= STEPS else np.array([len(history), total[0]], dtype=float)

    return AllReduceServer("127.0.0.1", PARTITIONS, initial, update, timeout=10), history


def kernel_for(partition):
    return lambda weights: np.array([weights[0] + partition, weights[1] * 0.5 + 1.0])


def start_tasks(server, first_task_id, die_at=None):
    """One thread per partition; the task of `die_at[0]` drops its socket at step `die_at[1]`."""
    threads = []
    for partition in range(PARTITIONS):
        kernel = kernel_for(partition)
        if die_at and die_at[0] == partition:
            calls = {"n": 0}

            def kernel(weights, inner=kernel, calls=calls):
                calls["n"] += 1
                if calls["n"] == die_at[1]:
                    raise ConnectionAbortedError("task killed")
                return inner(weights)

        thread = threading.Thread(
            target=lambda p=partition, k=kernel: _quietly(
                run_task, server.address, server.token, p, first_task_id + p, k, 10
            ),
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads


def _quietly(fn, *args):
    with contextlib.suppress(OSError, ConnectionError):  # the killed task's own error
        fn(*args)


def test_the_server_sums_in_partition_order_each_step():
    server, history = make_server()
    try:
        for thread in start_tasks(server, first_task_id=100):
            thread.join(timeout=20)
    finally:
        server.close()
    assert server.error is None
    assert len(history) == STEPS
    weights = np.zeros(2)
    for step, total in enumerate(history, start=1):  # replay: the tasks' vectors at that step's weights
        expected = kernel_for(0)(weights) + kernel_for(1)(weights) + kernel_for(2)(weights)
        np.testing.assert_array_equal(total, expected)
        weights = np.array([step, total[0]], dtype=float)


def test_a_task_lost_mid_fit_restarts_the_fit_with_the_retried_tasks():
    undisturbed, reference = make_server()
    try:
        for thread in start_tasks(undisturbed, first_task_id=10):
            thread.join(timeout=20)
    finally:
        undisturbed.close()
    server, history = make_server()
    try:
        first = start_tasks(server, first_task_id=100, die_at=(1, 7))
        for thread in first:
            thread.join(timeout=20)
        # The barrier job run again: new tasks, higher task ids.
        for thread in start_tasks(server, first_task_id=200):
            thread.join(timeout=20)
    finally:
        server.close()
    assert server.error is None
    assert len(history) == STEPS
    for got, want in zip(history, reference, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_connection_without_the_token_is_rejected_and_the_fit_goes_on():
    server, history = make_server()
    try:
        with socket.create_connection(server.address, timeout=5) as intruder:
            intruder.sendall(struct.pack("!32sQI", b"x" * 32, 999, 0))
            intruder.settimeout(5)
            assert intruder.recv(1) == b""  # closed on us, nothing read or sent
        for thread in start_tasks(server, first_task_id=100):
            thread.join(timeout=20)
    finally:
        server.close()
    assert server.rejected == 1
    assert len(history) == STEPS


def test_the_server_listens_only_where_it_is_told():
    server, _ = make_server()
    try:
        assert server.address[0] == "127.0.0.1"
    finally:
        server.close()


@pytest.mark.parametrize("partition", [PARTITIONS, 7])
def test_a_partition_out_of_range_is_rejected(partition):
    server, _ = make_server()
    try:
        with socket.create_connection(server.address, timeout=5) as peer:
            peer.sendall(struct.pack("!32sQI", server.token, 1, partition))
            peer.settimeout(5)
            assert peer.recv(1) == b""
    finally:
        server.close()
    assert server.rejected == 1
