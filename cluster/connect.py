"""The Spark Connect server on the Compose cluster, from the host: its URL
with the token, running the DataFrame jobs through it, Spark's numbers of
one client's run (read from the server's application through the master UI's
proxy) and the round trip of a trivial query (`./lab bench --on cluster`).

The server is the `connect` service (Compose profile `connect`, started by
`./lab up --connect`). Jobs run HERE, as a thin gRPC client (no JVM, no
spark-submit): `python -m jobs JOB --master sc://localhost:PORT`, the token
in the child's environment, never on a command line. Files are named as
the server sees them (the containers' paths, `cluster.inputs.container_path`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
from pathlib import Path

from cluster import engine
from cluster.images import IMAGE_PYTHON
from cluster.inputs import container_path
from cluster.lifecycle import master_ui, service_entries, service_ready
from cluster.project import ComposeProject
from cluster.settings import CONNECT_PROFILE, CONNECT_TOKEN_FILE, ClusterError
from jobs.data.paths import expand_inputs, wine_csv
from jobs.errors import last_line, one_line
from jobs.options import job_parsers, to_argv
from jobs.report.failure import ERROR_RECORD_ENV, read_record
from jobs.runtime import metrics
from jobs.runtime.connect import TOKEN_ENV
from jobs.waiting import NotReady, wait_until

CONTAINER_PORT = 15002
# What runs over Connect: the DataFrame and pyspark.ml jobs. gd and cv are
# RDD programs (a SparkContext, mapPartitions, barrier stages): Connect has none.
CONNECT_JOBS = ("wordcount", "mllib")
UP_HINT = "run `./lab up --connect`"


def connect_service(project: ComposeProject) -> dict | None:
    """The connect container as `docker compose ps` reports it (its State), or None."""
    for entry in service_entries(project.with_profiles(CONNECT_PROFILE), CONNECT_PROFILE):
        if entry.get("Service") == CONNECT_PROFILE:
            return entry
    return None


def connect_address(project: ComposeProject) -> tuple[str, int]:
    """The server's published (host, port) once it is ready (its healthcheck,
    run now); otherwise a one-line ClusterError that says what to run."""
    service = connect_service(project)
    if service is None:
        raise ClusterError(f"the Spark Connect server is not running: {UP_HINT}")
    state = service.get("State", "")
    if state != "running":
        raise ClusterError(f"the Spark Connect server is {state or 'not running'}: {UP_HINT}")
    project = project.with_profiles(CONNECT_PROFILE)
    ready = service_ready(project, CONNECT_PROFILE)
    if not ready:
        raise ClusterError(
            f"the Spark Connect server is not ready yet ({ready.reason}): wait, or see `./lab logs connect`"
        )
    done = project.run("port", CONNECT_PROFILE, str(CONTAINER_PORT), capture=True)
    host, _, port = done.stdout.strip().splitlines()[0].rpartition(":")
    return host, int(port)


def token() -> str:
    if not CONNECT_TOKEN_FILE.exists():
        raise ClusterError(f"no Spark Connect token at {CONNECT_TOKEN_FILE}: {UP_HINT}")
    return CONNECT_TOKEN_FILE.read_text().strip()


def base_url(project: ComposeProject) -> str:
    """`sc://localhost:PORT`: the host name must be `localhost`, the one pyspark's
    client sends a token to without TLS (the port is published on 127.0.0.1 only)."""
    _, port = connect_address(project)
    return f"sc://localhost:{port}"


def connect_url(project: ComposeProject) -> str:
    """The client URL with the token: `sc://localhost:PORT/;token=...`."""
    return f"{base_url(project)}/;token={token()}"


def client_env() -> dict[str, str]:
    """The environment of a host process that drives the server: this one's, with
    the token in SPARK_CONNECT_AUTHENTICATE_TOKEN (pyspark's client reads it)."""
    return {**os.environ, TOKEN_ENV: token()}


def job_command(project: ComposeProject, job: str, options: dict) -> list[str]:
    """`python -m jobs JOB --master sc://localhost:PORT ...`, files as the server sees them."""
    if job not in CONNECT_JOBS:
        raise ClusterError(
            f"{job} is an RDD job and Spark Connect has no RDDs: run it --on local or --on cluster, "
            f"or `./lab mllib --on connect` (the DataFrame and pyspark.ml version)"
        )
    # Every value, defaults included, as the job's own parser gives them.
    options = vars(job_parsers()[job].parse_args(to_argv(options)))
    options["master"] = base_url(project)
    if job == "wordcount":
        options["input"] = [container_path(p) for p in expand_inputs(options["input"])]
    else:
        options["data"] = container_path(wine_csv(options.get("data")))
    return [sys.executable, "-m", "jobs", job, *to_argv(options)]


def problem(project: ComposeProject) -> str | None:
    """None when the server is up and ready; otherwise why not, in one line."""
    try:
        connect_address(project)
    except ClusterError as error:
        return str(error)
    return None


def round_trip(project: ComposeProject, queries: int = 15) -> dict:
    """The median round trip of trivial queries from a client here
    (`jobs.bench.round_trip`, in its own process: Connect mode is per process)."""
    command = [sys.executable, "-m", "jobs.bench.round_trip", base_url(project), "--queries", str(queries)]
    with tempfile.TemporaryDirectory(prefix="sparklab-round-trip-") as where:
        record = Path(where) / "error.json"  # how it failed, if it did (jobs.report.failure)
        env = {**client_env(), ERROR_RECORD_ENV: str(record)}
        done = engine.run(command, env=env, check=False, timeout=600)
        if done.returncode != 0:
            failure = read_record(record.read_text()) if record.is_file() else None
            said = failure["message"] if failure else last_line(done.stderr)
            raise ClusterError(f"the Spark Connect round trip failed: {said}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_metrics(project: ComposeProject, payload: dict, timeout: float = 30) -> dict:
    """Spark's metrics of one client's run (a job's JSON over Connect: its
    `app_id` and `session_id`) from the server's application, read from the
    host through the master UI's reverse proxy: only the jobs tagged with
    that session. {"error": why} when the host cannot read them."""
    app, session = payload.get("app_id"), payload.get("session_id")
    if not app or not session:
        return {"error": "metrics unavailable: the run's JSON names no Connect application and session"}
    mark = f"_Session_{session}_"

    def ours(job: dict) -> bool:
        return any(mark in tag for tag in job.get("jobTags", []))

    try:
        api = f"{master_ui(project)}/proxy/{app}/api/v1/applications/{app}"

        # The UI is fed asynchronously: wait until every job of the run has ended.
        def ended() -> dict | NotReady:
            summary = metrics.summarize(api, ours)
            return summary if summary["jobs"] and not summary["jobs_running"] else NotReady(value=summary)

        summary = wait_until(ended, timeout=timeout, interval=0.5)
        return summary or summary.value
    except (OSError, ValueError, KeyError, urllib.error.URLError, ClusterError) as error:
        return {
            "error": f"Spark's metrics of the Connect server's application are not readable from "
            f"the host (through the master UI's proxy: {one_line(error)})"
        }


def print_url(project: ComposeProject) -> None:
    """`./lab connect`: the URL with the token; a word on UDFs where this host's Python differs."""
    print(connect_url(project))
    here = "{}.{}".format(*sys.version_info[:2])
    if here != IMAGE_PYTHON:  # Spark refuses a Python UDF whose client Python differs from its own
        print(
            f"connect: this host runs Python {here}, the cluster {IMAGE_PYTHON}: DataFrame queries work from "
            f"here; Python UDFs need a {IMAGE_PYTHON} client (or ./lab notebook, ./lab submit)",
            file=sys.stderr,
        )
