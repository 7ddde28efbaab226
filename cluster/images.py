"""Building SparkLab's images with no registry: a debootstrap base and an app
image installed from the host's wheelhouse, so the images carry exactly the
host venv's versions (one lock for both)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from jobs.errors import JobError

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "images"
LOCK = ROOT / "requirements.lock"
BASE_TAG = "sparklab/base:bookworm"
APP_REPO = "sparklab/spark"
# What reaches the executors; the versions come from the lock.
RUNTIME = ("pyspark", "py4j", "numpy", "pandas", "pyarrow")
APP_FILES = ("Dockerfile", "entrypoint.sh", "healthcheck.py")


def wheelhouse() -> Path:
    return Path(os.environ.get("SPARKLAB_WHEELHOUSE", Path.home() / ".cache" / "sparklab" / "wheelhouse"))


class ImageError(JobError):
    """An image cannot be built or does not match the host."""


def _docker(*args: str, capture: bool = True, **kwargs) -> subprocess.CompletedProcess:
    if not shutil.which("docker"):
        raise ImageError(
            "Docker engine not reachable (no `docker` command): install and start it, "
            "or run the jobs on local[*]"
        )
    done = subprocess.run(["docker", *args], capture_output=capture, text=True, **kwargs)
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] if capture else []
        raise ImageError(f"`docker {' '.join(args[:2])}` failed" + (f": {tail[0]}" if tail else ""))
    return done


def runtime_pins(lock: Path = LOCK) -> list[str]:
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match[1].lower()] = line.strip()
    missing = [name for name in RUNTIME if name not in pins]
    if missing:
        raise ImageError(f"{lock}: no pin for {', '.join(missing)}")
    return [pins[name] for name in RUNTIME]


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def build_base(public_base: str | None = None, force: bool = False) -> str:
    """sparklab/base:bookworm by debootstrap, or FROM a public image (needs internet)."""
    if image_exists(BASE_TAG) and not force:
        return BASE_TAG
    if public_base:
        _docker(
            "build",
            "--pull",
            "--build-arg",
            f"BASE={public_base}",
            "-t",
            BASE_TAG,
            "-f",
            str(HERE / "Dockerfile.base-public"),
            str(HERE),
            capture=False,
        )
    else:
        done = subprocess.run([str(HERE / "build-base.sh"), BASE_TAG])
        if done.returncode != 0:
            raise ImageError(
                "the debootstrap base did not build (see above); with internet, "
                "`./lab image --base debian:bookworm-slim` works too"
            )
    return BASE_TAG


def app_tag() -> str:
    """A tag from the lock and the image's files: a change builds anew, else reuse."""
    digest = hashlib.sha256(LOCK.read_bytes())
    for name in APP_FILES:
        digest.update((HERE / name).read_bytes())
    base_id = _docker("image", "inspect", "--format", "{{.Id}}", BASE_TAG).stdout.strip()
    digest.update(base_id.encode())
    return f"{APP_REPO}:{digest.hexdigest()[:12]}"


def lock_pins(lock: Path = LOCK) -> dict[str, str]:
    """Normalized name -> version, for every pin in the lock."""
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "_", match[1]).lower()] = match[2]
    return pins


def locked_wheels(house: Path, lock: Path = LOCK) -> list[Path]:
    """The wheels in the wheelhouse that the lock pins (any of them)."""
    pins = lock_pins(lock)
    found = []
    for wheel in sorted(house.glob("*.whl")):
        name, ver = wheel.name.split("-")[:2]
        if pins.get(re.sub(r"[-_.]+", "_", name).lower()) == ver:
            found.append(wheel)
    return found


def ensure_wheels(pins: list[str], house: Path) -> list[Path]:
    """Wheels for the runtime pins and their dependencies, made or fetched once."""
    house.mkdir(parents=True, exist_ok=True)
    offline = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--dry-run",
            "--ignore-installed",
            "--no-index",
            "--find-links",
            str(house),
            "-c",
            str(LOCK),
            *pins,
        ],
        capture_output=True,
    )
    if offline.returncode != 0:
        print(f"image: completing the wheelhouse {house}", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--find-links",
                str(house),
                "-c",
                str(LOCK),
                "-w",
                str(house),
                *pins,
            ],
            check=True,
        )
    return locked_wheels(house)


def build_app(force: bool = False) -> str:
    """The app image; also tagged :latest. Returns the content tag."""
    tag = app_tag()
    if image_exists(tag) and not force:
        _docker("tag", tag, f"{APP_REPO}:latest")
        return tag
    pins = runtime_pins()
    wheels = ensure_wheels(pins, wheelhouse())
    with tempfile.TemporaryDirectory(prefix="sparklab-image-") as tmp:
        context = Path(tmp)
        (context / "wheels").mkdir()
        for wheel in wheels:
            target = context / "wheels" / wheel.name
            try:
                os.link(wheel, target)  # no copy of 450 MB when on the same file system
            except OSError:
                shutil.copy2(wheel, target)
        shutil.copy2(LOCK, context / "requirements.lock")
        (context / "runtime.txt").write_text("\n".join(pins) + "\n")
        for name in APP_FILES:
            shutil.copy2(HERE / name, context / name)
        print(f"image: building {tag} (no network inside the build)", file=sys.stderr)
        _docker(
            "build",
            "--force-rm",  # a failed step leaves no stopped container behind
            "--network",
            "none",
            "--build-arg",
            f"BASE={BASE_TAG}",
            "-t",
            tag,
            "-t",
            f"{APP_REPO}:latest",
            str(context),
            capture=False,
        )
    return tag


def image_sizes() -> dict[str, int]:
    done = _docker("images", "--format", "{{json .}}", "sparklab/*")
    sizes = {}
    for line in done.stdout.splitlines():
        row = json.loads(line)
        name = f"{row['Repository']}:{row['Tag']}"
        sizes[name] = int(_docker("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())
    return sizes


def check_versions(tag: str) -> dict[str, str]:
    """The image's Python minor version and runtime packages must equal this venv's."""
    script = (
        "import json,sys;from importlib.metadata import version as v;"
        f"print(json.dumps({{'python':'%d.%d'%sys.version_info[:2],"
        f"**{{n:v(n) for n in {list(RUNTIME)!r}}}}}))"
    )
    found = json.loads(
        _docker("run", "--rm", "--network", "none", "--entrypoint", "python", tag, "-c", script).stdout
    )
    host = {"python": "{}.{}".format(*sys.version_info[:2]), **{name: version(name) for name in RUNTIME}}
    wrong = [
        f"{name} {found.get(name)} in {tag}, {want} on the host"
        for name, want in host.items()
        if found.get(name) != want
    ]
    if wrong:
        raise ImageError("image and host differ: " + "; ".join(wrong) + " (rebuild: ./lab image --force)")
    return found
