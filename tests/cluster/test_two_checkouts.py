"""Two checkouts on one machine: each its own Compose project, and a port the
other's cluster publishes refused in one line naming its folder, before
anything starts; Compose's own reason on any failure."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from cluster import images, lifecycle
from cluster.project import ComposeProject
from cluster.settings import ClusterError

pytestmark = pytest.mark.cluster


@pytest.fixture
def other_checkouts_master(cluster, tmp_path):
    """A container labelled as another checkout's master (as Compose labels
    it), publishing a free loopback port as the master UI does."""
    folder = tmp_path / "other-checkout"
    name = f"sparklab-test-other-{uuid.uuid4().hex[:8]}"
    labels = ["--label", "com.docker.compose.project=sparklab-other-checkout-0a1b2c"]
    labels += ["--label", f"com.docker.compose.project.working_dir={folder}"]
    sleeper = ["--entrypoint", "sleep", images.BASE_TAG, "300"]
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", name, *labels, "-p", "127.0.0.1::8080", *sleeper],
        check=True,
        capture_output=True,
    )
    try:
        port = subprocess.run(
            ["docker", "port", name, "8080"], check=True, capture_output=True, text=True
        ).stdout.split(":")[-1]
        yield folder, port.strip()
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_up_refuses_a_port_another_checkouts_cluster_holds_naming_its_folder(other_checkouts_master):
    folder, port = other_checkouts_master
    project = f"sparklab-test-mine-{uuid.uuid4().hex[:8]}"
    mine = ComposeProject.of_checkout(1, name=project).with_variables(SPARKLAB_MASTER_UI_PORT=port)

    with pytest.raises(ClusterError) as refused:
        lifecycle.up(mine, 1)

    said = str(refused.value)
    assert "\n" not in said
    assert f"port {port} on 127.0.0.1 is already published by the cluster of {folder}" in said
    assert f"(cd {folder} && ./lab down)" in said
    assert "SPARKLAB_MASTER_UI_PORT" in said
    started = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.strip() == "", "containers were started before the refusal"


def test_a_compose_failure_says_composes_own_reason(cluster):
    with pytest.raises(ClusterError) as failed:
        cluster.project.run("up", "-d", "no-such-service")
    said = str(failed.value)
    assert said.startswith("`docker compose up -d no-such-service` failed (exit ")
    assert "no such service: no-such-service" in said, said
