"""The Compose cluster for the tests: testcontainers' DockerCompose with the
project's own compose file, isolated (own project name, any free ports),
torn down whatever happens, with the containers' logs in any failure."""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from cluster import credentials, engine, lifecycle, settings
from cluster.project import ComposeProject

# testcontainers' reaper (Ryuk) is a public image this machine cannot pull;
# teardown is guaranteed by the fixture's finally instead.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")


def cluster_required() -> bool:
    """CI sets SPARKLAB_REQUIRE_CLUSTER; an installed Docker CLI also means 'must run'."""
    return (
        os.environ.get("SPARKLAB_REQUIRE_CLUSTER") == "1"
        or bool(os.environ.get("CI"))
        or bool(shutil.which("docker"))
    )


@dataclass
class Cluster:
    compose: object  # testcontainers DockerCompose
    project: ComposeProject
    workers: int

    @property
    def env(self) -> dict[str, str]:
        """The environment of a `./lab` started against this cluster (its project's)."""
        return self.project.environment()

    def logs(self) -> str:
        out, err = self.compose.get_logs()
        return (out + err)[-6000:]


@contextmanager
def running_cluster(workers: int = 2):
    problem = engine.engine_problem()
    if problem:
        message = f"cluster tests need Docker: {problem}"
        if cluster_required():
            pytest.fail(message + " (required here: SPARKLAB_REQUIRE_CLUSTER, CI, or a docker CLI)")
        pytest.skip(message)
    from testcontainers.compose import DockerCompose

    credentials.ensure_secret()
    credentials.ensure_connect_token()
    tag = lifecycle.ensure_images()
    project = ComposeProject.of_checkout(workers, name=f"sparklab-test-{uuid.uuid4().hex[:8]}")
    project = project.with_variables(SPARKLAB_IMAGE=tag, SPARKLAB_MASTER_UI_PORT="", SPARKLAB_HISTORY_PORT="")
    # The Spark Connect server too (tests/cluster/test_connect.py): idle, it
    # holds no executor (dynamic allocation), so the other tests see the
    # cluster's every slot. `down` removes it with the rest (same profile).
    project = project.with_profiles(settings.CONNECT_PROFILE).with_variables(SPARKLAB_CONNECT_PORT="")
    saved = dict(os.environ)
    os.environ.update(project.environment())  # DockerCompose runs `docker compose` with this process's
    compose = DockerCompose(str(settings.ROOT), compose_file_name="docker-compose.yml", wait=True)
    cluster = Cluster(compose, project, workers)
    try:
        try:
            compose.start()
        except Exception as error:
            pytest.fail(f"the cluster did not come up: {error}\n{cluster.logs()}")
        yield cluster
    finally:
        try:
            compose.stop(down=True)
        finally:
            os.environ.clear()
            os.environ.update(saved)
