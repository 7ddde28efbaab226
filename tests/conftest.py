"""Shared fixtures: one local[2] SparkSession for the whole run, and the data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobs.data.paths import WINE_DEFAULT, WINE_ENV

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark():
    from jobs.runtime.session import build_session

    # local[2], not local: one thread would hide partitioning bugs.
    session = build_session("local[2]", "sparklab-tests", conf={"spark.ui.enabled": "false"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def wine_csv() -> str:
    path = os.environ.get(WINE_ENV) or str(WINE_DEFAULT)
    if not Path(path).is_file():
        pytest.fail(f"wine data missing at {path}: run `./lab data` or set {WINE_ENV}")
    return path


@pytest.fixture
def write_csv(tmp_path):
    """Write a small `;` CSV with the wine file's header shape; returns its path."""

    def write(rows: list[str], header: str = '"a";"b";"c";"y"', name: str = "data.csv") -> str:
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n" if header is not None else "\n".join(rows))
        return str(path)

    return write


@pytest.fixture(scope="session")
def cluster():
    """The Compose cluster (2 workers), started once for every cluster test."""
    from tests.cluster_fixture import running_cluster

    with running_cluster(workers=2) as running:
        yield running


@pytest.fixture(scope="session")
def connect_server(cluster):
    """The cluster with its Spark Connect server, started on first use."""
    from tests.cluster_fixture import start_connect

    return start_connect(cluster)


@pytest.fixture(scope="session")
def cluster_runs(cluster, tmp_path_factory):
    """Runs on the cluster whose results several modules only read, in one application."""
    from tests.cluster_fixture import shared_runs

    return shared_runs(cluster, tmp_path_factory.mktemp("shared-runs"))
