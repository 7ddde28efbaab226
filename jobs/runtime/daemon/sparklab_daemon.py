"""pyspark's Python worker daemon for local sessions, less one traceback.

When a local session stops, the JVM closes the sockets of its idle (reused)
Python workers. A worker that notices before the daemon ends it fails to
flush its last bytes, and pyspark prints that BrokenPipeError's traceback
to the driver's stderr, after the job's result, in about one local run of
four. Nothing was lost: the JVM had stopped listening. Here such a worker
ends quietly; any other error is pyspark's to report as before.

This file is a top-level module, not part of `jobs`: the daemon imports it
by name (`spark.python.daemon.module`) from its directory on the workers'
PYTHONPATH, before any task could ship `jobs` to it.
"""

import socket

import pyspark.daemon as daemon

_pyspark_worker = daemon.worker


def worker(sock: socket.socket, authenticated: bool) -> int:
    try:
        return _pyspark_worker(sock, authenticated)
    except (BrokenPipeError, ConnectionResetError):
        return 1  # the JVM closed the socket: the daemon's loop ends this worker


if __name__ == "__main__":
    daemon.worker = worker
    daemon.manager()
