"""A script of a user's own that names its application itself (so it carries
no SparkLab run id) and keeps the cluster busy until it is stopped."""

import time

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("a busy script of its own").getOrCreate()
while True:  # a job every 2 s: running beside the other application, not racing it for the CPU
    spark.sparkContext.parallelize(range(2), 2).count()
    time.sleep(2)
