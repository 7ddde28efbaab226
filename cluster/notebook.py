"""The notebook service (Compose profile `notebook`): JupyterLab as a Spark
driver on the cluster, its token kept like the RPC secret, notebooks/ mounted
read-write."""

from __future__ import annotations

import os
from pathlib import Path

from cluster.lifecycle import compose, ensure_secret, require_running, service_url
from cluster.settings import NOTEBOOK_TOKEN_FILE, ROOT, compose_env


def start(env: dict[str, str] | None = None) -> str:
    """Start JupyterLab on the running cluster (building its image once);
    returns its address with the token (the token is never logged)."""
    from cluster import images

    require_running(env)
    writable_for_the_container(ROOT / "notebooks")
    token = ensure_secret(NOTEBOOK_TOKEN_FILE).read_text().strip()
    env = dict(env or compose_env())
    env.setdefault("SPARKLAB_NOTEBOOK_IMAGE", images.build_notebook())
    compose("--profile", "notebook", "up", "-d", "--wait", "--no-deps", "notebook", env=env)
    return f"{service_url('notebook', 8888, env)}/lab?token={token}"


CONTAINER_UID = 1000  # the images' user `spark` (cluster/images/build-base.sh)


def writable_for_the_container(directory: Path) -> None:
    """JupyterLab runs as `spark` (uid 1000) and saves into the bind-mounted
    directory. A host user with that uid (the usual first Linux user) already
    owns it; as root, hand it to that uid so notebooks can be saved."""
    if os.geteuid() != 0:
        return
    for path in [directory, *directory.rglob("*")]:
        if path.stat().st_uid != CONTAINER_UID:
            os.chown(path, CONTAINER_UID, CONTAINER_UID, follow_symlinks=False)


def stop(env: dict[str, str] | None = None) -> None:
    """Stop and remove the JupyterLab container alone (notebooks/ stays on the host)."""
    compose("--profile", "notebook", "rm", "--stop", "--force", "notebook", env=env)
