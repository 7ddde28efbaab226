"""Two "hosts" on this one machine: two Compose projects on two Docker
networks that share nothing. Host B reaches host A only through the ports A
publishes on its advertised address, which is the gateway address of a
Docker network this test creates (the host owns it; traffic stays here)."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from contextlib import ExitStack, contextmanager

import pytest

from cluster import across, engine, lifecycle, settings, submit
from cluster.hosts import join
from cluster.project import ComposeProject
from cluster.settings import ClusterError
from jobs.runtime.standalone import alive_workers
from jobs.wordcount import run

pytestmark = [pytest.mark.cluster, pytest.mark.hosts]

PEPER = settings.ROOT / "data" / "peter_piper.txt"


@contextmanager
def host_address(name: str, subnet: str):
    """A Docker network of our own whose gateway address stands for a host's address."""
    subprocess.run(["docker", "network", "create", "--subnet", subnet, name], check=True, capture_output=True)
    try:
        yield subnet.rsplit(".", 1)[0] + ".1"
    finally:
        subprocess.run(["docker", "network", "rm", name], check=False, capture_output=True)


@pytest.fixture
def two_hosts():
    problem = engine.engine_problem()
    if problem:
        pytest.skip(f"cluster tests need Docker: {problem}")
    run_id, octet = uuid.uuid4().hex[:8], random.randint(2, 250)
    loose = {"SPARKLAB_MASTER_UI_PORT": "", "SPARKLAB_HISTORY_PORT": ""}  # any free port
    hostnet = f"sparklab-test-hostnet-{run_id}"
    with ExitStack() as stack:
        addr_a = stack.enter_context(host_address(f"{hostnet}-a", f"10.251.{octet}.0/24"))
        addr_b = stack.enter_context(host_address(f"{hostnet}-b", f"10.252.{octet}.0/24"))
        project_a = across.advertised(
            ComposeProject.of_checkout(1, name=f"sparklab-across-{run_id}-a").with_variables(**loose),
            addr_a,
            [addr_b],
        )
        project_b = ComposeProject.of_checkout(1, name=f"sparklab-across-{run_id}-b").with_variables(**loose)
        # Torn down whatever happens, B first (its worker is A's too).
        stack.callback(lifecycle.down, project_a, volumes=True)
        stack.callback(lifecycle.down, across.advertised(project_b, addr_b, [addr_a]), volumes=True)
        yield addr_a, addr_b, project_a, project_b


def test_a_job_runs_on_both_hosts_and_a_wrong_secret_never_registers(two_hosts, spark, tmp_path):
    addr_a, addr_b, project_a, project_b = two_hosts
    master = f"spark://{addr_a}:7077"
    lifecycle.up(project_a, 1, advertise=addr_a, peers=[addr_b], timeout=240)

    wrong = tmp_path / "wrong.secret"
    wrong.write_text(uuid.uuid4().hex + "\n")
    with pytest.raises(ClusterError) as refused:
        join(project_b, master, advertise=addr_b, secret_file=wrong, timeout=60)
    print(f"\nwrong secret: {refused.value}")
    assert "\n" not in str(refused.value)
    assert "did not register" in str(refused.value)
    assert "refused its authentication" in str(refused.value)  # said at once, not after the 60 s
    hosts = [w["host"] for w in alive_workers(lifecycle.master_state(project_a))]
    assert hosts == [across.host_name(addr_a)], hosts

    assert join(project_b, master, advertise=addr_b, timeout=150) == across.host_name(addr_b)
    lifecycle.wait_for_workers(project_a, 2)
    # Before the first job on the joined host: the version probe on both hosts' executors.
    probed = lifecycle.probe_hosts_that_joined(project_a)
    assert probed is not None, "a host joined, yet nothing was probed"
    assert probed["mismatches"] == [], probed
    assert set(probed["nodes"]) == {across.host_name(addr_a), across.host_name(addr_b)}, probed
    assert lifecycle.probe_hosts_that_joined(project_a) is None, "the same hosts are probed once"

    path = submit.submit(project_a, "wordcount", {"input": [str(PEPER)], "top": 5}, out=tmp_path, echo=False)
    remote = json.loads(path.read_text())
    local = run(spark, [str(PEPER)], top=5)
    assert remote["counts"] == local.counts
    assert [tuple(pair) for pair in remote["top"]] == local.top
    executor_hosts = set(remote["metrics"]["executor_hosts"])
    assert {across.host_name(addr_a), across.host_name(addr_b)} <= executor_hosts, executor_hosts
