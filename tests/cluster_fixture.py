"""The Compose cluster for the tests, started and stopped by the very
`lifecycle.up` and `lifecycle.down` that `./lab up` and `./lab down` run:
an isolated project (its own name, any free ports), torn down whatever
happens (the Connect server too, where `start_connect` started it), with
the containers' logs in any failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from cluster import engine, lifecycle
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
    probe: dict  # what `up`'s version probe found on every executor

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
