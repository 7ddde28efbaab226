"""Bad input on the cluster, as on local[*]: the path named is the file read,
a fit that reaches an exact solution is not called divergent, an --out that
cannot be written is refused before the work. (Interrupts: test_shared_service.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cluster import submit
from jobs.errors import JobError

pytestmark = pytest.mark.cluster


def write_rows(path, rows) -> str:
    path.write_text('"a";"b";"c";"y"\n' + "".join(";".join(f"{v:g}" for v in row) + "\n" for row in rows))
    return str(path)


def exact_rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    features = rng.integers(-20, 20, size=(n, 3)).astype(float)
    return np.column_stack([features, 1.0 + features @ np.array([2.0, -1.0, 0.5])])


def test_a_path_with_glob_characters_is_read_as_that_file_on_the_cluster(cluster, tmp_path):
    named = write_rows(tmp_path / "w[12].csv", exact_rows(300, 1))
    write_rows(tmp_path / "w1.csv", exact_rows(500, 2))  # what the glob would match
    path = submit.submit(
        "gd", {"data": named, "iterations": 3}, out=tmp_path / "out", env=cluster.env, echo=False
    )
    payload = json.loads(path.read_text())
    assert payload["data"].endswith("/w[12].csv"), payload["data"]
    assert payload["n_train"] + payload["n_test"] == 300


def test_a_fit_that_reaches_an_exact_solution_is_not_divergent_on_the_cluster(cluster, tmp_path):
    data = write_rows(tmp_path / "exact.csv", exact_rows(400, 3))
    path = submit.submit(
        "gd",
        {"data": data, "iterations": 2000, "one_job": True, "partitions": 2, "quiet": True},
        out=tmp_path / "out",
        env=cluster.env,
        echo=False,
    )
    payload = json.loads(path.read_text())
    assert payload["train_mse"][-1] < 1e-20 * payload["train_mse"][0]
    np.testing.assert_allclose(payload["raw_weights"], [1.0, 2.0, -1.0, 0.5], rtol=1e-9)


def test_an_out_that_is_a_file_is_refused_before_the_work_on_the_cluster(cluster, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    with pytest.raises(JobError, match=rf"^--out {taken}: is a file, not a directory$"):
        submit.submit("gd", {"iterations": 3, "out": str(taken)}, env=cluster.env, echo=False)


def test_word_count_on_the_cluster_defaults_to_the_articles_corpus(cluster, tmp_path):
    path = submit.submit("wordcount", {}, out=tmp_path, env=cluster.env, echo=False)
    payload = json.loads(path.read_text())
    assert payload["files"] == ["/sparklab/data/peter_piper.txt"]
    assert payload["counts"]["peck"] == 5
