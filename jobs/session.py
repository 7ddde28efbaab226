"""Building the SparkSession every job runs in, local or on a cluster.

One place decides the settings that matter for speed and for parity between
`local[*]` and the cluster, so a job never hard-codes a master or a setting.
"""

from __future__ import annotations

import os
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
    """Zip the `jobs` package so that executors can import it (`addPyFile`)."""
    directory = Path(directory or tempfile.mkdtemp(prefix="sparklab-"))
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
        # Local Python workers must run this very interpreter (the venv's),
        # not whatever `python3` is first on PATH; SparkContext reads this
        # variable, not a conf key.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    # Executors import the jobs' functions by module name: ship the package
    # everywhere (local too) so that every runtime runs the very same code.
    spark.sparkContext.addPyFile(str(package_zip()))
    return spark


def default_partitions(spark: SparkSession) -> int:
    """Partitions equal to the cores: each extra small task costs 5-25 ms."""
    return max(1, spark.sparkContext.defaultParallelism)
