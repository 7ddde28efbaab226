"""The cluster as a shared service: a stopped job ends on the cluster too,
applications share the slots, resizing leaves running work alone, a lost
driver container comes back. Real containers, real signals; timings are
printed, never asserted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from cluster import applications, lifecycle, scripts, settings, submit
from jobs.data.table import load_table
from jobs.gd import fit_gd
from jobs.runtime.run_tags import CONNECT
from jobs.runtime.standalone import alive_workers
from jobs.waiting import NotReady, wait_until
from tests.cluster_fixture import apps_named

pytestmark = pytest.mark.cluster
CONNECT_APP = "Spark Connect server"  # entrypoint.sh names it


def sparklab_apps(project) -> list[dict]:
    apps = lifecycle.master_state(project).get("activeapps", [])
    return [a for a in apps if a["name"].startswith("sparklab-")]


def wait_until_no_sparklab_app(project, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (apps := sparklab_apps(project)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not apps, f"still running on the master after {seconds:.0f} s: {apps}"


@pytest.fixture(scope="module")
def local_gd(spark, wine_csv):
    """The reference fits, on local[2] with the same partitioning (2); each
    fit one job (equal bit for bit to a job per iteration: test_regression.py)."""
    data = load_table(spark, wine_csv, partitions=2)
    try:
        yield {n: fit_gd(spark.sparkContext, data, iterations=n, one_job=True) for n in (10, 150)}
    finally:
        data.blocks.unpersist()


def assert_same_fit(payload: dict, expected) -> None:
    np.testing.assert_allclose(payload["weights"], expected.weights, rtol=1e-9)
    np.testing.assert_allclose(payload["train_mse"], expected.train_mse, rtol=1e-9)


@pytest.mark.parametrize(
    ("signum", "to_group", "code"), [(signal.SIGINT, True, 130), (signal.SIGTERM, False, 143)]
)
def test_an_interrupted_job_ends_on_the_cluster_too(cluster, signum, to_group, code):
    """Ctrl-C (the terminal signals the whole group) or SIGTERM (the process
    alone) on `./lab gd --on cluster`: one line, 130/143, the application gone."""
    command = [sys.executable, "-m", "invoke", "gd", "--on", "cluster", "--iterations", "100000"]
    process = subprocess.Popen(
        command,
        cwd=settings.ROOT,
        env={**os.environ, **cluster.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    )
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if " step 3/" in " ".join(line.split()):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(180), "the job printed no third step:\n" + "\n".join(lines[-20:])
        assert sparklab_apps(cluster.project), "the job is not listed on the master"
        if to_group:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
        assert process.wait(90) == code, "\n".join(lines[-20:])
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    assert lines[-1] == "gd: interrupted; no result written", "\n".join(lines[-20:])
    assert sum("interrupted" in line for line in lines) == 1, "\n".join(lines[-20:])
    wait_until_no_sparklab_app(cluster.project)
    # The slots are free again: no application holds a core but a Connect
    # server (its stream may run one), so the next job gets every worker.
    state = lifecycle.master_state(cluster.project)
    assert [app for app in state["activeapps"] if app["name"] != CONNECT_APP] == [], state


def gd_fit_in_background(cluster, out) -> tuple[threading.Thread, threading.Event, dict]:
    """A 150-iteration gd on the cluster, in a started thread; the event is set
    at its fifth step; the dict gets its "payload" or its "error"."""
    started = threading.Event()
    outcome: dict[str, object] = {}

    def job() -> None:
        try:
            path = submit.submit(
                cluster.project,
                "gd",
                {"iterations": 150, "partitions": 2},
                out=out,
                echo=False,
                on_line=lambda line: " step 5/" in " ".join(line.split()) and started.set(),
            )
            outcome["payload"] = json.loads(path.read_text())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=job)
    thread.start()
    return thread, started, outcome


def test_a_script_and_a_job_share_the_workers_a_resize_leaves_both_alone_and_stop_ends_the_script(
    cluster, local_gd, tmp_path
):
    """Two applications at once in the same driver container: a submitted
    script (named by its own code, without SparkLab's run id; the one core an
    application that does not ask gets) and a SparkLab job beside it, with an
    executor on every worker, each listed with its run id, owner and age.
    `up --workers 3` while both run: the master is not recreated. `./lab stop
    RUN` for the script ends it; the job finishes with the result of a run
    alone. The next fit runs on 3 executors, in 3 partitions (the cores), and
    partial sums that meet in another order still give the result of
    local[2] to 1e-9. (One scenario: each of its applications costs the
    suite about 25 CPU-seconds.)"""
    script = settings.ROOT / "tests" / "cluster" / "scripts" / "busy.py"
    ended: dict[str, object] = {}

    def run_script() -> None:
        try:
            ended["script"] = scripts.run_on_cluster(cluster.project, script, [])
        except BaseException as error:
            ended["script_error"] = error

    threads = [threading.Thread(target=run_script)]
    threads[0].start()
    try:
        waited = wait_until(lambda: apps_named(cluster.project, "a busy script"), timeout=180)
        assert waited, "the script's application never showed on the master"
        [script_app] = waited
        job, job_started, outcome = gd_fit_in_background(cluster, tmp_path / "during")
        threads.append(job)
        assert job_started.wait(180), "the job did not start"
        running = {
            app.app_id: app
            for app in applications.running_applications(cluster.project)
            if app.owner != CONNECT
        }
        assert len(running) == 2, running
        script_run = running.pop(script_app)
        [job_run] = running.values()
        assert (script_run.owner, job_run.owner) == ("script", "job"), (script_run, job_run)
        assert script_run.run != job_run.run, (script_run, job_run)
        assert 0 < script_run.age_seconds() < 600, script_run
        shown = applications.status(cluster.project)
        for app in (script_run, job_run):
            assert f"{app.app_id}  run {app.run}" in shown, shown
        master_before = cluster.project.run("ps", "-q", "master", capture=True).stdout
        lifecycle.up(cluster.project, cluster.workers + 1)  # raises on any failure
        master_after = cluster.project.run("ps", "-q", "master", capture=True).stdout
        assert master_before == master_after, "the master was recreated"
        # Stopped by its run id, as `./lab status` shows it.
        assert applications.stop_applications(cluster.project, [script_run.run]) == [script_app]
        job.join(600)
        threads[0].join(120)  # the script's thread records how it ended once its submit returns
        assert "error" not in outcome, outcome.get("error")
        assert outcome["payload"]["metrics"]["executors"] == cluster.workers, outcome["payload"]["metrics"]
        assert_same_fit(outcome["payload"], local_gd[150])
        code, _ = ended.get("script") or (None, None)
        assert code not in (0, None), f"the stopped script ended with {code}: {ended.get('script_error')}"
        assert wait_until(lambda: not apps_named(cluster.project, "a busy script"), timeout=30)
        path = submit.submit(cluster.project, "gd", {"iterations": 10}, out=tmp_path / "after", echo=False)
    finally:
        for left in apps_named(cluster.project, "a busy script"):  # never left holding slots
            applications.stop_applications(cluster.project, [left])
        for thread in threads:
            thread.join(120)
        lifecycle.resize(cluster.project, cluster.workers)
    payload = json.loads(path.read_text())
    workers = cluster.workers + 1
    assert payload["metrics"]["executors"] == workers, payload["metrics"]
    assert payload["partitions"] == workers  # Spark's default parallelism on a cluster: the cores
    assert_same_fit(payload, local_gd[10])


def test_after_a_master_restart_and_a_killed_driver_container_the_next_job_runs(cluster, tmp_path):
    """The master restarted (it recovers its workers from its FILESYSTEM
    state) and the driver container killed (Compose starts it again): the
    next job runs on every worker."""

    def every_worker_alive() -> set[str] | NotReady:
        try:
            state = lifecycle.master_state(cluster.project)
        except OSError as error:
            return NotReady(f"the master's UI: {error}")
        alive = {worker["id"] for worker in alive_workers(state)}
        if state["status"] != "ALIVE" or len(alive) < cluster.workers:
            return NotReady(f"master {state['status']}, workers alive {sorted(alive)}")
        return alive

    before = every_worker_alive()
    assert before, before.reason
    cluster.project.run("restart", "master")
    alive = wait_until(every_worker_alive, timeout=120)
    assert alive, f"{alive.reason}\n{cluster.logs()}"
    assert before <= alive, "the recovered master should know the same workers (FILESYSTEM recovery)"
    ids = cluster.project.run("ps", "-q", "driver", capture=True).stdout.split()
    subprocess.run(["docker", "kill", *ids], check=True, capture_output=True)
    path = submit.submit(
        cluster.project,
        "wordcount",
        {"input": ["data/peter_piper.txt"]},
        out=tmp_path,
        echo=False,
    )
    payload = json.loads(path.read_text())
    assert payload["counts"]["peck"] == 5
    assert payload["metrics"]["executors"] == cluster.workers, payload["metrics"]
