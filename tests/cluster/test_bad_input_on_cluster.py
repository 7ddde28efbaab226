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


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory) -> dict[str, dict]:
    """The module's three runs in one application (`--then`): one start, not three."""
    where = tmp_path_factory.mktemp("bad-input")
    named = write_rows(where / "w[12].csv", exact_rows(300, 1))
    write_rows(where / "w1.csv", exact_rows(500, 2))  # what the glob would match
    exact = write_rows(where / "exact.csv", exact_rows(400, 3))
    planned = {
        "glob": ("gd", {"data": named, "iterations": 3}),
        "exact": ("gd", {"data": exact, "iterations": 2000, "one_job": True, "partitions": 2, "quiet": True}),
        "default_corpus": ("wordcount", {}),
    }
    paths = submit.submit_all(
        cluster.project,
        [(job, {**options, "out": str(where / name)}) for name, (job, options) in planned.items()],
        echo=False,
    )
    return {name: json.loads(path.read_text()) for name, path in zip(planned, paths, strict=True)}


def test_a_path_with_glob_characters_is_read_as_that_file_on_the_cluster(runs):
    payload = runs["glob"]
    assert payload["data"].endswith("/w[12].csv"), payload["data"]
    assert payload["n_train"] + payload["n_test"] == 300


def test_a_fit_that_reaches_an_exact_solution_is_not_divergent_on_the_cluster(runs):
    payload = runs["exact"]
    assert payload["train_mse"][-1] < 1e-20 * payload["train_mse"][0]
    np.testing.assert_allclose(payload["raw_weights"], [1.0, 2.0, -1.0, 0.5], rtol=1e-9)


def test_an_out_that_is_a_file_is_refused_before_the_work_on_the_cluster(cluster, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    with pytest.raises(JobError, match=rf"^--out {taken}: is a file, not a directory$"):
        submit.submit(cluster.project, "gd", {"iterations": 3, "out": str(taken)}, echo=False)


def test_word_count_on_the_cluster_defaults_to_the_articles_corpus(runs):
    payload = runs["default_corpus"]
    assert payload["files"] == ["/sparklab/data/peter_piper.txt"]
    assert payload["counts"]["peck"] == 5
