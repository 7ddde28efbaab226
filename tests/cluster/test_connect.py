"""Spark Connect on the Compose cluster: the token is required, and the
DataFrame jobs driven from the host through it give the references' answers.

Every client runs in a child process, as `./lab JOB --on connect` does: a
Connect session switches pyspark into Connect mode for its whole process,
which must not happen to the test session's classic `spark`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cluster import connect, settings
from jobs.errors import JobError
from jobs.runtime.connect import TOKEN_ENV
from jobs.wordcount import Tokenizer, counter_reference, run
from tests.dataframe.mllib_reference import FOLDS, cv_errors, lstsq, reference_rows

pytestmark = pytest.mark.cluster

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


def run_over_connect(cluster, job: str, options: dict, out) -> dict:
    command = connect.job_command(job, {**options, "out": str(out), "quiet": True}, env=cluster.env)
    done = subprocess.run(
        command,
        cwd=settings.ROOT,
        env=connect.client_env(cluster.env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:] + "\n" + cluster.logs()
    return json.loads((out / f"{job}.json").read_text())


def test_the_url_is_loopback_with_the_token(cluster):
    host, port = connect.connect_address(cluster.env)
    assert host == "127.0.0.1"
    url = connect.connect_url(cluster.env)
    assert url == f"sc://localhost:{port}/;token={settings.CONNECT_TOKEN_FILE.read_text().strip()}"


@pytest.mark.parametrize(
    ("token", "refused"),
    [(None, True), ("not-the-token", True), ("the token", False)],
    ids=["no-token", "wrong-token", "right-token"],
)
def test_a_client_without_the_token_is_refused(cluster, token, refused):
    if token == "the token":
        token = connect.token()
    done = client(connect.base_url(cluster.env), token)
    if refused:
        assert done.returncode == 2, done.stdout + done.stderr[-3000:]
        assert "refused this client's token" in done.stderr
    else:
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "5"
    assert connect.token() not in done.stdout + done.stderr


def test_wordcount_over_connect_equals_the_rdd_word_count(cluster, spark, tmp_path):
    text = settings.ROOT / "data" / "peter_piper.txt"
    options = {"input": [str(text)], "top": 5, "lower": True}
    remote = run_over_connect(cluster, "wordcount", options, tmp_path)
    tokenizer = Tokenizer(lower=True)
    local = run(spark, [str(text)], top=5, tokenizer=tokenizer)
    assert remote["api"] == "dataframe"
    assert remote["master"].startswith("sc://localhost:")
    assert remote["counts"] == local.counts == counter_reference([text.read_text()], tokenizer)
    assert [tuple(pair) for pair in remote["top"]] == local.top


def test_mllib_over_connect_equals_numpy(cluster, wine_csv, tmp_path):
    """Fits on the cluster's executors, driven through the server."""
    remote = run_over_connect(cluster, "mllib", {"data": wine_csv, "folds": FOLDS}, tmp_path)
    x, y, is_test, _ = reference_rows(wine_csv)
    exact = lstsq(x[~is_test], y[~is_test])
    np.testing.assert_allclose(remote["fits"]["normal"]["raw_weights"], exact, rtol=1e-6)
    np.testing.assert_allclose(remote["fits"]["l-bfgs"]["raw_weights"], exact, rtol=1e-4)
    assert (remote["n_train"], remote["n_test"]) == (int((~is_test).sum()), int(is_test.sum()))
    # k normal-equation solves against k SVD solves: rounding only.
    np.testing.assert_allclose(remote["cv"]["mean_val_mse"], np.mean(cv_errors(wine_csv)), rtol=1e-7)


def test_an_rdd_job_over_connect_says_what_to_run_instead(cluster):
    with pytest.raises(JobError, match=r"gd is an RDD job and Spark Connect has no RDDs"):
        connect.job_command("gd", {}, env=cluster.env)


def test_a_server_that_is_not_up_is_reported_with_what_to_run(cluster):
    env = {**cluster.env, "COMPOSE_PROJECT_NAME": "sparklab-test-not-started"}
    with pytest.raises(
        JobError, match=r"^the Spark Connect server is not running: run `./lab up --connect`$"
    ):
        connect.connect_url(env)
