"""Spark Connect on the Compose cluster: the token is required, and the
DataFrame jobs driven from the host through it give the references' answers
(with Spark's numbers from the server, as `./lab compare` shows them), even
when a worker is lost mid-query; `./lab bench`'s round trip is measured.

Every client runs in a child process, as `./lab JOB --on connect` does: a
Connect session switches pyspark into Connect mode for its whole process,
which must not happen to the test session's classic `spark`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import numpy as np
import pytest

from cluster import applications, comparison, connect, lifecycle, settings, submit
from cluster.project import ComposeProject
from jobs.dataframe import mllib
from jobs.errors import JobError
from jobs.report.equality import difference
from jobs.runtime.connect import TOKEN_ENV
from jobs.runtime.run_tags import CONNECT
from jobs.wordcount import Tokenizer, counter_reference, run
from tests.dataframe.mllib_reference import FOLDS, cv_errors, lstsq, reference_rows

# Every test here talks to the server (or, to one not started, by its name).
pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("connect_server")]

CLIENT = (
    "import sys\n"
    "from jobs.errors import JobError\n"
    "from jobs.runtime.connect import connect_session\n"
    "try:\n"
    "    spark = connect_session(sys.argv[1])\n"
    "except JobError as error:\n"
    "    print(error, file=sys.stderr)\n"
    "    sys.exit(2)\n"
    "print(spark.range(5).count())\n"
)


def client(url: str, token: str | None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    if token is not None:
        env[TOKEN_ENV] = token
    return subprocess.run(
        [sys.executable, "-c", CLIENT, url],
        cwd=settings.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_url_is_loopback_with_the_token(cluster):
    host, port = connect.connect_address(cluster.project)
    assert host == "127.0.0.1"
    url = connect.connect_url(cluster.project)
    assert url == f"sc://localhost:{port}/;token={settings.CONNECT_TOKEN_FILE.read_text().strip()}"


@pytest.mark.parametrize(
    ("token", "refused"),
    [(None, True), ("not-the-token", True), ("the token", False)],
    ids=["no-token", "wrong-token", "right-token"],
)
def test_a_client_without_the_token_is_refused(cluster, token, refused):
    if token == "the token":
        token = connect.token()
    done = client(connect.base_url(cluster.project), token)
    if refused:
        assert done.returncode == 2, done.stdout + done.stderr[-3000:]
        assert "refused this client's token" in done.stderr
    else:
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "5"
    assert connect.token() not in done.stdout + done.stderr


def test_wordcount_over_connect_equals_the_rdd_word_count(cluster, spark, tmp_path):
    """As `./lab compare` runs it: Spark's numbers are the server's, for this client's session."""
    text = settings.ROOT / "data" / "peter_piper.txt"
    options = {"input": [str(text)], "top": 5, "lower": True}
    remote, _, _ = comparison.run_connect(cluster.project, "wordcount", tmp_path, options)
    metrics = remote["metrics"]
    assert "error" not in metrics, metrics
    # One job: words counted on each side of a shuffle (AQE may add a stage, never a job).
    assert metrics["jobs"] >= 1, metrics
    assert metrics["tasks"] >= 2, metrics
    assert metrics["shuffle_write_bytes"] > 0, metrics
    tokenizer = Tokenizer(lower=True)
    local = run(spark, [str(text)], top=5, tokenizer=tokenizer)
    assert remote["api"] == "dataframe"
    assert remote["master"].startswith("sc://localhost:")
    assert remote["counts"] == local.counts == counter_reference([text.read_text()], tokenizer)
    assert [tuple(pair) for pair in remote["top"]] == local.top


def test_the_server_is_listed_by_its_run_and_stop_all_leaves_it_running(cluster):
    """`./lab status` names the Connect server's application by its run id
    (entrypoint.sh tags it); `./lab stop --all` ends every application but
    it, a service (nothing else runs on this stream's cluster now)."""
    [server] = [app for app in applications.running_applications(cluster.project) if app.owner == CONNECT]
    assert server.service == "connect", server
    assert server.run.startswith("connect-"), server
    assert server.pid is not None, server  # `./lab stop RUN` would end that JVM
    assert f"{server.app_id}  run {server.run}" in applications.status(cluster.project)
    assert server.app_id not in applications.stop_applications(cluster.project, [], every=True)
    running = {app["id"] for app in lifecycle.master_state(cluster.project)["activeapps"]}
    assert server.app_id in running, running


def test_an_rdd_job_over_connect_says_what_to_run_instead(cluster):
    with pytest.raises(JobError, match=r"gd is an RDD job and Spark Connect has no RDDs"):
        connect.job_command(cluster.project, "gd", {})


def test_a_server_that_is_not_up_is_reported_with_what_to_run(cluster):
    project = replace(cluster.project, name="sparklab-test-not-started")
    with pytest.raises(
        JobError, match=r"^the Spark Connect server is not running: run `./lab up --connect`$"
    ):
        connect.connect_url(project)


def test_bench_measures_a_connect_round_trip_beside_the_empty_job(cluster):
    """`./lab bench --on cluster`'s host side, on a bench.json of the driver's shape."""
    measured = {"timings": {"gd/empty_jobs": {"median": 0.5}}, "plan": {"iterations": 10}, "ratios": {}}
    result = submit.with_connect_round_trip(cluster.project, measured)
    trip = result["connect_round_trip"]
    assert trip["queries"] == 15
    assert 0 < trip["show_databases_seconds"] < 60, trip
    assert 0 < trip["range_collect_seconds"] < 60, trip
    assert result["ratios"]["connect_query_vs_empty_job"] == trip["range_collect_seconds"] / 0.05


def _server_api(project: ComposeProject) -> str:
    """The Connect server application's REST API, through the master UI's proxy."""
    apps = lifecycle.master_state(project)["activeapps"]
    app = next(a["id"] for a in apps if a["name"] == "Spark Connect server")
    return f"{lifecycle.master_ui(project)}/proxy/{app}/api/v1/applications/{app}"


def _jobs_ended(api: str) -> int:
    with urllib.request.urlopen(f"{api}/jobs?status=succeeded&status=failed", timeout=30) as response:
        return len(json.load(response))


def _worker_with_the_servers_executor(api: str, project: ComposeProject) -> str:
    """The worker container under the Connect server's active executor: the
    executor's host, as the server's REST API names it, is one of the
    worker's names or addresses on the cluster network."""
    with urllib.request.urlopen(f"{api}/executors", timeout=30) as response:
        hosts = {e["hostPort"].rsplit(":", 1)[0] for e in json.load(response) if e["id"] != "driver"}
    for container in project.run("ps", "-q", "worker", capture=True).stdout.split():
        inspect = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True)
        found = json.loads(inspect.stdout)[0]
        names = {found["Config"]["Hostname"], found["Id"][:12]}
        for network in found["NetworkSettings"]["Networks"].values():
            names |= {
                network.get("IPAddress"),
                *(network.get("Aliases") or []),
                *(network.get("DNSNames") or []),
            }
        if hosts & names:
            return container
    raise AssertionError(f"no worker container is the Connect server's executor host {sorted(hosts)}")


def test_mllib_over_connect_with_a_worker_killed_equals_numpy_and_the_local_run(
    cluster, spark, wine_csv, tmp_path
):
    """The MLlib job over Connect, fitted on the cluster's executors and driven
    through the server; once the server has run a dozen of its Spark jobs
    (the frames cached on its one executor, the fits under way, many more to
    come: l-bfgs is a job per iteration), the worker under that executor is
    killed. The server gets an executor on the other worker, recomputes what
    was lost from its lineage, and the answers are the references' and the
    same job's in a classic local session, as `./lab compare` checks it (an
    undisturbed run's, then, too: one application fewer in the suite)."""
    api = _server_api(cluster.project)
    before = _jobs_ended(api)
    command = connect.job_command(
        cluster.project,
        "mllib",
        {"data": wine_csv, "folds": FOLDS, "out": str(tmp_path), "quiet": True},
    )
    child = subprocess.Popen(
        command,
        cwd=settings.ROOT,
        env=connect.client_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    try:
        deadline = time.monotonic() + 120
        while killed is None and child.poll() is None and time.monotonic() < deadline:
            if _jobs_ended(api) >= before + 12:
                killed = _worker_with_the_servers_executor(api, cluster.project)
                subprocess.run(
                    ["docker", "kill", "--signal", "KILL", killed], check=True, capture_output=True
                )
            else:
                time.sleep(0.2)  # polling the server's own account, not a readiness guess
        _, stderr = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        lifecycle.resize(cluster.project, cluster.workers)
    assert killed, "the job ended before a worker could be killed"
    assert child.returncode == 0, stderr[-3000:] + "\n" + cluster.logs()
    remote = json.loads((tmp_path / "mllib.json").read_text())
    local = mllib.to_json(mllib.run(spark, wine_csv, folds=FOLDS), mllib.DEFAULT_SPLIT)
    assert difference("mllib", local, remote) is None
    metrics = connect.server_metrics(cluster.project, remote)
    assert metrics.get("jobs", 0) > 1, metrics
    x, y, is_test, _ = reference_rows(wine_csv)
    exact = lstsq(x[~is_test], y[~is_test])
    np.testing.assert_allclose(remote["fits"]["normal"]["raw_weights"], exact, rtol=1e-6)
    np.testing.assert_allclose(remote["fits"]["l-bfgs"]["raw_weights"], exact, rtol=1e-4)
    assert (remote["n_train"], remote["n_test"]) == (int((~is_test).sum()), int(is_test.sum()))
    # k normal-equation solves against k SVD solves: rounding only.
    np.testing.assert_allclose(remote["cv"]["mean_val_mse"], np.mean(cv_errors(wine_csv)), rtol=1e-7)
