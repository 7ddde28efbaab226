"""The Compose cluster for the tests, started and stopped by the very
`lifecycle.up` and `lifecycle.down` that `./lab up` and `./lab down` run:
an isolated project (its own name, any free ports), torn down whatever
happens (the Connect server too, where `start_connect` started it), with
the containers' logs in any failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cluster import engine, lifecycle, submit
from cluster.project import ComposeProject
from cluster.settings import CONNECT_PROFILE, ClusterError


def cluster_required() -> bool:
    """CI sets SPARKLAB_REQUIRE_CLUSTER; an installed Docker CLI also means 'must run'."""
    return (
        os.environ.get("SPARKLAB_REQUIRE_CLUSTER") == "1"
        or bool(os.environ.get("CI"))
        or bool(shutil.which("docker"))
    )


@dataclass
class Cluster:
    project: ComposeProject
    workers: int
    probe: dict  # what `up`'s version check found (lifecycle.same_versions_everywhere)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a `./lab` started against this cluster (its project's)."""
        return self.project.environment()

    def logs(self) -> str:
        done = self.project.every_profile().run(
            "logs", "--no-color", "--tail", "100", check=False, capture=True
        )
        return (done.stdout + done.stderr)[-6000:]


@contextmanager
def running_cluster(workers: int = 2):
    problem = engine.engine_problem()
    if problem:
        message = f"cluster tests need Docker: {problem}"
        if cluster_required():
            pytest.fail(message + " (required here: SPARKLAB_REQUIRE_CLUSTER, CI, or a docker CLI)")
        pytest.skip(message)
    project = ComposeProject.of_checkout(workers, name=f"sparklab-test-{uuid.uuid4().hex[:8]}")
    project = project.with_variables(
        SPARKLAB_IMAGE=lifecycle.ensure_images(),  # the tests' own `up` and `run` calls keep it
        # Any free ports: beside a developer's own cluster, and beside the other streams'.
        SPARKLAB_MASTER_UI_PORT="",
        SPARKLAB_HISTORY_PORT="",
        SPARKLAB_CONNECT_PORT="",
    )
    try:
        try:
            found = lifecycle.up(project, workers)
        except (ClusterError, OSError, subprocess.SubprocessError) as error:
            pytest.fail(f"the cluster did not come up: {error}\n{Cluster(project, workers, {}).logs()}")
        yield Cluster(project, workers, found)
    finally:
        lifecycle.down(project, volumes=True)


def start_connect(cluster: Cluster) -> Cluster:
    """The running cluster with its Spark Connect server, started as `./lab up
    --connect` starts it on a running cluster (the same `resize`): only a
    pytest process whose tests use it pays for its JVM. Idle, it holds no
    executor (dynamic allocation), so the other tests see every slot."""
    lifecycle.resize(cluster.project.with_profiles(CONNECT_PROFILE), cluster.workers)
    return cluster


def write_rows(path: Path, rows) -> str:
    path.write_text('"a";"b";"c";"y"\n' + "".join(";".join(f"{v:g}" for v in row) + "\n" for row in rows))
    return str(path)


def exact_rows(n: int, seed: int) -> np.ndarray:
    """Rows whose y is exactly 1 + 2a - b + c/2: least squares fits them with no error."""
    rng = np.random.default_rng(seed)
    features = rng.integers(-20, 20, size=(n, 3)).astype(float)
    return np.column_stack([features, 1.0 + features @ np.array([2.0, -1.0, 0.5])])


def shared_runs(cluster: Cluster, where: Path) -> dict[str, dict]:
    """The runs whose results several modules only read, in ONE application
    (`--then`), as `./lab demo` runs its jobs: one driver and two executors
    started, not five. Each run's inputs lie in `where`, outside the mounts
    (copied in for the run), but the article's corpus."""
    named = write_rows(where / "w[12].csv", exact_rows(300, 1))
    write_rows(where / "w1.csv", exact_rows(500, 2))  # what the glob would match
    exact = write_rows(where / "exact.csv", exact_rows(400, 3))
    mine = where / "mine.txt"
    mine.write_text("to be or not to be\n")
    planned = {
        "glob": ("gd", {"data": named, "iterations": 3}),
        "exact": ("gd", {"data": exact, "iterations": 2000, "one_job": True, "partitions": 2, "quiet": True}),
        "default_corpus": ("wordcount", {"top": 5}),
        "outside_the_mounts": ("wordcount", {"input": [str(mine)]}),
    }
    paths = submit.submit_all(
        cluster.project,
        [(job, {**options, "out": str(where / name)}) for name, (job, options) in planned.items()],
        echo=False,
    )
    return {name: json.loads(path.read_text()) for name, path in zip(planned, paths, strict=True)}


def apps_named(project: ComposeProject, prefix: str) -> list[str]:
    """The ids of the running applications whose name starts with `prefix`."""
    apps = lifecycle.master_state(project).get("activeapps", [])
    return [a["id"] for a in apps if a["name"].startswith(prefix)]
