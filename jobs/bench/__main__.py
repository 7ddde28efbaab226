"""`python -m jobs.bench [--quick | --tiny] [--master URL] [--out DIR]`, or on the
cluster from the driver: `spark-submit jobs/bench/__main__.py --master spark://master:7077 ...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jobs.bench.bench_report import write_bench_report
from jobs.bench.plan import Plan, bound_lines
from jobs.bench.suite import run_bench
from jobs.data.paths import wine_csv
from jobs.errors import JobError
from jobs.report.failure import ended_by
from jobs.report.files import new_run_id, write_json_atomic
from jobs.runtime.session import build_session, master_from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer iterations and sizes: under 3 minutes")
    size.add_argument("--tiny", action="store_true", help="every variant at a toy size, in seconds (tests)")
    parser.add_argument("--master", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--json-only",
        action="store_true",
        help="write bench.json alone (the cluster's images have no matplotlib: the host draws the report)",
    )
    parser.add_argument("--no-mllib", action="store_true")
    args = parser.parse_args(argv)
    try:
        path = wine_csv(args.data)
    except JobError as error:
        return ended_by("bench", error)
    plan = Plan.tiny() if args.tiny else Plan.quick() if args.quick else Plan()
    plan.mllib = not args.no_mllib
    master = args.master or master_from_env()
    conf = {"spark.ui.enabled": "false"}
    if master.startswith("local"):
        # 4e6 rows are ~400 MB of cached blocks: give the local driver JVM room for them.
        conf["spark.driver.memory"] = "6g"
    try:
        spark = build_session(master, "sparklab-bench", conf=conf)
    except JobError as error:
        return ended_by("bench", error)
    try:
        result = run_bench(spark, path, plan)
    finally:
        spark.stop()
    out = args.out or Path("results") / "bench" / new_run_id()
    written = write_json_atomic(out / "bench.json", result)
    for name, value in result["ratios"].items():
        print(f"bench: {name:<28} {value if value is None else round(value, 3)}", file=sys.stderr)
    if not args.json_only:
        written = write_bench_report(result, out)
    print(f"bench: written to {written}", file=sys.stderr)
    for line in bound_lines(result["ratios"]):  # last, where a reader looks
        print(f"bench: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
