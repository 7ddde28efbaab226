"""The round trip of a trivial Spark Connect query, from a client process:
`python -m jobs.bench.round_trip sc://localhost:PORT [--queries N]`, the
token in SPARK_CONNECT_AUTHENTICATE_TOKEN; one JSON line on stdout.

Two queries, each the median of N after a warm-up (the first one waits for
the server's executor, which dynamic allocation starts on demand):
`spark.range(1).collect()` (one Spark job of one task: the client's plan,
the server's analysis and scheduling, the rows back) and `SHOW DATABASES`
(a catalog command: the gRPC round trip and analysis, no Spark job).

Run in its own process: a Connect session switches pyspark into Connect
mode for its whole process (`./lab bench` runs it from the host, where the
cluster's benchmark has no pyspark session of its own).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from jobs.errors import JobError
from jobs.report.failure import ended_by
from jobs.runtime.connect import connect_session


def median_seconds(query, queries: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        query()
    times = []
    for _ in range(queries):
        started = time.perf_counter()
        query()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, queries: int) -> dict:
    spark = connect_session(url)
    try:
        return {
            "queries": queries,
            "range_collect_seconds": median_seconds(lambda: spark.range(1).collect(), queries),
            "show_databases_seconds": median_seconds(lambda: spark.sql("SHOW DATABASES").collect(), queries),
        }
    finally:
        spark.stop()


RATIO = "connect_query_vs_empty_job"
NOT_MEASURED = "not measured (start it with ./lab up --connect)"


def add_to_bench(result: dict, round_trip: dict | None, note: str = NOT_MEASURED) -> dict:
    """bench.json with the Connect row: the trivial query's median round trip
    (`measure`'s result, or None when there is no server) against this run's
    classic scheduling floor, one empty Spark job (`gd/empty_jobs` runs one
    per iteration)."""
    floor = result["timings"]["gd/empty_jobs"]["median"] / result["plan"]["iterations"]
    if round_trip is None:
        result["ratios"][RATIO] = None
        result.setdefault("ratio_notes", {})[RATIO] = note
    else:
        result["ratios"][RATIO] = round_trip["range_collect_seconds"] / floor
        result["connect_round_trip"] = {**round_trip, "empty_job_seconds": floor}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.bench.round_trip", description=__doc__)
    parser.add_argument("url", help="sc://HOST:PORT (the token in SPARK_CONNECT_AUTHENTICATE_TOKEN)")
    parser.add_argument("--queries", type=int, default=15, help="timed queries of each kind (median)")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(measure(args.url, args.queries)))
    except JobError as error:
        return ended_by("round_trip", error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
