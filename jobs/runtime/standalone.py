"""Failing fast on a Spark standalone cluster, and reading its master's state.

Spark itself waits forever ("Initial job has not accepted any resources")
when no worker can run an executor; these checks end within seconds with
a message that says what to run instead. The master's state is read here
for the whole project (the host reads it through the published UI port).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from typing import TYPE_CHECKING

from jobs.errors import JobError
from jobs.runtime.conf import conf_value
from jobs.waiting import NotReady, wait_until

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXECUTOR_WAIT_SECONDS = 30.0
SLOT_WAIT_SECONDS = 600.0


WEBUI_ENV = "SPARKLAB_MASTER_WEBUI"
WEBUI_PORT = 8080  # the standalone master's default (spark.master.ui.port)


def master_web_url(master: str) -> str:
    """The master's web UI: $SPARKLAB_MASTER_WEBUI, else port 8080 on the (first) master's host."""
    host = master.removeprefix("spark://").split(",")[0].rsplit(":", 1)[0]
    return os.environ.get(WEBUI_ENV, f"http://{host}:{WEBUI_PORT}")


def read_master_state(web_url: str, timeout: float = 5) -> dict:
    """The standalone master's own account (its UI's /json/ endpoint): status, workers, apps."""
    with urllib.request.urlopen(web_url.rstrip("/") + "/json/", timeout=timeout) as response:
        return json.load(response)


def alive_workers(state: dict) -> list[dict]:
    """The workers the master lists as ALIVE (it keeps DEAD ones listed for a while)."""
    return [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]


def master_state(master: str) -> dict:
    """`read_master_state` for a spark:// URL; a one-line JobError when it does not answer."""
    url = master_web_url(master)
    where = f"set {WEBUI_ENV}=http://HOST:PORT if its web UI is not on port {WEBUI_PORT}"
    try:
        state = read_master_state(url)
    except OSError as error:
        raise JobError(
            f"the Spark master at {master} does not answer ({url}/json/: {error}); run `./lab up`, or {where}"
        ) from None
    except ValueError:  # something else serves that port
        raise JobError(f"{url}/json/ answers, but not as a Spark master's web UI; {where}") from None
    if not isinstance(state, dict):
        raise JobError(f"{url}/json/ answers, but not as a Spark master's web UI; {where}")
    return state


SECRET_FILE = "/run/secrets/spark_secret"  # the Compose secret, in every SparkLab container


def check_secret(conf) -> None:
    """Where the cluster's secret is at hand (inside SparkLab's containers),
    refuse a configuration whose RPC authentication could never succeed:
    Spark itself would retry the master for a minute, then give up."""
    path = os.environ.get("SPARKLAB_SECRET_FILE", SECRET_FILE)
    if not os.path.isfile(path):
        return
    with open(path) as handle:
        expected = handle.read().strip()
    if conf.get("spark.authenticate", "false").lower() != "true":
        raise JobError(
            "spark.authenticate is off, but the cluster accepts only authenticated RPC; "
            "leave spark.authenticate and spark.authenticate.secret to spark-defaults.conf"
        )
    if (conf.get("spark.authenticate.secret", "") or "").strip() != expected:
        raise JobError(
            f"the Spark RPC secret (spark.authenticate.secret) does not match the cluster's ({path}, "
            "from cluster/secret/spark.secret); leave it to spark-defaults.conf"
        )


def check_standalone_master(master: str) -> None:
    state = master_state(master)
    alive = alive_workers(state)
    if state.get("status") != "ALIVE":
        raise JobError(f"the Spark master at {master} is {state.get('status')}; run `./lab up`")
    if not alive:
        raise JobError(f"the Spark master at {master} has no live workers; run `./lab up`")


def holders(state: dict) -> str:
    """Who holds the cluster's cores, for a message: 'app-1 (sparklab-gd, 2 cores), ...'."""
    apps = [a for a in state.get("activeapps", []) if a.get("cores")]
    return ", ".join(f"{a['id']} ({a['name']}, {a['cores']} cores)" for a in apps) or "no application"


def wait_for_a_slot(sc, master: str) -> None:
    """Wait until this application has an executor, saying every 10 s what it waits for.

    Several applications share the cluster (each takes one task slot per
    worker, see .env): when every slot is taken, a job waits its turn, up to
    SPARKLAB_SLOT_WAIT seconds (default 600), instead of Spark's silent,
    endless wait.
    """
    limit = float(os.environ.get("SPARKLAB_SLOT_WAIT", SLOT_WAIT_SECONDS))
    started = time.monotonic()

    def an_executor() -> bool | NotReady:
        """Each answer waits up to 10 s for an executor, then says who holds the slots."""
        if wait_for_executors(sc, 1, timeout=10):
            return True
        waited = time.monotonic() - started
        state = master_state(master)
        if not alive_workers(state):
            raise JobError(f"the Spark master at {master} has no live workers any more; run `./lab up`")
        if waited >= limit:
            raise JobError(
                f"no task slot came free within {limit:.0f} s on {master}: held by {holders(state)}; "
                "see `./lab status`, end one with `./lab stop APP_ID`, "
                "or add workers (`./lab up --workers N`)"
            )
        print(
            f"sparklab: waiting for a free task slot ({waited:.0f} s of at most {limit:.0f}): "
            f"{state.get('coresused', '?')} of {state.get('cores', '?')} cores held by {holders(state)}",
            file=sys.stderr,
            flush=True,
        )
        return NotReady(f"held by {holders(state)}")

    # The limit is the condition's own (its refusal names who holds the slots).
    wait_until(an_executor, timeout=float("inf"), interval=0)


def check_resources(spark: SparkSession, master: str) -> None:
    """Refuse an executor no worker can hold, then wait (bounded) for one to start."""
    sc = spark.sparkContext
    alive = alive_workers(master_state(master))
    memory = megabytes(conf_value(sc, "spark.executor.memory", "1g"))
    cores = int(conf_value(sc, "spark.executor.cores", "1"))
    largest_memory = max((w.get("memory", 0) for w in alive), default=0)
    largest_cores = max((w.get("cores", 0) for w in alive), default=0)
    if memory > largest_memory or cores > largest_cores:
        raise JobError(
            f"each executor asks for {cores} cores and {memory} MB, but the largest live worker "
            f"offers {largest_cores} cores and {largest_memory} MB; ask for less "
            f"(spark.executor.cores / spark.executor.memory) or raise SPARKLAB_WORKER_CORES / "
            f"SPARKLAB_WORKER_MEMORY in .env and run `./lab up`"
        )
    wait_for_a_slot(sc, master)


def wait_for_executors(sc, count: int, timeout: float = EXECUTOR_WAIT_SECONDS) -> bool:
    """Wait (bounded) until `count` executors are registered; False on time-out."""
    return bool(wait_until(lambda: executor_count(sc) >= count, timeout=timeout, interval=0.2))


def executor_count(sc) -> int:
    """Executors registered with this application (the driver not counted)."""
    return max(0, sc._jsc.sc().getExecutorMemoryStatus().size() - 1)


def megabytes(size: str) -> int:
    """A JVM memory setting ("768m", "1g", bytes) in MB."""
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    size = size.strip().lower().removesuffix("b")
    return int(float(size[:-1]) * units[size[-1]]) if size[-1] in units else int(size) // (1024 * 1024)
