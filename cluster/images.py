"""SparkLab's Docker images, built here with or without a container registry.

The base (.env's SPARKLAB_BASE_IMAGE) is made by build-base.sh, which picks
the first way that works here and says which: the engine has it; a public
Debian image the engine has or pulls (SPARKLAB_PUBLIC_BASE); debootstrap.
sparklab/spark:<hash> is installed offline (install-runtime.sh in a container
with no network, committed as sparklab/spark-runtime:<key>; the Dockerfile's
few files on top) from the images' own wheels (image_wheelhouse: CPython 3.11
for the engine's machine, whatever the host's Python) with the lock's
versions, so the executors run exactly the lock's Python packages.
sparklab/notebook:<hash> adds JupyterLab on top, by a Dockerfile with its
wheels in the build context. (The images share one offline wheel and tag
machinery here.)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from cluster import engine
from cluster.settings import ROOT, ClusterError, setting
from jobs.errors import JobError, last_line
from jobs.report.files import written_atomically
from jobs.waiting import wait_until

HERE = ROOT / "cluster" / "images"
LOCK = ROOT / "requirements.lock"
WHEELHOUSE = Path(os.environ.get("SPARKLAB_WHEELHOUSE", Path.home() / ".cache" / "sparklab" / "wheelhouse"))
BASE_TAG = setting("SPARKLAB_BASE_IMAGE")
# A base build that ./lab started beside its set-up (./lab says why).
BASE_BUILD_LOG = WHEELHOUSE.parent / "base-build.log"
BASE_BUILD_PID = WHEELHOUSE.parent / "base-build.pid"
APP_REPO = "sparklab/spark"
# What reaches the executors; the versions come from the lock.
RUNTIME = ("pyspark", "py4j", "numpy", "pandas", "pyarrow")
# What installs them in the runtime image (install-runtime.sh), as on the host.
INSTALLER = ("uv",)
# Files of the app image: their content is part of its tag.
APP_FILES = ("Dockerfile", "entrypoint.sh", "healthcheck.sh", "kernel.sh")
# Writes the JVM class archive during the build (jobs/runtime/class_archive.py says why).
CLASS_ARCHIVE_SCRIPT = ROOT / "jobs" / "runtime" / "class_archive.py"
# sparklab/notebook:<hash>: the Spark image plus JupyterLab (./lab notebook),
# a Spark driver with the executors' very Python and pins.
NOTEBOOK_REPO = "sparklab/notebook"
NOTEBOOK = ("jupyterlab", "ipykernel", "nbclient", "matplotlib")
IMAGE_PYTHON = "3.11"  # Debian bookworm's python3: the cluster's drivers and executors
# The glibc of bookworm (2.36) and every older manylinux tag a wheel may carry:
# pip takes the platforms it is given literally.
IMAGE_GLIBC_MINORS = range(36, 16, -1)
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


class ImageError(JobError, RuntimeError):
    """An image cannot be built; a JobError so the CLI prints one line."""


class ImageMismatch(ImageError):
    """The image's Python or runtime packages differ from the host's."""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _engine_arch() -> str:
    """The engine's machine (x86_64, aarch64): the image's, not the host's.
    Raises a one-line ImageError when Docker is missing or down (the check
    `cluster.engine.engine_problem` shared with the lifecycle)."""
    problem = engine.engine_problem()
    if problem:
        raise ImageError(f"{problem}: start it, or run the jobs on local[*]")
    arch = engine.machine()
    if arch is None:
        raise ImageError("the Docker engine does not say its architecture (`docker version` failed)")
    return arch


def _run(cmd: list[str], capture: bool = True):
    """Run a command (`engine.run`); a failure becomes a one-line ImageError."""
    if cmd[0] == "docker":
        _engine_arch()
    what = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd[:3]))
    return engine.run(cmd, shown=what, output="capture" if capture else "terminal", error=ImageError)


def runtime_requirements(lock: Path = LOCK, names: tuple[str, ...] = RUNTIME) -> list[str]:
    """The lock's `name==version` lines for `names` (RUNTIME), in their order."""
    pins = {}
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[_norm(match[1])] = f"{match[1]}=={match[2]}"
    missing = [name for name in names if _norm(name) not in pins]
    if missing:
        raise ImageError(f"{lock}: no pin for {', '.join(missing)}")
    return [pins[_norm(name)] for name in names]


def image_wheelhouse(wheelhouse: Path = WHEELHOUSE) -> Path:
    """The images' wheels, apart from the host's: CPython 3.11 for the engine's
    machine, whatever Python and machine the host has (pip's --find-links
    does not look into subdirectories, so the host's installs never see them)."""
    return wheelhouse / f"image-cp{IMAGE_PYTHON.replace('.', '')}-{_engine_arch()}"


def image_platform_options() -> list[str]:
    """pip's options that select wheels for the images, not for the host."""
    arch = _engine_arch()
    platforms = [f"manylinux_2_{minor}_{arch}" for minor in IMAGE_GLIBC_MINORS] + [f"manylinux2014_{arch}"]
    cp = "cp" + IMAGE_PYTHON.replace(".", "")
    options = ["--only-binary=:all:", "--python-version", IMAGE_PYTHON, "--implementation", "cp"]
    return [*options, "--abi", cp, "--abi", "abi3", "--abi", "none", *(f"--platform={p}" for p in platforms)]


def _resolve_offline(pins: list[str], lock: Path, wheels: Path) -> list[Path] | None:
    """The wheels an offline install of the pins in the image takes (dependencies
    included), or None when `wheels` cannot satisfy it. Same resolver as the build."""
    with tempfile.TemporaryDirectory(prefix="sparklab-resolve-") as target:
        install = ["install", "-q", "--dry-run", "--ignore-installed", "--no-index", "--report", "-"]
        where = ["--target", target, "--find-links", str(wheels), "-c", str(lock)]
        done = engine.run([*PIP, *install, *where, *image_platform_options(), *pins], check=False)
    if done.returncode != 0:
        return None
    urls = [item["download_info"]["url"] for item in json.loads(done.stdout)["install"]]
    return [Path(url2pathname(urlparse(url).path)) for url in urls]


def ensure_wheels(
    lock: Path = LOCK, wheelhouse: Path = WHEELHOUSE, names: tuple[str, ...] = RUNTIME
) -> list[Path]:
    """The images' wheels for the runtime pins (or `names'`) and their
    dependencies, fetched once into image_wheelhouse. pyspark ships no wheel
    on the index: its pure-Python wheel, built once by ./lab into the host's
    wheelhouse, serves every Python and machine."""
    wheels = image_wheelhouse(wheelhouse)
    pins = runtime_requirements(lock, names)
    found = _resolve_offline(pins, lock, wheels)
    if found is None:
        wheels.mkdir(parents=True, exist_ok=True)
        print(f"image: fetching the images' wheels (Python {IMAGE_PYTHON}) into {wheels}", file=sys.stderr)
        where = ["-d", str(wheels), "--find-links", str(wheels), "--find-links", str(wheelhouse)]
        _run([*PIP, "download", "-q", *image_platform_options(), *where, "-c", str(lock), *pins])
        found = _resolve_offline(pins, lock, wheels)
    if found is None:
        raise ImageError(f"{wheels} still lacks wheels for {' '.join(pins)} (see pip above)")
    return found


def image_exists(tag: str) -> bool:
    _engine_arch()
    return engine.image_exists(tag)


def _is_base_build(pid: int) -> bool:
    """Is pid a running build-base.sh, not one that ended (a zombie, state Z)?
    (`ps`, not /proc: it runs on macOS too.)"""
    done = engine.run(["ps", "-ww", "-o", "stat=", "-o", "args=", "-p", str(pid)], check=False)
    state, _, command = done.stdout.strip().partition(" ")
    return done.returncode == 0 and not state.startswith("Z") and "build-base.sh" in command


def _wait_for_base_build_beside_setup() -> None:
    """./lab starts the base build beside a first set-up (it says why):
    wait until that build has ended."""
    try:
        pid = int(BASE_BUILD_PID.read_text())
    except (OSError, ValueError):
        return  # none started
    if _is_base_build(pid):
        print(
            f"base: waiting for the build ./lab started beside the set-up (log: {BASE_BUILD_LOG})",
            file=sys.stderr,
            flush=True,
        )
        wait_until(lambda: not _is_base_build(pid), timeout=float("inf"), interval=0.5)
    BASE_BUILD_PID.unlink(missing_ok=True)
    if not image_exists(BASE_TAG):
        print(
            f"base: the build beside the set-up made no image (log: {BASE_BUILD_LOG}); trying here",
            file=sys.stderr,
            flush=True,
        )


def build_base(public_base: str | None = None, force: bool = False) -> str:
    """The base image, made by build-base.sh in the first way that works here
    (it says which on one line), or FROM `public_base` alone when one is
    given (`--base IMAGE`). Where no way works, its one line becomes the
    ImageError. Reused unless force."""
    _wait_for_base_build_beside_setup()
    options = [*(["--force"] if force else []), *(["--public-only"] if public_base else [])]
    public = public_base or setting("SPARKLAB_PUBLIC_BASE")
    done = engine.run([str(HERE / "build-base.sh"), *options, BASE_TAG, public], output="stdout", check=False)
    if done.returncode == 2:  # no way here: its one line says each way out
        raise ImageError(last_line(done.stdout, "no base image here (build-base.sh said nothing)"))
    if done.returncode != 0:
        raise ImageError(f"the base image was not made (build-base.sh exit {done.returncode}; see above)")
    return BASE_TAG


def _image_id(tag: str) -> str:
    if not image_exists(tag):
        raise ImageError(f"no image {tag}: build it first (./lab image)")
    return _run(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).stdout.strip()


def app_tag(lock: Path = LOCK) -> str:
    """sparklab/spark:<12 hex of sha256 over the runtime's recipe and the
    Dockerfile's files>: any change builds a new image, no change reuses the old one."""
    digest = hashlib.sha256(runtime_recipe(lock))
    for name in APP_FILES:
        path = HERE / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return f"{APP_REPO}:{digest.hexdigest()[:12]}"


def build_app(
    force: bool = False, lock: Path = LOCK, wheelhouse: Path = WHEELHOUSE, public_base: str | None = None
) -> str:
    """Build sparklab/spark:<app_tag> (no network inside the build) unless it
    exists: the Dockerfile's few files on the runtime image (`build_runtime`);
    tag it :latest too (`force`: the base and the runtime too). Returns the content tag."""
    build_base(public_base, force=force)
    tag = app_tag(lock)
    if image_exists(tag) and not force:
        _run(["docker", "tag", tag, f"{APP_REPO}:latest"])
        return tag
    runtime = build_runtime(force, lock, wheelhouse)
    with tempfile.TemporaryDirectory(prefix="sparklab-image-") as tmp:
        context = Path(tmp)
        for name in APP_FILES:
            if (HERE / name).exists():
                shutil.copy2(HERE / name, context / name)
        print(f"image: building {tag} on {runtime} (no network inside the build)", file=sys.stderr)
        # --force-rm: a failed step leaves no stopped container behind.
        args = ["--network", "none", "--force-rm", "--build-arg", f"RUNTIME={runtime}"]
        args += ["-t", tag, "-t", f"{APP_REPO}:latest"]
        _run(["docker", "build", *args, "-f", str(context / "Dockerfile"), str(context)], capture=False)
    return tag


# The runtime image's environment and entry point, set as it is committed.
# JAVA_HOME and LANG come from the base (the JRE's path is arch-specific).
# No tini in the ENTRYPOINT: compose runs every service with `init: true`
# (Docker's own init as PID 1 reaps zombies and forwards signals); outside
# compose use `docker run --init`. tini stays in the base for
# `--entrypoint /usr/bin/tini`.
RUNTIME_ENV = {
    "PATH": "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "SPARK_HOME": "/opt/venv/lib/python3.11/site-packages/pyspark",
    "SPARK_CONF_DIR": "/opt/spark-conf",
    "PYSPARK_PYTHON": "/opt/venv/bin/python",
    "PYSPARK_DRIVER_PYTHON": "/opt/venv/bin/python",
    "PYTHONUNBUFFERED": "1",
}
RUNTIME_CHANGES = (
    *(f"ENV {name}={value}" for name, value in RUNTIME_ENV.items()),
    "USER spark",
    "WORKDIR /home/spark",
    'ENTRYPOINT ["/opt/sparklab/entrypoint.sh"]',
    'CMD ["driver"]',
)
RUNTIME_REPO = "sparklab/spark-runtime"
INSTALL_SCRIPT = HERE / "install-runtime.sh"
# The label of the container the runtime is installed in, until it is committed.
INSTALLING = "sparklab.installing-runtime"


def remove_stopped_install_containers() -> None:
    """What a build killed before its clean-up left (a closed terminal, SIGKILL):
    its install container, stopped, with the wheels copied in. A running one is
    another build's, left alone."""
    stopped = ["--filter", f"label={INSTALLING}", "--filter", "status=exited", "--filter", "status=created"]
    found = engine.docker("ps", "--all", "--quiet", *stopped, check=False).stdout.split()
    if found:
        engine.docker("rm", "--force", *found, check=False)


def build_runtime(force: bool = False, lock: Path = LOCK, wheelhouse: Path = WHEELHOUSE) -> str:
    """sparklab/spark-runtime:<key>, unless it exists: install-runtime.sh run
    as root in a container of the base with no network, the wheels and files
    copied in (`docker cp`, so a remote engine gets them as a build context
    would), then the container committed with RUNTIME_CHANGES. A runtime of
    another key stays: its layers are those of the Spark images built on it
    (another checkout's, the second host's in the tests), no extra disk."""
    wheels = ensure_wheels(lock, wheelhouse, names=RUNTIME + INSTALLER)  # one resolve, one fetch
    key = runtime_key(wheels, lock)
    tag = f"{RUNTIME_REPO}:{key}"
    if image_exists(tag) and not force:
        return tag
    remove_stopped_install_containers()
    with tempfile.TemporaryDirectory(prefix="sparklab-runtime-") as tmp:
        files = Path(tmp)
        (files / "wheels").mkdir()
        for wheel in wheels:
            target = files / "wheels" / wheel.name
            try:
                os.link(wheel, target)  # no 550 MB copy on the same file system
            except OSError:
                shutil.copy2(wheel, target)
        shutil.copy2(lock, files / "requirements.lock")
        (files / "runtime.txt").write_text("\n".join(runtime_requirements(lock)) + "\n")
        shutil.copy2(CLASS_ARCHIVE_SCRIPT, files / CLASS_ARCHIVE_SCRIPT.name)
        shutil.copy2(INSTALL_SCRIPT, files / INSTALL_SCRIPT.name)
        print(
            f"image: installing the runtime {tag} in a container of {BASE_TAG} (no network)", file=sys.stderr
        )
        env = [f"--env={name}={value}" for name, value in RUNTIME_ENV.items()]
        create = ["docker", "create", "--network", "none", "--user", "root", "--label", INSTALLING, *env]
        create += ["--entrypoint", "/bin/sh"]
        container = _run([*create, BASE_TAG, f"/tmp/build/{INSTALL_SCRIPT.name}"]).stdout.strip()
        try:
            _run(["docker", "cp", f"{files}/.", f"{container}:/tmp/build"])
            engine.run(
                ["docker", "start", "--attach", container],
                shown=f"{INSTALL_SCRIPT.name} in a container of {BASE_TAG}",
                output="terminal",
                error=ImageError,
            )
            changes = [arg for change in RUNTIME_CHANGES for arg in ("--change", change)]
            _run(["docker", "commit", *changes, container, tag])
        finally:
            engine.docker("rm", "--force", container, check=False)
    # The install stages that SparkLab's two-stage Dockerfile left before (~1.7 GB each).
    engine.docker("image", "prune", "-f", "--filter", "label=sparklab.venv-stage", check=False)
    return tag


def runtime_recipe(lock: Path = LOCK) -> bytes:
    """What the runtime image is made from, but the wheels the lock picks: the
    lock, the base's id (a rebuilt base, security updates, gives new images),
    the scripts and the image's settings. Part of the runtime's key and of the
    Spark image's tag."""
    parts = (lock.read_bytes(), _image_id(BASE_TAG).encode(), INSTALL_SCRIPT.read_bytes())
    parts += (CLASS_ARCHIVE_SCRIPT.read_bytes(), repr((RUNTIME_CHANGES, RUNTIME, INSTALLER)).encode())
    return b"\0".join(parts)


def runtime_key(wheels: list[Path], lock: Path = LOCK) -> str:
    """The runtime image's key: its recipe and the wheels installed."""
    digest = hashlib.sha256(runtime_recipe(lock))
    for name in sorted(wheel.name for wheel in wheels):
        digest.update(name.encode())
    return digest.hexdigest()[:12]


def build_notebook(force: bool = False, lock: Path = LOCK, wheelhouse: Path = WHEELHOUSE) -> str:
    """Build sparklab/notebook:<hash> FROM the Spark image, adding NOTEBOOK's
    wheels (only those the Spark image lacks) with no network; tag :latest too."""
    spark = build_app(lock=lock, wheelhouse=wheelhouse)
    dockerfile = HERE / "Dockerfile.notebook"
    digest = hashlib.sha256(spark.encode() + dockerfile.read_bytes() + lock.read_bytes())
    tag = f"{NOTEBOOK_REPO}:{digest.hexdigest()[:12]}"
    if image_exists(tag) and not force:
        _run(["docker", "tag", tag, f"{NOTEBOOK_REPO}:latest"])
        return tag
    present = {wheel.name for wheel in ensure_wheels(lock, wheelhouse)}
    wheels = [w for w in ensure_wheels(lock, wheelhouse, NOTEBOOK) if w.name not in present]
    with tempfile.TemporaryDirectory(prefix="sparklab-image-") as tmp:
        context = Path(tmp)
        (context / "wheels").mkdir()
        for wheel in wheels:
            shutil.copy2(wheel, context / "wheels" / wheel.name)
        shutil.copy2(lock, context / "requirements.lock")
        (context / "notebook.txt").write_text("\n".join(runtime_requirements(lock, NOTEBOOK)) + "\n")
        print(f"image: building {tag} on {spark} (no network inside the build)", file=sys.stderr)
        args = ["--network", "none", "--force-rm", "--build-arg", f"SPARK_IMAGE={spark}"]
        args += ["-t", tag, "-t", f"{NOTEBOOK_REPO}:latest", "-f", str(dockerfile)]
        _run(["docker", "build", *args, str(context)], capture=False)
    return tag


def image_sizes() -> dict[str, int]:
    """repo:tag -> bytes, for every sparklab/* image but the runtime (its
    layers are those of the Spark images on it: no disk of its own)."""
    listed = _run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "sparklab/*"])
    tags = sorted(
        {
            t
            for t in listed.stdout.split()
            if not t.endswith(":<none>") and not t.startswith(RUNTIME_REPO + ":")
        }
    )
    if not tags:
        return {}
    sizes = _run(["docker", "image", "inspect", "--format", "{{.Size}}", *tags]).stdout.split()
    return {tag: int(size) for tag, size in zip(tags, sizes, strict=True)}


def check_versions(tag: str, lock: Path = LOCK) -> dict[str, str]:
    """The image's Python must be IMAGE_PYTHON and its runtime packages the
    lock's pins (whatever the host runs); raises ImageMismatch naming each
    difference."""
    script = (
        "import json,sys;from importlib.metadata import version as v;"
        "print(json.dumps({'python':'%d.%d'%sys.version_info[:2],"
        f"**{{n:v(n) for n in {list(RUNTIME)!r}}}}}))"
    )
    found = json.loads(
        _run(
            ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python", tag, "-c", script]
        ).stdout
    )
    pinned = {_norm(name): ver for name, ver in (pin.split("==") for pin in runtime_requirements(lock))}
    wanted = {"python": IMAGE_PYTHON, **{name: pinned[_norm(name)] for name in RUNTIME}}
    wrong = [
        f"{n} {found.get(n)} in {tag} but {want} in {lock.name}"
        for n, want in wanted.items()
        if found.get(n) != want
    ]
    if wrong:
        raise ImageMismatch("; ".join(wrong) + " (rebuild: ./lab image --force)")
    return found


def save_images(path: Path) -> Path:
    """`docker save` the Spark image (and the notebook's, if built) into one archive."""
    # The base too: the Spark image's tag hashes the base's id, so `join` finds it built.
    tags = [BASE_TAG, build_app(), f"{APP_REPO}:latest", *engine.image_tags(NOTEBOOK_REPO)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path) as staged:
        _run(["docker", "save", "-o", str(staged), *tags])
    return path


def load_images(path: Path) -> list[str]:
    """`docker load` an archive made by save_images; returns the tags it brought."""
    if not path.is_file():
        raise ClusterError(f"{path}: no such file (make it on host A with `./lab image --save {path.name}`)")
    done = _run(["docker", "load", "-i", str(path)])
    return [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("Loaded image: ")]


def build_or_carry(base: str | None, force: bool, save: Path | None, load: Path | None) -> None:
    """`./lab image`: build what is missing (or load an archive), check the pins,
    list the sizes; with `save`, write the archive another host loads."""
    if load:
        for tag in load_images(load):
            print(f"image: loaded {tag}")
        return
    tag = build_app(force=force, public_base=base)
    check_versions(tag)
    for name, size in image_sizes().items():
        print(f"image: {name}  {size / 1e6:,.0f} MB")
    if save:
        print(f"image: saved into {save_images(save)}")
