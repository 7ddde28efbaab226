"""A user's own PySpark script, as `./lab submit` runs it (the tests' fixture).

It knows nothing of SparkLab but SPARKLAB_DATA and SPARKLAB_OUT, and its
executor tasks import `textstats`, a package beside it.

    ./lab submit tests/cluster/scripts/wordfreq.py -- [--input PATH] [--exit N] [--divide-by-zero] WORDS...
"""

import argparse
import json
import os
import sys

from pyspark.sql import SparkSession


def count(lines):
    # Imported inside the executor's task: the package must have reached it.
    from textstats.words import frequencies

    return frequencies(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default=os.path.join(os.environ["SPARKLAB_DATA"], "peter_piper.txt"))
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--divide-by-zero", action="store_true")
    parser.add_argument("words", nargs="*")
    args = parser.parse_args()
    spark = SparkSession.builder.appName("wordfreq").getOrCreate()
    try:
        sc = spark.sparkContext
        if args.divide_by_zero:
            sc.parallelize([1, 2], 2).map(lambda x: x / 0).collect()
        pairs = sc.textFile(args.input, 2).mapPartitions(count)
        counts = dict(pairs.reduceByKey(lambda a, b: a + b).collect())
        seen = sc.parallelize([0], 1).map(lambda _: os.environ.get("SPARKLAB_DATA")).first()
        print("arguments", json.dumps(args.words))
        print("executors see SPARKLAB_DATA:", seen == os.environ["SPARKLAB_DATA"])
        print("counts", json.dumps(counts, sort_keys=True))
        with open(os.path.join(os.environ["SPARKLAB_OUT"], "counts.json"), "w") as out:
            json.dump(counts, out, sort_keys=True)
    finally:
        spark.stop()
    return args.exit


if __name__ == "__main__":
    sys.exit(main())
