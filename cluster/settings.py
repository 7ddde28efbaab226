"""Where the cluster's settings come from, and whether Docker can run it.

`.env` is the one source of every default (Compose reads it too); an
environment variable of the same name wins. `engine_problem` is the one
check of the Docker engine, shared by the lifecycle and the image build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from jobs.errors import JobError, last_line

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET_FILE = ROOT / "cluster" / "secret" / "spark.secret"
NOTEBOOK_TOKEN_FILE = ROOT / "cluster" / "secret" / "notebook.token"
CONNECT_TOKEN_FILE = ROOT / "cluster" / "secret" / "connect.token"
NOTEBOOK_PASSWD_FILE = ROOT / "cluster" / "secret" / "notebook.passwd"
CONNECT_PROFILE = "connect"
MASTER_URL = "spark://master:7077"
# Across machines (`./lab up --advertise ADDR`, `./lab join`): the fixed
# ports published on ADDR; the per-host part (names, peers) is generated.
ADVERTISE_FILE = ROOT / "cluster" / "advertise.yml"
ADVERTISE_ENV = "SPARKLAB_ADVERTISE"


class ClusterError(JobError):
    """The cluster is not there or not usable; the message says what to run."""


def dotenv(path: Path = ROOT / ".env") -> dict[str, str]:
    """The defaults in .env (what `docker compose` reads too)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def setting(name: str) -> str:
    """A setting: the environment's value if set and not empty, else .env's."""
    return os.environ.get(name) or dotenv().get(name, "")


def default_workers() -> int:
    return int(setting("SPARKLAB_WORKERS"))


def engine_problem() -> str | None:
    """None when Docker and Compose v2 answer; otherwise what is missing."""
    if not shutil.which("docker"):
        return "no Docker engine (the `docker` command is not installed)"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
    )
    if info.returncode != 0:
        return f"the Docker engine does not answer ({last_line(info.stderr, 'no answer')})"
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if compose.returncode != 0:
        return "Docker Compose v2 is missing (`docker compose version` fails; `./lab` installs it)"
    return None


def data_dir() -> Path:
    """The host directory mounted read-only at /sparklab/external: the wine CSV's."""
    wine = os.environ.get("SPARKLAB_WINE_CSV")
    if wine and Path(wine).is_file():
        return Path(wine).resolve().parent
    return (ROOT / setting("SPARKLAB_DATA_DIR")).resolve()


def checkout_project(root: Path = ROOT) -> str:
    """This checkout's own Compose project: two checkouts never share
    containers, volumes or a secret. The folder's name is for people; a
    hash of its path keeps two folders of the same name apart."""
    folder = re.sub(r"[^a-z0-9_-]+", "-", root.name.lower()).strip("-_") or "checkout"
    return f"sparklab-{folder}-{hashlib.sha256(str(root).encode()).hexdigest()[:6]}"


def compose_env(workers: int | None = None, project: str | None = None) -> dict[str, str]:
    """The environment every `docker compose` call runs with: this checkout's
    project (or `project`), and the ids of the user who runs it, which the
    containers that write into the checkout run as (the notebook)."""
    env = dict(os.environ)
    env["SPARKLAB_DATA_DIR"] = str(data_dir())
    if workers is not None:
        env["SPARKLAB_WORKERS"] = str(workers)
    env["COMPOSE_PROJECT_NAME"] = project or env.get("COMPOSE_PROJECT_NAME") or checkout_project()
    env.setdefault("SPARKLAB_UID", str(os.getuid()))
    env.setdefault("SPARKLAB_GID", str(os.getgid()))
    return env


def compose_command(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The one builder of a `docker compose` command line for this project.
    When `env` (or this process's environment) advertises an address
    (SPARKLAB_ADVERTISE), the across-machines override files come too."""
    env = os.environ if env is None else env
    files = [COMPOSE_FILE]
    if env.get(ADVERTISE_ENV):
        from cluster.across import host_file

        files += [ADVERTISE_FILE, host_file(env)]
    return ["docker", "compose", *(part for file in files for part in ("-f", str(file))), *args]
