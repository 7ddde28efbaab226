"""The jobs on the DataFrame API and pyspark.ml: they run on a classic session
(local[*], the cluster) and over Spark Connect alike, with no Python on the
executors (no UDFs), so a Connect server needs nothing from this package."""
