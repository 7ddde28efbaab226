"""A whole fit as ONE Spark job: a barrier stage whose tasks (one per
partition, all running at once) exchange their partial sums with a small
all-reduce server on the driver, once per iteration, over direct TCP.

Why not `BarrierTaskContext.allGather`: Spark's barrier sync polls about
once a second, so 50 iterations would take 50 s. Here an iteration is one
round trip on an open socket.

Safety: the server binds only to the driver's own address (the loopback
locally, the driver container's address on the cluster network, never a
published port); every connection must first present the fit's random
token (compared in constant time) before anything else is read; only raw
float64 vectors cross the wire (no pickle); every read has a time-out, so
a dead task cannot hang the fit. When the barrier job runs again (a task
or a worker was lost; see jobs.fit.loop), the server drops the old tasks
and starts the fit again from the first step with the new ones, so the
result is the same as an undisturbed run. It tells them apart by task
attempt id: Spark numbers tasks in launch order, so a retry's tasks all
have higher ids than the attempt they replace.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TIMEOUT_SECONDS = 60.0
_HELLO = struct.Struct("!32sQI")  # token, task attempt id, partition
_COMMAND = struct.Struct("!BI")  # 1 = step with these weights, 0 = done; weights length
STEP, DONE = 1, 0


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = sock.recv(size - len(buffer))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buffer += chunk
    return bytes(buffer)


def _recv_vector(sock: socket.socket, length: int) -> np.ndarray:
    return np.frombuffer(_recv_exact(sock, 8 * length), dtype=np.float64)


@dataclass
class _Attempt:
    connections: dict[int, tuple[int, socket.socket]]  # partition -> (task id, socket)

    def close(self) -> None:
        for _, conn in self.connections.values():
            conn.close()


class AllReduceServer:
    """Runs `update` once per iteration on the partition-ordered sum of the tasks' vectors.

    `update(total) -> next_weights | None` returns the next weights, or None
    when the fit is over. `initial()` gives the first weights (called again
    when a retried stage starts the fit over).
    """

    def __init__(
        self,
        host: str,
        partitions: int,
        initial: Callable[[], np.ndarray],
        update: Callable[[np.ndarray], np.ndarray | None],
        timeout: float = TIMEOUT_SECONDS,
    ):
        self.token = secrets.token_bytes(32)
        self.partitions = partitions
        self.initial = initial
        self.update = update
        self.timeout = timeout
        self.error: BaseException | None = None
        self.rejected = 0
        self._listener = socket.create_server((host, 0), backlog=partitions * 4)
        self._listener.settimeout(0.5)
        self.address = self._listener.getsockname()[:2]
        self._attempt = _Attempt({})
        self._floor = 0  # task ids below this belong to a failed attempt
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._accept, daemon=True),
            threading.Thread(target=self._coordinate, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # --- connections --------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(self.timeout)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                token, task_id, partition = _HELLO.unpack(_recv_exact(conn, _HELLO.size))
            except (OSError, ConnectionError, struct.error):
                conn.close()
                continue
            if not hmac.compare_digest(token, self.token) or partition >= self.partitions:
                self.rejected += 1
                conn.close()
                continue
            with self._ready:
                if task_id < self._floor:  # a straggler of a failed attempt
                    conn.close()
                    continue
                current = self._attempt
                if partition in current.connections:
                    # A second task for this partition: the barrier job is running again.
                    self._floor = max(tid for tid, _ in current.connections.values()) + 1
                    current.close()
                    self._attempt = current = _Attempt({})
                    if task_id < self._floor:
                        conn.close()
                        continue
                current.connections[partition] = (task_id, conn)
                self._ready.notify_all()

    def _coordinate(self) -> None:
        while not self._closed:
            with self._ready:
                self._ready.wait_for(
                    lambda: self._closed or len(self._attempt.connections) == self.partitions, 0.5
                )
                if self._closed:
                    return
                attempt = self._attempt
                if len(attempt.connections) < self.partitions:
                    continue
                connections = [attempt.connections[p][1] for p in range(self.partitions)]
            try:
                self._run_fit(connections)
                return
            except (OSError, ConnectionError):
                # A task died: the whole barrier job runs again; wait for its tasks.
                with self._ready:
                    if self._attempt is attempt:
                        self._floor = max(tid for tid, _ in attempt.connections.values()) + 1
                        attempt.close()
                        self._attempt = _Attempt({})
            except BaseException as error:  # the update refused (e.g. divergence)
                self.error = error
                for conn in connections:
                    _send_command(conn, DONE, np.empty(0))
                return

    def _run_fit(self, connections: list[socket.socket]) -> None:
        weights = self.initial()
        while True:
            for conn in connections:
                _send_command(conn, STEP, weights)
            total = None
            for conn in connections:  # in partition order: bit-identical sums
                (length,) = struct.unpack("!I", _recv_exact(conn, 4))
                vector = _recv_vector(conn, length)
                total = vector.copy() if total is None else total + vector
            weights = self.update(total)
            if weights is None:
                for conn in connections:
                    _send_command(conn, DONE, np.empty(0))
                return

    def close(self) -> None:
        self._closed = True
        # shutdown() wakes the thread blocked in accept() at once; close()
        # alone would leave it there until its poll time-out.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._ready:
            self._attempt.close()
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)


def _send_command(conn: socket.socket, command: int, weights: np.ndarray) -> None:
    data = np.ascontiguousarray(weights, dtype=np.float64)
    conn.sendall(_COMMAND.pack(command, data.size) + data.tobytes())


def run_task(
    address: tuple[str, int],
    token: bytes,
    partition: int,
    task_id: int,
    kernel: Callable[[np.ndarray], np.ndarray],
    timeout: float = TIMEOUT_SECONDS,
) -> int:
    """A barrier task's side: send this partition's vector for each weights received."""
    steps = 0
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_HELLO.pack(token, task_id, partition))
        while True:
            command, length = _COMMAND.unpack(_recv_exact(sock, _COMMAND.size))
            if command == DONE:
                return steps
            weights = _recv_vector(sock, length)
            vector = np.ascontiguousarray(kernel(weights), dtype=np.float64)
            sock.sendall(struct.pack("!I", vector.size) + vector.tobytes())
            steps += 1
