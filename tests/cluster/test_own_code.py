"""Your own code on the cluster, for real: a script with its helper package
(`./lab submit`), inputs from outside the mounts, and the notebook service
with the tour notebook run headless in it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pytest

from cluster import lifecycle, scripts, settings
from cluster import notebook as notebook_service
from jobs import gd, wordcount
from jobs.data.table import Split, load_table

pytestmark = pytest.mark.cluster

SCRIPT = settings.ROOT / "tests" / "cluster" / "scripts" / "wordfreq.py"
RUNNER = settings.ROOT / "tests" / "tour_runner.py"


def test_a_script_gives_the_same_output_on_the_cluster_and_on_local(cluster, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"  # outside every mount: copied in for the run
    corpus.write_text("Spark spark SPARK lab\nlab\n")
    args = ["--input", "corpus.txt", "--exit", "3", "hello world"]  # its own exit code, after its output
    code, out = scripts.run_on_cluster(cluster.project, SCRIPT, args, cwd=tmp_path)
    on_cluster = capsys.readouterr().out.splitlines()
    assert code == 3, f"{on_cluster}\n{cluster.logs()}"
    code, local_out = scripts.run_local(SCRIPT, args, master="local[2]", cwd=tmp_path)
    assert code == 3
    assert local_out.parent == settings.ROOT / "results"
    assert on_cluster == capsys.readouterr().out.splitlines()
    assert on_cluster == [
        'arguments ["hello world"]',
        "executors see SPARKLAB_DATA: True",
        'counts {"lab": 2, "spark": 3}',
    ]
    assert (out / "counts.json").read_text() == (local_out / "counts.json").read_text()
    left = lifecycle.exec_driver(cluster.project, ["ls", "-A", "/sparklab/inputs", "/tmp/sparklab-code"])
    assert left.stdout.split() == ["/sparklab/inputs:", "/tmp/sparklab-code:"], left.stdout  # removed after


def test_a_failing_script_on_the_cluster_gives_its_traceback_alone(cluster, capsys):
    # (A script's own exit code on the cluster: test_litter.py's exit 130.)
    code, out = scripts.run_on_cluster(cluster.project, SCRIPT, ["--divide-by-zero"])
    captured = capsys.readouterr()
    assert (code, out) == (1, None)
    assert captured.out.strip().splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert "\tat org.apache" not in captured.out + captured.err


def test_a_job_reads_an_input_from_outside_the_mounts(cluster_runs):
    payload = cluster_runs["outside_the_mounts"]  # a file in the test's temporary directory
    assert payload["counts"] == {"to": 2, "be": 2, "or": 1, "not": 1}


@pytest.fixture(scope="module")
def notebook(cluster):
    """The notebook service in the test project, on any free port; stopped afterwards."""
    project = cluster.project.with_variables(SPARKLAB_NOTEBOOK_PORT="")
    url = notebook_service.start(project)
    yield project, url
    notebook_service.stop(project)


def status(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_jupyterlab_refuses_a_request_without_the_token_and_is_on_loopback_only(notebook):
    _, url = notebook
    base, token = url.split("/lab?token=")
    assert base.startswith("http://127.0.0.1:"), url
    assert token == settings.NOTEBOOK_TOKEN_FILE.read_text().strip()
    assert status(f"{base}/api/contents") == 403
    assert status(f"{base}/api/contents", {"Authorization": "token wrong"}) == 403
    assert status(f"{base}/api/contents", {"Authorization": f"token {token}"}) == 200


def test_a_notebook_saved_in_jupyterlab_belongs_to_the_user_who_ran_lab(notebook):
    _, url = notebook
    base, token = url.split("/lab?token=")
    name = f"saved-{os.getpid()}.ipynb"
    saved = settings.ROOT / "notebooks" / name
    body = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
    request = urllib.request.Request(
        f"{base}/api/contents/{name}",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status in (200, 201)
        assert (saved.stat().st_uid, saved.stat().st_gid) == (os.getuid(), os.getgid())
        assert (settings.ROOT / "notebooks").stat().st_uid == os.getuid()  # not handed to the container
    finally:
        saved.unlink(missing_ok=True)


def test_the_tour_on_the_cluster_gives_the_command_lines_numbers(notebook, spark, wine_csv):
    project, _ = notebook
    done = subprocess.run(
        project.command(
            "exec", "-T", "notebook", "python", "-", "/sparklab/notebooks/tour.ipynb", '{"ITERATIONS": 20}'
        ),
        stdin=RUNNER.open(),
        capture_output=True,
        text=True,
        env=project.environment(),
        cwd=settings.ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    assert numbers["master"] == settings.MASTER_URL
    # The kernel's application carried a run id of its own (images/kernel.sh): ./lab status, ./lab stop.
    assert re.search(r"--conf spark\.sparklab\.run=notebook-\S+ --conf spark\.sparklab\.owner=notebook ",
                     numbers["kernel_submit_args"]), numbers["kernel_submit_args"]  # fmt: skip
    assert numbers["figures"] == 1  # the loss curve, drawn inline
    peter = str(settings.ROOT / "data" / "peter_piper.txt")
    assert numbers["wordcount_counts"] == wordcount.run(spark, [peter]).counts
    fit = gd.fit_gd(
        spark.sparkContext, load_table(spark, wine_csv, split=Split(), partitions=2), iterations=20
    )
    np.testing.assert_allclose(numbers["gd_weights"], fit.weights, rtol=1e-9, atol=1e-12)
    assert numbers["cv_jobs"] == 20  # k models, one Spark job per step
