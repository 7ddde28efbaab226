"""Bad input on the cluster, as on local[*]: the path named is the file read,
a fit that reaches an exact solution is not called divergent, an --out that
cannot be written is refused before the work. The runs share one application
(`cluster_runs`, tests/conftest.py). (Interrupts: test_shared_service.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cluster import lifecycle, submit
from jobs.errors import JobError

pytestmark = pytest.mark.cluster


def test_a_path_with_glob_characters_is_read_as_that_file_on_the_cluster(cluster_runs):
    payload = cluster_runs["glob"]
    assert payload["data"].endswith("/w[12].csv"), payload["data"]
    assert payload["n_train"] + payload["n_test"] == 300


def test_a_fit_that_reaches_an_exact_solution_is_not_divergent_on_the_cluster(cluster_runs):
    payload = cluster_runs["exact"]
    assert payload["train_mse"][-1] < 1e-20 * payload["train_mse"][0]
    np.testing.assert_allclose(payload["raw_weights"], [1.0, 2.0, -1.0, 0.5], rtol=1e-9)


def test_an_out_that_is_a_file_is_refused_before_the_work_on_the_cluster(cluster, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    with pytest.raises(JobError, match=rf"^--out {taken}: is a file, not a directory$"):
        submit.submit(cluster.project, "gd", {"iterations": 3, "out": str(taken)}, echo=False)


def test_word_count_on_the_cluster_defaults_to_the_articles_corpus(cluster_runs):
    payload = cluster_runs["default_corpus"]
    assert payload["files"] == ["/sparklab/data/peter_piper.txt"]
    assert payload["counts"]["peck"] == 5


def test_a_run_that_fails_in_the_driver_leaves_its_record_and_the_host_says_its_line(cluster, tmp_path):
    """The job's last word is its error record (kind, message, file and line,
    exit code) beside its results in the driver container, not a line the
    host matches: the host's one line is the record's. (A header of numbers
    is refused before Spark starts: no application.)"""
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("1;2;3\n4;5;6\n")
    with pytest.raises(JobError) as refused:
        submit.submit(cluster.project, "gd", {"data": str(numbers)}, out=tmp_path / "out", echo=False)
    said = str(refused.value)
    assert said.startswith("error: /sparklab/"), said
    assert said.endswith("numbers.csv:1: the first line holds numbers; expected a header of column names")
    listed = lifecycle.exec_driver(
        cluster.project, ["sh", "-c", "cat $(ls -t /sparklab/results/*/error.json | head -n 1)"]
    )
    record = json.loads(listed.stdout)
    assert record == {
        "kind": "error",
        "message": said.removeprefix("error: "),
        "path": record["path"],
        "line": 1,
        "exit_code": 2,
    }
    assert record["path"].endswith("/numbers.csv")
    assert said.startswith(f"error: {record['path']}:1: ")
    assert not (tmp_path / "out").exists()
