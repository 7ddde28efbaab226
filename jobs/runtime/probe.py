"""The version probe: one task on every executor reports its Python and
package versions; any difference from the driver stops with a message that
names the node and the versions.

    python -m jobs.runtime.probe --master spark://master:7077
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from importlib.metadata import version

from jobs.errors import JobError
from jobs.runtime.session import build_session
from jobs.runtime.standalone import alive_workers, executor_count, master_state, wait_for_executors

PACKAGES = ("pyspark", "numpy", "pandas", "pyarrow")


def versions() -> dict[str, str]:
    found = {"python": "{}.{}".format(*sys.version_info[:2])}
    found |= {name: version(name) for name in PACKAGES}
    return found


def _report(_rows):
    time.sleep(0.05)  # long enough that the tasks spread over every executor
    yield socket.gethostname(), versions()


def mismatch_line(mismatch: str) -> str:
    """How a node whose versions differ is told: by the probe, and by `./lab up` (its JSON)."""
    return f"probe: version mismatch: {mismatch}"


def mismatches(driver: dict[str, str], nodes: dict[str, dict[str, str]]) -> list[str]:
    return [
        f"{host} has {name} {found[name]}, the driver has {driver[name]}"
        for host, found in sorted(nodes.items())
        for name in driver
        if found.get(name) != driver[name]
    ]


def probe(spark) -> dict:
    sc = spark.sparkContext
    tasks = 4 * max(sc.defaultParallelism, executor_count(sc), 1)
    nodes = dict(sc.parallelize(range(tasks), tasks).mapPartitions(_report).collect())
    return {"driver": versions(), "nodes": nodes, "mismatches": mismatches(versions(), nodes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.runtime.probe")
    parser.add_argument("--master", default=None)
    args = parser.parse_args(argv)
    conf = {}
    workers = 0
    try:
        if (args.master or "").startswith("spark://"):
            # One executor (one task slot) on every live worker that has a
            # slot free: a worker whose slots running applications hold is
            # healthy, only busy, and is not waited for.
            alive = alive_workers(master_state(args.master))
            free = [w for w in alive if w.get("coresfree", w["cores"] - w.get("coresused", 0)) >= 1]
            workers = len(free)
            if len(free) < len(alive):
                print(
                    f"probe: {len(alive) - len(free)} of {len(alive)} workers have no free task slot "
                    "(running applications hold them); checking the others",
                    file=sys.stderr,
                )
            conf["spark.cores.max"] = str(max(1, workers))
        spark = build_session(args.master, "sparklab-probe", conf=conf)
        if workers and not wait_for_executors(spark.sparkContext, workers):
            started = executor_count(spark.sparkContext)
            spark.stop()
            raise JobError(
                f"{workers - started} of the {workers} workers with a free task slot started no executor "
                "within 30 s; see `./lab logs worker`"
            )
    except JobError as error:
        print(f"probe: {error}", file=sys.stderr)
        return 2
    try:
        result = probe(spark)
    finally:
        spark.stop()
    for line in result["mismatches"]:
        print(mismatch_line(line), file=sys.stderr)
    print(
        f"probe: {len(result['nodes'])} executor hosts, Python {result['driver']['python']}, "
        + ", ".join(f"{k} {v}" for k, v in result["driver"].items() if k != "python"),
        file=sys.stderr,
    )
    print(json.dumps(result))
    return 1 if result["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
