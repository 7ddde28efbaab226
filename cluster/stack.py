"""The Compose cluster: start it, wait for it, ask it, submit jobs to it.

Everything here shells out to `docker compose` with the project's compose
file; tasks.py and the tests both call these functions, so what the tests
check is what a user runs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path

from jobs.errors import JobError
from jobs.results import new_run_id

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET_FILE = ROOT / "cluster" / "secret" / "spark.secret"
MASTER_URL = "spark://master:7077"
CONTAINER_RESULTS = "/sparklab/results"
JOB_TIMEOUT = 1800


class ClusterError(JobError):
    """The cluster is not there or not usable; the message says what to run."""


def dotenv() -> dict[str, str]:
    """The defaults in .env (what `docker compose` reads too)."""
    values = {}
    for line in (ROOT / ".env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def setting(name: str) -> str:
    return os.environ.get(name) or dotenv().get(name, "")


def engine_problem() -> str | None:
    """None when Docker and Compose v2 answer; otherwise what is missing."""
    if not shutil.which("docker"):
        return "no Docker engine (the `docker` command is not installed)"
    info = subprocess.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
    )
    if info.returncode != 0:
        first = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"the Docker engine does not answer ({first})"
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


def compose_env(workers: int | None = None, project: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SPARKLAB_DATA_DIR"] = str(data_dir())
    if workers is not None:
        env["SPARKLAB_WORKERS"] = str(workers)
    if project:
        env["COMPOSE_PROJECT_NAME"] = project
    return env


def compose(
    *args: str,
    env: dict[str, str] | None = None,
    capture: bool = False,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
    done = subprocess.run(
        command, cwd=ROOT, env=env or compose_env(), text=True, timeout=timeout, capture_output=capture
    )
    if check and done.returncode != 0:
        detail = (done.stderr or "").strip().splitlines()[-1:] if capture else []
        raise ClusterError(
            f"`docker compose {' '.join(args)}` failed (exit {done.returncode})"
            + (f": {detail[0]}" if detail else "")
        )
    return done


def ensure_secret() -> Path:
    """The per-install Spark RPC secret: random, git-ignored, never printed."""
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(SECRET_FILE.parent, 0o700)  # only this user can reach the file
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        # 0644 inside a 0700 directory: the containers' non-root user reads
        # the bind-mounted file; other users on this host cannot reach it.
    return SECRET_FILE


def ensure_images() -> str:
    from cluster import images

    images.build_base()
    return images.build_app()


def running_services(env: dict[str, str] | None = None) -> dict[str, int]:
    """Service name -> running containers, for this compose project."""
    done = compose("ps", "--format", "json", "--status", "running", env=env, capture=True, check=False)
    counts: dict[str, int] = {}
    for line in done.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        entries = json.loads(line)
        for entry in entries if isinstance(entries, list) else [entries]:
            counts[entry["Service"]] = counts.get(entry["Service"], 0) + 1
    return counts


def require_running(env: dict[str, str] | None = None) -> None:
    services = running_services(env)
    if not services.get("driver") or not services.get("master"):
        raise ClusterError("the cluster is not running: run `./lab up`")
    if not services.get("worker"):
        raise ClusterError("the cluster has no worker running: run `./lab up`")


def up(workers: int = 2, *, timeout: float = 300, env: dict[str, str] | None = None) -> None:
    """Build what is missing, start the stack, wait until N workers are registered."""
    problem = engine_problem()
    if problem:
        raise ClusterError(f"{problem}: start Docker, or run the jobs on local[*]")
    ensure_secret()
    tag = ensure_images()
    env = env or compose_env(workers)
    env.setdefault("SPARKLAB_IMAGE", tag)
    print(f"up: starting {workers} workers (image {tag})", file=sys.stderr)
    compose(
        "up", "-d", "--wait", "--wait-timeout", str(int(timeout)), "--scale", f"worker={workers}", env=env
    )
    probe(env=env)
    ui = master_ui(env)
    print(
        f"up: master UI {ui}  history {service_url('history', 18080, env)}  "
        f"(workers and running applications open through the master UI)",
        file=sys.stderr,
    )


def down(volumes: bool = False, env: dict[str, str] | None = None) -> None:
    compose("down", *(["--volumes"] if volumes else []), "--remove-orphans", env=env)


def service_url(service: str, port: int, env: dict[str, str] | None = None) -> str:
    done = compose("port", service, str(port), env=env, capture=True)
    return "http://" + done.stdout.strip().splitlines()[0]


def master_ui(env: dict[str, str] | None = None) -> str:
    return service_url("master", 8080, env)


def master_state(env: dict[str, str] | None = None) -> dict:
    with urllib.request.urlopen(master_ui(env) + "/json/", timeout=10) as response:
        return json.load(response)


def describe(env: dict[str, str] | None = None) -> str:
    """The master's view, as a few lines of text."""
    state = master_state(env)
    lines = [
        f"master {state.get('url')} {state.get('status')}: {state.get('aliveworkers', 0)} live workers, "
        f"{state.get('coresused', 0)}/{state.get('cores', 0)} cores and "
        f"{state.get('memoryused', 0)}/{state.get('memory', 0)} MB in use"
    ]
    for worker in state.get("workers", []):
        lines.append(
            f"  worker {worker['host']:<16} {worker['state']:<6} "
            f"{worker['coresused']}/{worker['cores']} cores  "
            f"{worker['memoryused']}/{worker['memory']} MB"
        )
    for kind in ("activeapps", "completedapps"):
        for app in state.get(kind, []):
            lines.append(
                f"  {kind[:-4]:<9} {app['id']}  {app['name']:<20} {app['state']:<8} "
                f"{app.get('cores', 0)} cores  {app.get('duration', 0) / 1000:.1f} s"
            )
    return "\n".join(lines)


def exec_driver(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    stream_stderr: bool = False,
    timeout: float = JOB_TIMEOUT,
) -> subprocess.CompletedProcess:
    """Run a command in the driver container: stdout captured, stderr captured or streamed."""
    return subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "exec", "-T", "driver", *command],
        cwd=ROOT,
        env=env or compose_env(),
        text=True,
        timeout=timeout,
        stdout=subprocess.PIPE,
        stderr=None if stream_stderr else subprocess.PIPE,
    )


def probe(env: dict[str, str] | None = None) -> dict:
    """Run one task on every executor; stop if any node's versions differ from the driver's."""
    done = exec_driver(["python", "-m", "jobs.probe", "--master", MASTER_URL], env=env)
    if done.returncode != 0:
        raise ClusterError((done.stderr.strip().splitlines() or ["probe failed"])[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def container_path(host_path: str) -> str:
    """Where a host file is seen inside the containers (the same in every one)."""
    path = Path(host_path).resolve()
    for host_dir, inside in ((ROOT / "data", "/sparklab/data"), (data_dir(), "/sparklab/external")):
        if path.is_relative_to(host_dir.resolve()):
            return f"{inside}/{path.relative_to(host_dir.resolve()).as_posix()}"
    raise ClusterError(
        f"{host_path}: not visible to the cluster; put it under data/ or set "
        f"SPARKLAB_DATA_DIR to its directory and run `./lab up` again"
    )


def submit(
    job: str,
    options: dict,
    *,
    out: Path | None = None,
    env: dict[str, str] | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> Path:
    """Run a job with spark-submit in the driver container; copy its JSON to `out` on the host."""
    from jobs.inputs import expand_inputs, wine_csv

    require_running(env)
    options = dict(options)
    options.pop("master", None)
    out = options.pop("out", None) or out
    if job == "wordcount":
        options["input"] = [container_path(p) for p in expand_inputs(options["input"])]
    else:
        options["data"] = container_path(wine_csv(options.get("data")))
    run_id = new_run_id()
    inside = f"{CONTAINER_RESULTS}/{run_id}"
    command = [
        *submit_command("/sparklab/app/jobs/__main__.py", env),
        job,
        "--master",
        MASTER_URL,
        "--out",
        inside,
        *flags(options),
    ]
    code, lines = spark_submit(command, env=env, echo=echo, on_line=on_line)
    if code != 0:
        said = [line for line in lines if line.startswith(f"sparklab {job}: ")]
        raise JobError(said[-1].split(": ", 1)[1] if said else f"{job} failed on the cluster (exit {code})")
    out = Path(out or ROOT / "results" / run_id)
    out.mkdir(parents=True, exist_ok=True)
    compose("cp", f"driver:{inside}/{job}.json", str(out / f"{job}.json"), env=env, capture=True)
    return out / f"{job}.json"


def bench(args: list[str], out: Path, env: dict[str, str] | None = None) -> Path:
    """Run the benchmark in the driver against the cluster; write its report to `out` on the host.

    The driver writes bench.json; the host draws the report from it (the
    images carry no plotting library). Everything lands in a temporary
    sibling first and is renamed into place: `out` is whole or absent.
    """
    from jobs.bench_report import write_bench_report
    from jobs.inputs import wine_csv

    require_running(env)
    inside = f"{CONTAINER_RESULTS}/bench/{out.name}"
    command = [
        *submit_command("/sparklab/app/jobs/bench.py", env),
        "--master",
        MASTER_URL,
        "--data",
        container_path(wine_csv(None)),
        "--out",
        inside,
        "--json-only",
        *args,
    ]
    code, lines = spark_submit(command, env=env)
    if code != 0:
        said = [line for line in lines if line.startswith("bench: error: ")]
        raise JobError(
            said[-1].removeprefix("bench: error: ") if said else f"bench failed on the cluster (exit {code})"
        )
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        compose("cp", f"driver:{inside}/bench.json", str(staging / "bench.json"), env=env, capture=True)
        write_bench_report(json.loads((staging / "bench.json").read_text()), staging)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "bench.md"


def submit_command(script: str, env: dict[str, str] | None = None) -> list[str]:
    """spark-submit of a script in the driver, on the cluster, with every core the workers offer."""
    cores = int(setting("SPARKLAB_WORKER_CORES") or 1) * max(1, running_services(env).get("worker", 1))
    return ["spark-submit", "--master", MASTER_URL, "--conf", f"spark.cores.max={cores}", script]


def spark_submit(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> tuple[int, list[str]]:
    """Run spark-submit in the driver; returns its exit code and the job's output lines.

    spark-submit merges the Python program's stderr into its stdout, so the
    job's progress, its error line and its result line all arrive on stdout;
    Spark's own log (stderr) is kept out of the way unless the job fails.
    """
    process = subprocess.Popen(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "exec", "-T", "driver", *command],
        cwd=ROOT,
        env=env or compose_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines: list[str] = []
    log: list[str] = []
    drain = threading.Thread(target=lambda: log.extend(process.stderr), daemon=True)
    drain.start()
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if on_line:
                on_line(lines[-1])
            if echo and not line.startswith('{"job"'):  # the container's result line: we print ours
                print(line, end="", file=sys.stderr, flush=True)
        code = process.wait(timeout=JOB_TIMEOUT)
    except BaseException:
        process.kill()
        raise
    drain.join(timeout=5)
    if code != 0 and echo and not any(line.startswith("sparklab ") for line in lines):
        print("".join(log[-40:]), end="", file=sys.stderr)
    return code, lines


def flags(options: dict) -> list[str]:
    """--name value for every option that is set (lists give several values)."""
    args: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False or value == []:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, list | tuple):
            args += [flag, *map(str, value)]
        else:
            args += [flag, str(value)]
    return args
