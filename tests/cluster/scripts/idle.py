"""A script of a user's own that holds its executors, one on every worker,
runs one job (for the history server's pages) and waits until it is
stopped: a running application to browse at almost no cost."""

import time

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("an idle script of its own").getOrCreate()
sc = spark.sparkContext
executors = int(sc.getConf().get("spark.cores.max"))  # one slot each, on every worker (.env)
deadline = time.monotonic() + 120
while sc._jsc.sc().getExecutorMemoryStatus().size() <= executors and time.monotonic() < deadline:
    time.sleep(0.2)  # the driver counts itself too
sc.parallelize(range(executors), executors).count()
while True:
    time.sleep(1)
