"""The notebook service (Compose profile `notebook`): JupyterLab as a Spark
driver on the cluster, its token kept like the RPC secret, notebooks/ mounted
read-write."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cluster import images
from cluster.credentials import ensure_secret
from cluster.lifecycle import require_running, service_url, wait_ready
from cluster.project import ComposeProject
from cluster.settings import NOTEBOOK_PASSWD_FILE, NOTEBOOK_TOKEN_FILE
from jobs.report.files import write_text_atomic


def start(project: ComposeProject) -> str:
    """Start JupyterLab on the running cluster (building its image once);
    returns its address with the token (the token is never logged)."""
    require_running(project)
    write_passwd()
    token = ensure_secret(NOTEBOOK_TOKEN_FILE).read_text().strip()
    project = project.with_defaults(SPARKLAB_NOTEBOOK_IMAGE=images.build_notebook())
    project.run("--profile", "notebook", "up", "-d", "--no-deps", "notebook")
    wait_ready(project.with_profiles("notebook"), ["notebook"], timeout=300)
    return f"{service_url(project, 'notebook', 8888)}/lab?token={token}"


CONTAINER_USERS = (
    "root:x:0:0:root:/root:/bin/sh",
    "spark:x:1000:1000:spark:/home/spark:/bin/sh",  # the images' user (build-base.sh)
)


def write_passwd(path: Path = NOTEBOOK_PASSWD_FILE, uid: int | None = None, gid: int | None = None) -> Path:
    """The notebook container's /etc/passwd: it runs as the user who ran
    ./lab (docker-compose.yml says why), and Spark's JVM refuses a user
    with no name. Written where the secrets are (git-ignored)."""
    uid = os.getuid() if uid is None else uid
    gid = os.getgid() if gid is None else gid
    known = {int(line.split(":")[2]) for line in CONTAINER_USERS}
    you = [] if uid in known else [f"lab:x:{uid}:{gid}:the user who ran ./lab:/tmp:/bin/sh"]
    write_text_atomic(path, "\n".join([*CONTAINER_USERS, *you]) + "\n")
    return path


def stop(project: ComposeProject) -> None:
    """Stop and remove the JupyterLab container alone (notebooks/ stays on the host)."""
    project.run("--profile", "notebook", "rm", "--stop", "--force", "notebook")


def command(project: ComposeProject, stop_it: bool) -> None:
    """`./lab notebook`: its address with the token; `--stop`: the service alone stopped."""
    if stop_it:
        stop(project)
        print("notebook: stopped (notebooks/ keeps your work)", file=sys.stderr)
        return
    print(start(project))
