"""The Compose cluster, for real: containers, RPC, executors in other containers."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from cluster import engine, lifecycle, settings, submit
from jobs.errors import JobError
from jobs.wordcount import Tokenizer, counter_reference, run

pytestmark = pytest.mark.cluster


def raw_wordcount_submit(*spark_options: str) -> list[str]:
    """spark-submit of the word count in the driver, past submit.submit's host-side checks."""
    return [
        "spark-submit",
        "--master",
        settings.MASTER_URL,
        *spark_options,
        "/sparklab/app/jobs/__main__.py",
        "wordcount",
        "--input",
        "/sparklab/data/peter_piper.txt",
        "--master",
        settings.MASTER_URL,
        "--out",
        "/tmp/never",
    ]


def test_two_workers_are_registered_and_alive(cluster):
    state = lifecycle.master_state(cluster.project)
    alive = [w for w in state["workers"] if w["state"] == "ALIVE"]
    assert state["status"] == "ALIVE"
    assert len(alive) == 2, f"{state['workers']}\n{cluster.logs()}"
    assert {w["cores"] for w in alive} == {int(settings.setting("SPARKLAB_WORKER_CORES"))}  # task slots


def test_published_ports_bind_to_loopback_only(cluster):
    for service, port in (("master", 8080), ("history", 18080)):
        address = lifecycle.service_url(cluster.project, service, port)
        assert address.startswith("http://127.0.0.1:"), address


def test_rest_submission_server_is_off(cluster):
    probe = (
        "import socket,sys\ns=socket.socket();s.settimeout(3)\n"
        "sys.exit(0 if s.connect_ex(('master',6066)) else 1)"
    )
    done = lifecycle.exec_driver(cluster.project, ["python", "-c", probe])
    assert done.returncode == 0, "something listens on the master's REST port 6066"


def test_up_finds_one_image_under_the_driver_and_every_worker(cluster):
    """No probe job where the versions are the same by construction; the
    probe itself runs across hosts (test_across_machines.py)."""
    result = cluster.probe  # what `up` found, as for every `./lab up`
    assert result["mismatches"] == []
    services = sorted(name.rsplit("-", 2)[-2] for name in result["containers"])
    assert services == ["driver", "history", "master", *["worker"] * cluster.workers], result
    tagged = cluster.env["SPARKLAB_IMAGE"]
    built = engine.docker("image", "inspect", "--format", "{{.Id}}", tagged).stdout.strip()
    for name in result["containers"]:
        assert engine.docker("inspect", "--format", "{{.Image}}", name).stdout.strip() == built, name
    assert result["image"] == built


def test_the_image_runs_as_spark_with_its_venv_first_and_its_entry_point(cluster):
    """What the runtime's commit sets (images.RUNTIME_CHANGES), as the two-stage
    Dockerfile set it; and nothing of the install left in /tmp."""
    tagged = cluster.env["SPARKLAB_IMAGE"]
    config = json.loads(engine.docker("image", "inspect", "--format", "{{json .Config}}", tagged).stdout)
    assert (config["User"], config["WorkingDir"]) == ("spark", "/home/spark")
    assert (config["Entrypoint"], config["Cmd"]) == (["/opt/sparklab/entrypoint.sh"], ["driver"])
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PATH"].startswith("/opt/venv/bin:"), env
    assert env["SPARK_HOME"] == "/opt/venv/lib/python3.11/site-packages/pyspark"
    assert env["PYSPARK_PYTHON"] == env["PYSPARK_DRIVER_PYTHON"] == "/opt/venv/bin/python"
    assert env["JAVA_HOME"], env  # the base's
    left = engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "ls", tagged, "-A", "/tmp"
    ).stdout
    assert left.split() == [], left


def test_wordcount_on_the_cluster_equals_local(cluster_runs, spark):
    remote = cluster_runs["default_corpus"]  # the article's corpus, --top 5, in the shared application
    local = run(spark, [str(settings.ROOT / "data" / "peter_piper.txt")], top=5)
    print(f"\nwordcount on the cluster: job {remote['seconds']:.2f} s")
    assert remote["master"] == settings.MASTER_URL
    assert remote["counts"] == local.counts
    assert remote["counts"] == counter_reference(
        [(settings.ROOT / "data" / "peter_piper.txt").read_text()], Tokenizer()
    )
    assert [tuple(pair) for pair in remote["top"]] == local.top


def test_too_much_memory_fails_fast_with_what_to_do(cluster):
    started = time.perf_counter()
    done = lifecycle.exec_driver(
        cluster.project,
        raw_wordcount_submit("--conf", "spark.executor.memory=8g"),
        timeout=120,
    )
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]  # spark-submit merges the job's stderr into stdout
    assert "each executor asks for 1 cores and 8192 MB, but the largest live worker offers 2 cores" in last
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--conf", "spark.authenticate.secret=not-the-secret"),
            "sparklab wordcount: error: the Spark RPC secret (spark.authenticate.secret) does not match "
            "the cluster's (/run/secrets/spark_secret, from cluster/secret/spark.secret); "
            "leave it to spark-defaults.conf",
        ),
        (
            ("--conf", "spark.authenticate=false"),
            "sparklab wordcount: error: spark.authenticate is off, but the cluster accepts only "
            "authenticated RPC; leave spark.authenticate and spark.authenticate.secret to "
            "spark-defaults.conf",
        ),
    ],
)
def test_a_wrong_or_missing_secret_ends_a_submit_with_one_line(cluster, options, message):
    started = time.perf_counter()
    done = lifecycle.exec_driver(cluster.project, raw_wordcount_submit(*options), timeout=120)
    seconds = time.perf_counter() - started
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == message
    assert seconds < 60, f"took {seconds:.0f} s"


def test_a_cluster_that_is_down_is_reported_with_what_to_run(cluster):
    project = replace(cluster.project, name="sparklab-test-not-started")
    with pytest.raises(JobError, match=r"the cluster is not running: run `./lab up`"):
        submit.submit(project, "wordcount", {"input": ["data/peter_piper.txt"]}, echo=False)


def test_no_live_workers_fails_fast_with_what_to_run(cluster):
    """Last in this module: it stops the workers (and starts them again)."""
    cluster.project.run("stop", "worker")
    try:
        deadline = time.monotonic() + 90
        while any(w["state"] == "ALIVE" for w in lifecycle.master_state(cluster.project)["workers"]):
            assert time.monotonic() < deadline, "the master still lists live workers after 90 s"
            time.sleep(1)
        started = time.perf_counter()
        done = lifecycle.exec_driver(
            cluster.project,
            raw_wordcount_submit(),
            timeout=120,
        )
        seconds = time.perf_counter() - started
        assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == (
            "sparklab wordcount: error: the Spark master at spark://master:7077 has no live workers; "
            "run `./lab up`"
        )
        assert seconds < 30, f"took {seconds:.0f} s"
        partly = r"the cluster is only partly running \(.*; no worker\): run `./lab up`"
        with pytest.raises(JobError, match=partly):
            submit.submit(cluster.project, "wordcount", {"input": ["data/peter_piper.txt"]}, echo=False)
    finally:
        lifecycle.resize(cluster.project, cluster.workers)
