"""Building the SparkSession every job runs in, local or on a cluster.

One place decides the settings that matter for speed and for parity between
`local[*]` and the cluster, so a job never hard-codes a master or a setting.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MASTER = "local[*]"

# Settings applied to every session (local and cluster alike, so comparisons
# are fair). Why each one:
BASE_CONF: dict[str, str] = {
    # PySpark 4 talks to its Python workers over TCP by default; every small
    # task then pays tens of milliseconds. A Unix socket removes that.
    "spark.python.unix.domain.socket.enabled": "true",
    # Keep the Python workers (and what they hold) between tasks.
    "spark.python.worker.reuse": "true",
    # Progress bars would interleave with the jobs' own progress lines.
    "spark.ui.showConsoleProgress": "false",
    # The data sets here are small: a few shuffle partitions, not 200.
    "spark.sql.shuffle.partitions": "4",
}


def master_from_env() -> str:
    return os.environ.get("SPARKLAB_MASTER", DEFAULT_MASTER)


def package_zip(directory: Path | None = None) -> Path:
    """Zip the `jobs` package so that executors can import it (`addPyFile`).

    Spark serves the file from where it lies until the driver exits, so the
    temporary directory is removed at exit, not before.
    """
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="sparklab-"))
        atexit.register(shutil.rmtree, directory, True)
    target = directory / "sparklab_jobs.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted(PACKAGE_DIR.glob("*.py")):
            archive.write(source, f"jobs/{source.name}")
    return target


def build_session(
    master: str | None = None,
    app_name: str = "sparklab",
    *,
    conf: Mapping[str, str] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """Start (or join) a SparkSession on `master` with SparkLab's settings.

    `conf` wins over the defaults. The caller stops the session.
    """
    from pyspark.sql import SparkSession

    master = master or master_from_env()
    settings = dict(BASE_CONF)
    if master.startswith("local"):
        # Everything on this machine: bind the driver and its UI to loopback only.
        settings |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
        # The web UI binds to all interfaces unless SPARK_LOCAL_IP says otherwise.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Local Python workers must run this very interpreter (the venv's),
        # not whatever `python3` is first on PATH; SparkContext reads this
        # variable, not a conf key.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, value)
    if master.startswith("spark://"):
        check_standalone_master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    if master.startswith("spark://"):
        try:
            check_resources(spark, master)
        except BaseException:
            spark.stop()
            raise
    # Executors import the jobs' functions by module name: ship the package
    # everywhere (local too) so that every runtime runs the very same code.
    spark.sparkContext.addPyFile(str(package_zip()))
    return spark


# --- Fail fast on a standalone cluster -------------------------------------
# Spark itself waits forever ("Initial job has not accepted any resources")
# when no worker can run an executor; these checks end within seconds with
# a message that says what to run instead.

EXECUTOR_WAIT_SECONDS = 30.0


def master_web_url(master: str) -> str:
    host = master.removeprefix("spark://").split(",")[0].rsplit(":", 1)[0]
    return os.environ.get("SPARKLAB_MASTER_WEBUI", f"http://{host}:8080")


def master_state(master: str) -> dict:
    import json
    import urllib.request

    from jobs.errors import JobError

    url = master_web_url(master) + "/json/"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except OSError as error:
        raise JobError(
            f"the Spark master at {master} does not answer ({url}: {error}); run `./lab up`"
        ) from None


def check_standalone_master(master: str) -> None:
    from jobs.errors import JobError

    state = master_state(master)
    alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
    if state.get("status") != "ALIVE":
        raise JobError(f"the Spark master at {master} is {state.get('status')}; run `./lab up`")
    if not alive:
        raise JobError(f"the Spark master at {master} has no live workers; run `./lab up`")


def executor_count(sc) -> int:
    """Executors registered with this application (the driver not counted)."""
    return max(0, sc._jsc.sc().getExecutorMemoryStatus().size() - 1)


def megabytes(size: str) -> int:
    """A JVM memory setting ("768m", "1g", bytes) in MB."""
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    size = size.strip().lower().removesuffix("b")
    return int(float(size[:-1]) * units[size[-1]]) if size[-1] in units else int(size) // (1024 * 1024)


def check_resources(spark: SparkSession, master: str) -> None:
    """Refuse an executor no worker can hold, then wait (bounded) for one to start."""

    from jobs.errors import JobError

    sc = spark.sparkContext
    conf = sc.getConf()
    state = master_state(master)
    alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
    memory = megabytes(conf.get("spark.executor.memory", "1g"))
    cores = int(conf.get("spark.executor.cores", "1"))
    largest_memory = max((w.get("memory", 0) for w in alive), default=0)
    largest_cores = max((w.get("cores", 0) for w in alive), default=0)
    if memory > largest_memory or cores > largest_cores:
        raise JobError(
            f"each executor asks for {cores} cores and {memory} MB, but the largest live worker "
            f"offers {largest_cores} cores and {largest_memory} MB; ask for less "
            f"(spark.executor.cores / spark.executor.memory) or raise SPARKLAB_WORKER_CORES / "
            f"SPARKLAB_WORKER_MEMORY in .env and run `./lab up`"
        )
    if not wait_for_executors(sc, 1):
        raise JobError(
            f"no executor started within {EXECUTOR_WAIT_SECONDS:.0f} s on {master} "
            f"(workers busy or gone?); see `./lab status`, or restart with `./lab up`"
        )


def wait_for_executors(sc, count: int, timeout: float = EXECUTOR_WAIT_SECONDS) -> bool:
    """Wait (bounded) until `count` executors are registered; False on time-out."""
    import time

    deadline = time.monotonic() + timeout
    while executor_count(sc) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
