"""./lab, the launcher: which Python and Java it takes, and its one-line
refusals (exit 2) for the ones it cannot (no Docker, no JVM started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def stand_in(directory: Path, name: str, script: str) -> Path:
    """A program on PATH that answers as another version would."""
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "lab"), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture
def path_with(tmp_path):
    """The environment with tmp_path first on PATH and no JAVA_HOME or SPARKLAB_PYTHON."""
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARKLAB_PYTHON")}
    return env | {"PATH": f"{tmp_path}:{env['PATH']}"}


def test_a_python_older_than_311_is_refused_in_one_line(tmp_path, path_with):
    stand_in(tmp_path, "python3.10", "exec python3 -c 'import sys; sys.exit(1)' \"$@\"")
    done = lab("--list", env=path_with | {"SPARKLAB_PYTHON": "python3.10"})
    assert done.returncode == 2
    said = done.stderr.strip().splitlines()
    assert len(said) == 1, said
    assert said[0].startswith("lab: no Python 3.11 to 3.13 found"), said
    assert "SPARKLAB_PYTHON=python3.12" in said[0]


def test_a_java_older_than_17_is_refused_and_21_is_taken(tmp_path, path_with):
    stand_in(tmp_path, "java", "echo 'openjdk version \"11.0.24\" 2024-07-16' >&2")
    old = lab("--list", env=path_with)
    assert old.returncode == 2, old.stderr
    assert old.stderr.strip().splitlines()[-1] == (
        "lab: java 11 found: Spark 4 needs Java 17 or 21 (put one first on PATH, or set JAVA_HOME)"
    )

    java_home = tmp_path / "jdk-21"
    (java_home / "bin").mkdir(parents=True)
    stand_in(java_home / "bin", "java", "echo 'openjdk version \"21.0.5\" 2024-10-15' >&2")
    new = lab("--list", env=path_with | {"JAVA_HOME": str(java_home)})  # JAVA_HOME wins over PATH
    assert new.returncode == 0, new.stderr
    assert "demo" in new.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="the stand-ins are POSIX shell scripts")
def test_lab_needs_no_sha256sum_and_no_proc(tmp_path, path_with):
    stand_in(tmp_path, "sha256sum", "echo 'sha256sum was called' >&2; exit 99")
    done = lab("--list", env=path_with)
    assert done.returncode == 0, done.stderr
    assert "sha256sum was called" not in done.stderr
    code = [line for line in (ROOT / "lab").read_text().splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if "/proc" in line.split("#")[0]]
