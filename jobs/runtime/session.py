"""Building the SparkSession every job runs in, local or on a cluster.

One place decides the settings that matter for speed and for parity between
`local[*]` and the cluster, so a job never hard-codes a master or a setting.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.errors import JobError, Terminated, one_line
from jobs.runtime.standalone import check_resources, check_secret, check_standalone_master

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # jobs/
LOCAL_DAEMON_DIR = Path(__file__).resolve().parent / "daemon"  # sparklab_daemon.py
WORKER_PYTHONPATH = "spark.executorEnv.PYTHONPATH"
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


# The local JVM's options, as on the cluster: the client compiler only and
# the serial collector (.env's SPARKLAB_JVM_OPTS says why; `./lab` passes
# its value on, this is the fallback for `python -m jobs` on its own).
JVM_OPTIONS_ENV = "SPARKLAB_JVM_OPTS"
DEFAULT_JVM_OPTIONS = (
    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CompileThresholdScaling=0.03 -XX:ReservedCodeCacheSize=240m"
)


def local_jvm_options() -> str:
    """.env's options, and the venv's class archive when `./lab` has written it."""
    from jobs.runtime.class_archive import (  # lazy: host only, not on executors
        HOST_ARCHIVE,
        archive_options,
    )

    return f"{os.environ.get(JVM_OPTIONS_ENV, DEFAULT_JVM_OPTIONS)} {archive_options(HOST_ARCHIVE)}".strip()


def local_class_path() -> str | None:
    from jobs.runtime.class_archive import (  # lazy: host only, not on executors
        HOST_ARCHIVE,
        archive_class_path,
    )

    return archive_class_path(HOST_ARCHIVE)


def master_from_env() -> str:
    return os.environ.get("SPARKLAB_MASTER", DEFAULT_MASTER)


MASTER_URL_FORMS = "use local[*], local[N], local-cluster[N,C,MB] or spark://HOST:PORT"
# Spark's own forms (SparkContext.createTaskScheduler), numbers as groups.
_LOCAL_MASTERS = (
    re.compile(r"local"),
    re.compile(r"local\[(?:\*|(\d+))\]"),
    re.compile(r"local\[(?:\*|(\d+))\s*,\s*(\d+)\]"),
    re.compile(r"local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]"),
)
_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})")


def is_master_url(master: str) -> bool:
    """`local`, `local[N]`, `local[*]`, `local[N,F]`, `local[*,F]`,
    `local-cluster[N,C,M]` (positive numbers) or `spark://HOST:PORT[,HOST:PORT...]`."""
    for form in _LOCAL_MASTERS:
        match = form.fullmatch(master)
        if match:
            return all(0 < int(n) < 2**31 for n in match.groups() if n is not None)
    if not master.startswith("spark://"):
        return False
    addresses = [_HOST_PORT.fullmatch(a) for a in master.removeprefix("spark://").split(",")]
    return all(a is not None and 0 < int(a.group(1)) < 65536 for a in addresses)


# What executors never import: the command lines, the benchmark's drivers
# and the reports (matplotlib) run on the driver or the host only.
HOST_ONLY = (
    "__main__.py",
    "cli.py",
    "checks.py",
    "options.py",
    "bench/",
    "report/",
    "data/download.py",
    "runtime/class_archive.py",
    "runtime/watchdog.py",
    "runtime/daemon/",  # local sessions' Python daemon, run from its own directory
    "experiments/__main__.py",  # the driver's entry point: writes with jobs.report
    "experiments/page.py",  # draws the page on the host (jobs.report)
)


def _local_settings() -> dict[str, str]:
    """A local[*] driver's settings; its environment made to match."""
    # Everything on this machine: bind the driver and its UI to loopback only.
    settings = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    # The web UI binds to all interfaces unless SPARK_LOCAL_IP says otherwise.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Local Python workers must run this very interpreter (the venv's),
    # not whatever `python3` is first on PATH; SparkContext reads this
    # variable, not a conf key.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Python workers forked by SparkLab's daemon, which ends quietly a worker
    # whose socket the stopping JVM closed (daemon/sparklab_daemon.py).
    settings["spark.python.daemon.module"] = "sparklab_daemon"
    settings[WORKER_PYTHONPATH] = str(LOCAL_DAEMON_DIR)
    # Taken when this call starts the JVM (under spark-submit it runs already).
    options = local_jvm_options()
    if options:
        settings["spark.driver.extraJavaOptions"] = options
    class_path = local_class_path()
    if class_path:  # the class archive's jars first, in its order (class_archive.py)
        settings["spark.driver.extraClassPath"] = class_path
    return settings


def _started(master: str, app_name: str, settings: dict[str, str]) -> SparkSession:
    """The session on `master` (a standalone master and the secret checked first), or one line why not."""
    from pyspark.sql import SparkSession  # lazy: pyspark, loaded only when used

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    if master.startswith("spark://"):
        from pyspark import SparkConf, SparkContext  # lazy: pyspark, loaded only when used

        check_standalone_master(master)
        SparkContext._ensure_initialized()  # the JVM's view: spark-submit's --conf and defaults
        defaults = dict(SparkConf().getAll())
        check_secret({**defaults, **settings})
    try:
        return builder.getOrCreate()
    except Exception as error:
        if Terminated.received:  # the JVM went with the same SIGTERM: not a setup error
            raise
        # The JVM has printed its trace already; the last line says what failed.
        raise JobError(f"Spark did not start on {master}: {one_line(error)}") from None


def executor_modules(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The package's modules that executors need, as paths relative to its parent."""
    modules = []
    for source in sorted(package_dir.rglob("*.py")):
        inside = source.relative_to(package_dir).as_posix()
        if not any(inside == skip or inside.startswith(skip) for skip in HOST_ONLY):
            modules.append(f"{package_dir.name}/{inside}")
    return modules


def package_zip(directory: Path | None = None) -> Path:
    """Zip what executors import of the `jobs` package (`addPyFile`).

    Spark serves the file from where it lies until the driver exits, so the
    temporary directory is removed at exit, not before.
    """
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="sparklab-"))
        atexit.register(shutil.rmtree, directory, True)
    target = directory / "sparklab_jobs.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for module in executor_modules():
            archive.write(PACKAGE_DIR.parent / module, module)
    return target


def session_settings(master: str, conf: Mapping[str, str] | None = None) -> dict[str, str]:
    """SparkLab's settings for a session on `master`, `conf` on top; a local
    session's worker PYTHONPATH in `conf` comes after the daemon's directory."""
    settings = dict(BASE_CONF) | (_local_settings() if master.startswith("local") else {})
    conf = dict(conf or {})
    merged = {**settings, **conf}
    if WORKER_PYTHONPATH in settings and conf.get(WORKER_PYTHONPATH):
        merged[WORKER_PYTHONPATH] = os.pathsep.join([settings[WORKER_PYTHONPATH], conf[WORKER_PYTHONPATH]])
    return merged


def build_session(
    master: str | None = None,
    app_name: str = "sparklab",
    *,
    conf: Mapping[str, str] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """Start (or join) a SparkSession on `master` with SparkLab's settings.

    `conf` wins over the defaults (`session_settings`). The caller stops the session.
    """
    master = master or master_from_env()
    run = os.environ.get("SPARKLAB_RUN")
    if run:  # set by `./lab` on the cluster: the run, named while its driver holds no event log
        app_name = f"{app_name} [run {run}]"
    spark = _started(master, app_name, session_settings(master, conf))
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
