"""What every application SparkLab starts carries in its Spark
configuration, given on spark-submit's command line (or pyspark's
PYSPARK_SUBMIT_ARGS): its run id and its owner. `./lab status` and
`./lab stop` find its driver JVM by them (cluster.applications); the
Connect server (cluster/images/entrypoint.sh) and notebook kernels
(cluster/images/kernel.sh) give the same two in shell."""

from __future__ import annotations

import re

RUN_CONF = "spark.sparklab.run"
OWNER_CONF = "spark.sparklab.owner"
# The owners: who started the application.
JOB, BENCH, EXPERIMENT, SCRIPT, PROBE = "job", "bench", "experiment", "script", "probe"
NOTEBOOK, CONNECT = "notebook", "connect"
# What a run id may hold (`jobs.report.files.new_run_id` makes them): it is
# matched against command lines, so nothing a pattern would read otherwise.
RUN_ID = re.compile(r"[A-Za-z0-9_-]+")


def run_confs(run: str, owner: str) -> list[str]:
    """spark-submit's arguments that tag an application with `run` and `owner`."""
    return ["--conf", f"{RUN_CONF}={run}", "--conf", f"{OWNER_CONF}={owner}"]


def submit_args(run: str, owner: str, *more: str) -> str:
    """PYSPARK_SUBMIT_ARGS for a JVM that pyspark starts itself (`more`: other arguments)."""
    return " ".join([*run_confs(run, owner), *more, "pyspark-shell"])
