"""`python -m jobs.experiments NAME [NAME ...] [--smallest] [--master URL] [--data CSV] --out DIR`:
run experiments' Spark parts one after the other (sharing a session where
they can) and write each NAME.json into DIR (the host draws the pages). On
the cluster, from the driver:
`spark-submit jobs/experiments/__main__.py NAME --master spark://master:7077 --out DIR`.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from jobs.data.paths import wine_csv
from jobs.errors import JobError
from jobs.experiments.context import Context
from jobs.experiments.registry import EXPERIMENTS
from jobs.report.failure import ended_by
from jobs.report.files import write_json_atomic
from jobs.runtime.session import master_from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.experiments", description=__doc__)
    parser.add_argument("names", nargs="+", choices=sorted(EXPERIMENTS), metavar="NAME")
    parser.add_argument("--smallest", action="store_true", help="the smallest size (seconds; the tests')")
    parser.add_argument("--master", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        data = wine_csv(args.data)
    except JobError as error:
        return ended_by("experiment", error)
    ctx = Context(args.names[0], args.master or master_from_env(), data, args.smallest)
    try:
        for name in args.names:
            ctx.name, ctx.apps = name, []
            started = time.perf_counter()
            measured = EXPERIMENTS[name].measure(ctx)
            result = {
                "experiment": name,
                "smallest": args.smallest,
                "master": ctx.master,
                "seconds": time.perf_counter() - started,
                "apps": ctx.apps,
                "python": platform.python_version(),
                **measured,
            }
            path = write_json_atomic(args.out / f"{name}.json", result)
            print(f"experiment {name}: written to {path}", file=sys.stderr)
    except JobError as error:
        return ended_by("experiment", error)
    finally:
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
