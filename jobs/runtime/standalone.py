"""Failing fast on a Spark standalone cluster, and reading its master's state.

Spark itself waits forever ("Initial job has not accepted any resources")
when no worker can run an executor; these checks end within seconds with
a message that says what to run instead. The master's state is read here
for the whole project (the host reads it through the published UI port).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import TYPE_CHECKING

from jobs.errors import JobError
from jobs.runtime.session import executor_count, megabytes

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EXECUTOR_WAIT_SECONDS = 30.0


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
            f"the Spark master at {master} does not answer ({url}/json/: {error}); run `./lab up`, "
            f"or {where}"
        ) from None
    except ValueError:  # something else serves that port
        raise JobError(f"{url}/json/ answers, but not as a Spark master's web UI; {where}") from None
    if not isinstance(state, dict):
        raise JobError(f"{url}/json/ answers, but not as a Spark master's web UI; {where}")
    return state


def check_standalone_master(master: str) -> None:
    state = master_state(master)
    alive = alive_workers(state)
    if state.get("status") != "ALIVE":
        raise JobError(f"the Spark master at {master} is {state.get('status')}; run `./lab up`")
    if not alive:
        raise JobError(f"the Spark master at {master} has no live workers; run `./lab up`")


def check_resources(spark: SparkSession, master: str) -> None:
    """Refuse an executor no worker can hold, then wait (bounded) for one to start."""
    sc = spark.sparkContext
    conf = sc.getConf()
    alive = alive_workers(master_state(master))
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
    deadline = time.monotonic() + timeout
    while executor_count(sc) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
