"""Another host's worker joins host A's master: `./lab join spark://ADDR_A:7077
--advertise ADDR_B` (the design: `cluster.across`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from cluster import images, lifecycle
from cluster.across import AUTH_REFUSED, advertised, host_name, master_address, require_secret
from cluster.credentials import ensure_connect_token
from cluster.project import ComposeProject
from cluster.settings import ADVERTISE_ENV, SECRET_FILE, ClusterError
from jobs.waiting import NotReady, wait_until


def join_command(
    project: ComposeProject, master: str | None, advertise: str | None, peers: list[str]
) -> None:
    """`./lab join spark://ADDR_A:7077 --advertise ADDR_B`: says which worker registered."""
    if not master or not advertise:
        raise ClusterError(
            "give host A's master and this host's address: ./lab join spark://ADDR_A:7077 --advertise ADDR_B"
        )
    name = join(project, master, advertise=advertise, peers=peers)
    print(f"join: worker {name} registered with {master}; `./lab down` here removes it")


def join(
    project: ComposeProject,
    master: str,
    *,
    advertise: str,
    workers: int = 1,
    peers: Iterable[str] = (),
    secret_file: Path | None = None,
    timeout: float = 120,
) -> str:
    """Start this host's worker, registered with the remote master; returns its Spark name.
    `secret_file`: another secret than this checkout's (the tests: a wrong one)."""
    master_host = master_address(master)
    if workers != 1:
        raise ClusterError(
            "one worker per host across machines (its ports are fixed); "
            "give it more task slots with SPARKLAB_WORKER_CORES instead"
        )
    project = advertised(
        project.with_variables(SPARKLAB_WORKERS="1"),
        advertise,
        [master_host, *peers],
        join=master.strip(),
        secret_file=secret_file,
    )
    require_secret(master_host, secret_file or SECRET_FILE)
    ensure_connect_token()  # Compose wants every secret's file, used or not
    tag = lifecycle.ensure_images()
    images.check_versions(tag)  # this image carries exactly this checkout's pins
    project = project.with_defaults(SPARKLAB_IMAGE=tag)
    addr = project.value(ADVERTISE_ENV)
    print(f"join: starting a worker on {addr} for {master} (image {tag})", file=sys.stderr)
    project.run("up", "-d", "--no-deps", "worker", capture=True)
    # Registered is what the worker itself says (its healthcheck, asked here,
    # not Compose's view of it); a refused secret shows in its log at its
    # first attempt, so that ends the wait at once.

    def registered_or_refused() -> str | NotReady:
        check = ["exec", "-T", "worker", lifecycle.HEALTHCHECK, "worker"]
        if project.run(*check, check=False, capture=True).returncode == 0:
            return "registered"
        logs = project.run("logs", "--no-color", "worker", check=False, capture=True).stdout
        return "refused" if AUTH_REFUSED.search(logs) else NotReady("not registered")

    ended = wait_until(registered_or_refused, timeout=timeout, interval=2)
    if ended == "registered":
        return host_name(addr)
    project.run("rm", "--stop", "--force", "worker", check=False, capture=True)
    if ended == "refused":
        raise ClusterError(
            f"the worker did not register with {master}: the master refused its authentication "
            "(is cluster/secret/spark.secret host A's?)"
        )
    raise ClusterError(
        f"the worker did not register with {master} within {timeout:.0f} s (can it reach {master_host} "
        f"ports 7077-7079, and host A reach {addr}:7081?)"
    )
