"""SparkLab on a machine its users have: a second "host" made here from
Debian's packages (Debian 13: Python 3.13, OpenJDK 21, Debian's docker-cli
and docker-compose, no bookworm apt source), run as a container that shares
this engine's socket and network, with the checkout at the same path on both
sides. A user who is not root, in the docker group, runs a fresh copy of the
checkout: the local jobs on that host's own Python and Java; `./lab up` with
no base image and no way to make one (one line, exit 2); `./lab up` with a
public Debian base on the engine (what a pull gives a user with a registry;
here, this machine's debootstrap base tagged as one), then a cluster job whose
results belong to that user.

The second host's root file system is made once per machine (an image tagged
by its recipe); the user's ~/.cache/sparklab is kept between runs beside it,
seeded with this host's pure-Python pyspark wheel and the images' wheels, as
a user's cache is after a first run with a registry. The host's container is
testcontainers' DockerContainer."""

from __future__ import annotations

import collections
import contextlib
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from cluster import engine, images, lifecycle, settings
from jobs.runtime.session import JVM_OPTIONS_ENV

pytestmark = [pytest.mark.cluster, pytest.mark.hosts]
# testcontainers' reaper (Ryuk) is a public image a machine without a
# registry cannot pull; the fixture's ExitStack removes the container instead.
testcontainers_config.ryuk_disabled = True

SUITE = "trixie"  # Debian 13
PACKAGES = (
    "python3",
    "python3-venv",
    "openjdk-21-jre-headless",
    "docker-cli",
    "docker-compose",
    "ca-certificates",
    "procps",
    "passwd",  # useradd, for the user who is not root
)
USER, UID = "learner", 1500
RECIPE = hashlib.sha256(repr((SUITE, PACKAGES, USER, UID)).encode()).hexdigest()[:12]
HOST_IMAGE = f"sparklab-test/second-host:{RECIPE}"
# Kept between runs: the user's ~/.cache/sparklab (wheels), as on a real machine.
USER_CACHE = Path("/var/tmp/sparklab-test-second-host") / RECIPE / "cache"
# Stand-ins: the base this host's SparkLab makes, and the "public" image it
# makes it from. Names of their own, so that no image of this machine's own
# SparkLab (or one a developer pulled) is touched.
BASE = "sparklab-test/second-host-base:bookworm"
PUBLIC = "sparklab-test/public-debian:bookworm-slim"
CORPUS = settings.ROOT / "data" / "peter_piper.txt"


def host_debian_mirror() -> str | None:
    """The first main-archive URI of this host's apt sources (deb822 or one-line)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for line in Path(path).read_text().splitlines():
            if line.lower().startswith("uris:"):
                return line.split()[1]
    if Path("/etc/apt/sources.list").exists():
        for line in Path("/etc/apt/sources.list").read_text().splitlines():
            words = line.split()
            if words[:1] == ["deb"]:
                return next(w for w in words[1:] if "://" in w)
    return None


def ensure_second_host_image() -> str:
    """Debian 13 with the host packages and a user who is not root, made by
    mmdebstrap from this host's mirror and imported: once per recipe."""
    if images.image_exists(HOST_IMAGE):
        return HOST_IMAGE
    if os.geteuid() != 0:
        pytest.skip("making the second host's root file system needs root (CI runs as root)")
    if not shutil.which("mmdebstrap"):  # a fresh machine's apt has no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "mmdebstrap"], check=True, capture_output=True)
    mirror = host_debian_mirror()
    user = f"useradd --uid {UID} --user-group --create-home --shell /bin/sh {USER}"
    with tempfile.TemporaryDirectory(prefix="sparklab-second-host-") as work:
        rootfs = Path(work) / "rootfs.tar"
        make = [
            "mmdebstrap",
            "--variant=apt",
            f"--include={','.join(PACKAGES)}",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            f'--customize-hook=chroot "$1" {user}',
            SUITE,
            str(rootfs),
            *([mirror] if mirror else []),
        ]
        made = subprocess.run(make, capture_output=True, text=True)
        assert made.returncode == 0, f"mmdebstrap failed:\n{made.stderr[-3000:]}"
        imported = subprocess.run(
            ["docker", "import", "--change", "ENV LANG=C.UTF-8", str(rootfs), HOST_IMAGE],
            capture_output=True,
            text=True,
        )
    assert imported.returncode == 0, imported.stderr
    return HOST_IMAGE


def seed_user_cache() -> None:
    """What a first run with a registry leaves in ~/.cache/sparklab: the
    pure-Python pyspark wheel (PyPI ships pyspark as a 456 MB sdist) and the
    images' wheels. The host's own CPython 3.13 wheels come from PyPI."""
    wheelhouse = USER_CACHE / "wheelhouse"
    image_wheels = images.image_wheelhouse()
    images.ensure_wheels()  # this machine's images' wheels, fetched once
    images.ensure_wheels(names=images.NOTEBOOK)
    target = wheelhouse / image_wheels.name
    target.mkdir(parents=True, exist_ok=True)
    for wheel in [*images.WHEELHOUSE.glob("pyspark-*-none-any.whl"), *image_wheels.glob("*.whl")]:
        into = (wheelhouse if wheel.parent == images.WHEELHOUSE else target) / wheel.name
        if not into.exists():
            shutil.copy2(wheel, into)
    for path in [USER_CACHE.parent, USER_CACHE, *USER_CACHE.rglob("*")]:
        os.chown(path, UID, UID, follow_symlinks=False)


def fresh_checkout(where: Path) -> Path:
    """This checkout's files as git tracks them (the working tree's text), owned by the user."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=settings.ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    checkout = where / "sparklab"
    for name in filter(None, (item.decode() for item in listed)):
        source = settings.ROOT / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    for path in [where, *where.rglob("*")]:
        os.chown(path, UID, UID, follow_symlinks=False)
    return checkout


# What a user's shell would carry to pip on this machine (its CA, its index).
PASSED_ON = ("PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_DEFAULT_TIMEOUT")
PASSED_ON += ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# The suite's JVM options (cluster/suite.py), as every other stream's JVMs
# get them: the second host's class archive, local job and cluster compile
# at the JVM's own threshold too.
PASSED_ON += (JVM_OPTIONS_ENV,)


@dataclass(frozen=True)
class SecondHost:
    container: str
    checkout: Path

    def lab(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900):
        """`./lab ARGS` as the user, in the fresh checkout on the second host."""
        extra = [f"--env={name}={value}" for name, value in (env or {}).items()]
        command = ["docker", "exec", "-w", str(self.checkout), *extra, self.container, "./lab", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        said = done.stdout[-2000:] + done.stderr[-4000:]
        print(f"\n$ ./lab {' '.join(args)}  (exit {done.returncode})\n{said}")
        return done

    def run(self, *command: str) -> str:
        done = subprocess.run(
            ["docker", "exec", self.container, *command], capture_output=True, text=True, check=True
        )
        return done.stdout + done.stderr


@pytest.fixture(scope="module")
def second_host(tmp_path_factory):
    problem = engine.engine_problem()
    if problem:
        pytest.fail(f"cluster tests need Docker: {problem}")
    image = ensure_second_host_image()
    seed_user_cache()
    where = Path(f"/tmp/sparklab-second-host-{uuid.uuid4().hex[:8]}")
    checkout = fresh_checkout(where)
    socket = Path("/var/run/docker.sock")
    # The user is not root; the socket's group stands for the docker group.
    container = (
        DockerContainer(
            image, command=["sleep", "infinity"], name=f"sparklab-test-second-host-{uuid.uuid4().hex[:8]}"
        )
        .with_kwargs(
            user=f"{UID}:{UID}", group_add=[str(socket.stat().st_gid)], network_mode="host", init=True
        )
        .with_env("HOME", f"/home/{USER}")
        .with_envs(**{name: os.environ[name] for name in PASSED_ON if os.environ.get(name)})
        .with_volume_mapping(str(socket), str(socket), "rw")
        .with_volume_mapping(str(where), str(where), "rw")
        .with_volume_mapping(str(USER_CACHE), f"/home/{USER}/.cache/sparklab", "rw")
    )
    for ca_bundle in filter(None, [os.environ.get("PIP_CERT")]):
        container = container.with_volume_mapping(ca_bundle, ca_bundle, "ro")
    with contextlib.ExitStack() as teardown:  # each step runs, whatever the one before did
        teardown.callback(shutil.rmtree, where, ignore_errors=True)
        teardown.callback(subprocess.run, ["docker", "image", "rm", BASE, PUBLIC], capture_output=True)
        host = SecondHost(teardown.enter_context(container).get_wrapped_container().name, checkout)
        teardown.callback(host.lab, "down", "--volumes", env=CLUSTER_ENV, timeout=300)
        yield host


# The second host's cluster: its own base and public stand-in, any free ports.
CLUSTER_ENV = {
    "SPARKLAB_BASE_IMAGE": BASE,
    "SPARKLAB_PUBLIC_BASE": PUBLIC,
    "SPARKLAB_MASTER_UI_PORT": "",
    "SPARKLAB_HISTORY_PORT": "",
}


def word_counts(path: Path) -> dict[str, int]:
    """The independent reference: collections.Counter over `str.split`'s words
    (the job's default tokenizer)."""
    return dict(collections.Counter(path.read_text().split()))


def result_counts(result: Path) -> dict[str, int]:
    return json.loads(result.read_text())["counts"]


def test_the_local_jobs_run_on_the_hosts_own_python_313_and_java_21(second_host):
    done = second_host.lab("wordcount", "--input", "data/peter_piper.txt", "--out", "results/local")

    assert done.returncode == 0, done.stderr
    python = second_host.run(
        f"{second_host.checkout}/.venv/bin/python", "-c", "import sys; print(sys.version)"
    )
    assert python.startswith("3.13."), python
    assert 'version "21' in second_host.run("java", "-version"), "the second host's Java is not 21"
    result = second_host.checkout / "results" / "local" / "wordcount.json"
    assert result_counts(result) == word_counts(CORPUS)
    assert result.stat().st_uid == UID


def test_up_with_no_base_and_no_way_to_make_one_says_the_ways_out_in_one_line(second_host):
    subprocess.run(["docker", "image", "rm", BASE, PUBLIC], capture_output=True)

    done = second_host.lab("up", "--workers", "1", env=CLUSTER_ENV, timeout=120)

    assert done.returncode == 2, done.stderr
    said = done.stderr.strip().splitlines()
    assert said[-1].startswith("up: no base image here:"), said
    for way_out in ("sudo ./lab image", "./lab image --load FILE", f"docker pull {PUBLIC}", "--base IMAGE"):
        assert way_out in said[-1], way_out
    assert not [line for line in said if "Traceback" in line], done.stderr
    assert not images.image_exists(BASE)


def test_up_from_a_public_base_then_a_cluster_job_whose_results_are_the_users(second_host):
    lifecycle.ensure_images()  # this machine's base: the stand-in for what a pull gives
    subprocess.run(["docker", "tag", images.BASE_TAG, PUBLIC], check=True, capture_output=True)

    up = second_host.lab("up", "--workers", "1", env=CLUSTER_ENV)

    assert up.returncode == 0, up.stderr
    assert f"base: {BASE} from {PUBLIC} (on the engine)" in up.stderr
    job = second_host.lab(
        "wordcount", "--on", "cluster", "--input", "data/peter_piper.txt", "--out", "results/cluster"
    )
    assert job.returncode == 0, job.stderr
    result = second_host.checkout / "results" / "cluster" / "wordcount.json"
    assert result_counts(result) == word_counts(CORPUS)
    assert result.stat().st_uid == UID, "the cluster's result is not the user's"
    assert result.parent.stat().st_uid == UID
