"""Where the cluster's settings come from: the bottom of `cluster/`.

`.env` is the one source of every default (Compose reads it too); an
environment variable of the same name wins. This checkout's paths, its own
Compose project name, and ClusterError. Imports nothing else of `cluster/`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from jobs.errors import JobError

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_FILE = ROOT / ".env"
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


def dotenv(path: Path = ENV_FILE) -> dict[str, str]:
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
