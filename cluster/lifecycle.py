"""The Compose cluster's life: secret and images, up, down, and what is running.

Everything here shells out to `docker compose` with the project's compose
file (`cluster.settings.compose_command`); tasks.py and the tests both call
these functions, so what the tests check is what a user runs. Submitting
work to a running cluster is `cluster.submit`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cluster.settings import (
    CONNECT_PROFILE,
    CONNECT_TOKEN_FILE,
    MASTER_URL,
    ROOT,
    SECRET_FILE,
    ClusterError,
    compose_command,
    compose_env,
    default_workers,
    engine_problem,
    setting,
)
from jobs.report.files import write_text_atomic
from jobs.runtime.standalone import alive_workers, read_master_state
from jobs.waiting import NotReady, wait_until

JOB_TIMEOUT = 1800


def compose(
    *args: str,
    env: dict[str, str] | None = None,
    capture: bool = False,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run `docker compose ARGS` for this project; a failure becomes a one-line
    ClusterError ending with Compose's own last line of error. Uncaptured,
    Compose's progress still shows as it comes."""
    env = env or compose_env()
    command = compose_command(*args, env=env)
    if capture:
        done = subprocess.run(command, cwd=ROOT, env=env, text=True, timeout=timeout, capture_output=True)
        said = done.stderr
    else:
        said, done = _streaming_stderr(command, env, timeout)
    if check and done.returncode != 0:
        detail = [line for line in (said or "").splitlines() if line.strip()][-1:]
        raise ClusterError(
            f"`docker compose {' '.join(args)}` failed (exit {done.returncode})"
            + (f": {detail[0].strip()}" if detail else "")
        )
    return done


def _streaming_stderr(
    command: list[str], env: dict[str, str], timeout: float | None
) -> tuple[str, subprocess.CompletedProcess]:
    """Run `command` with its stderr shown as it comes and kept (its last
    lines say why it failed); stdout is left to the terminal."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    kept: list[bytes] = []
    try:
        for line in process.stderr:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
            kept = [*kept[-19:], line]
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    said = b"".join(kept).decode(errors="replace")
    return said, subprocess.CompletedProcess(command, code, None, said)


def ensure_secret(path: Path = SECRET_FILE) -> Path:
    """The per-install Spark RPC secret (or, given its path, the Connect
    token): random, git-ignored, never printed."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # only this user can reach the file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        # 0644 inside a 0700 directory: the containers' non-root user reads
        # the bind-mounted file; other users on this host cannot reach it.
    return path


def ensure_connect_token() -> Path:
    """The per-install Spark Connect token, kept like the RPC secret. Made
    whenever the secret is: Compose wants every secret's file to exist."""
    return ensure_secret(CONNECT_TOKEN_FILE)


def with_connect(env: dict[str, str]) -> dict[str, str]:
    """`env` with the Compose profile of the Spark Connect server switched on."""
    profiles = [p for p in env.get("COMPOSE_PROFILES", "").split(",") if p]
    return {**env, "COMPOSE_PROFILES": ",".join(dict.fromkeys([*profiles, CONNECT_PROFILE]))}


def ensure_images(public_base: str | None = None) -> str:
    """The Spark image (and the base under it), built where missing; with
    `public_base`, a missing base comes from that image alone (`--base`)."""
    from cluster import images

    return images.build_app(public_base=public_base)


def service_entries(*args: str, env: dict[str, str] | None = None) -> list[dict]:
    """`docker compose ps --format json ARGS`: one dict per container (Compose
    prints either one JSON list or one object per line, by version)."""
    done = compose("ps", "--format", "json", *args, env=env, capture=True, check=False)
    entries: list[dict] = []
    for line in filter(None, map(str.strip, done.stdout.splitlines())):
        parsed = json.loads(line)
        entries += parsed if isinstance(parsed, list) else [parsed]
    return entries


def running_services(env: dict[str, str] | None = None) -> dict[str, int]:
    """Service name -> running containers, for this compose project."""
    return _count_services(service_entries("--status", "running", env=env))


def _count_services(entries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["Service"]] = counts.get(entry["Service"], 0) + 1
    return counts


def require_running(env: dict[str, str] | None = None) -> None:
    """Refuse, naming what is missing, unless master, a worker and the driver run.

    A lost driver container (it holds no state) is started again here; the
    restart policy brings it back after a crash, this after a `docker kill`.
    """
    entries = service_entries("--status", "running", env=env)
    services = _count_services(entries)
    if not services:
        raise ClusterError("the cluster is not running: run `./lab up`")
    missing = [name for name in ("master", "worker") if not services.get(name)]
    if missing:
        running = ", ".join(sorted(services))
        raise ClusterError(
            f"the cluster is only partly running ({running}; no {' and no '.join(missing)}): run `./lab up`"
        )
    if not services.get("driver"):
        print("lab: the driver container was not running; starting it again", file=sys.stderr)
        compose("up", "-d", "--wait", "--no-recreate", "driver", env=env)
    if _published_beyond_loopback(entries, "master"):  # `./lab up --advertise`: hosts may join
        probe_hosts_that_joined(env)


def _published_beyond_loopback(entries: list[dict], service: str) -> bool:
    return any(
        publisher.get("PublishedPort") and publisher.get("URL") not in ("127.0.0.1", "::1", "")
        for entry in entries
        if entry["Service"] == service
        for publisher in entry.get("Publishers") or []
    )


def probe_hosts_that_joined(env: dict[str, str] | None = None) -> dict | None:
    """Across machines: before the first job after another host's worker
    joined (`./lab join` there), run the version probe on every host's
    executors; a host whose image carries other pins stops the job with one
    line naming it. Each set of hosts' workers is probed once; returns the
    probe's result, or None when there was nothing new to probe."""
    from cluster.across import HOST_PREFIX

    env = env or compose_env()
    joined = sorted(w["id"] for w in alive_workers(master_state(env)) if w["host"].startswith(HOST_PREFIX))
    project = env["COMPOSE_PROJECT_NAME"]
    record = Path(tempfile.gettempdir()) / f"sparklab-probed-{project}.json"
    if len(joined) < 2 or (record.is_file() and json.loads(record.read_text()) == joined):
        return None  # one host alone was probed by `./lab up`
    print(f"lab: {len(joined)} hosts' workers, new since the last version probe: probing", file=sys.stderr)
    result = probe(env=env)
    write_text_atomic(record, json.dumps(joined))
    return result


def up(
    workers: int | None = None,
    *,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    connect: bool = False,
    advertise: str | None = None,
    peers: Iterable[str] = (),
    base: str | None = None,
) -> None:
    """Build what is missing (a missing base from the public image `base`
    when given), start the stack (with `connect`, the Spark Connect server
    too), wait until N workers are registered. With `advertise`, other
    hosts (`peers`, by address) reach it on that address (cluster.across)."""
    problem = engine_problem()
    if problem:
        raise ClusterError(f"{problem}: start Docker, or run the jobs on local[*]")
    workers = (1 if advertise else default_workers()) if workers is None else workers
    ensure_secret()
    ensure_connect_token()
    tag = ensure_images(base)
    env = env or compose_env(workers)
    if advertise:
        from cluster.across import advertise_env

        if workers != 1:
            raise ClusterError("one worker per host across machines (its ports are fixed): drop --workers")
        env = advertise_env(env, advertise, peers)
    if connect:
        env = with_connect(env)
    refuse_ports_held_by_another(env, PUBLISHED_PORTS + ((CONNECT_PORT,) if connect else ()))
    env.setdefault("SPARKLAB_IMAGE", tag)
    print(f"up: starting {workers} workers (image {tag})", file=sys.stderr)
    resize(workers, env=env, timeout=timeout)
    probe(env=env)
    ui = master_ui(env)
    print(
        f"up: master UI {ui}  history {service_url('history', 18080, env)}  "
        f"(workers and running applications open through the master UI)",
        file=sys.stderr,
    )
    if connect:
        print("up: Spark Connect is up; `./lab connect` prints its URL with the token", file=sys.stderr)


# The settings of the host ports `up` publishes (the Connect server's with --connect).
PUBLISHED_PORTS = ("SPARKLAB_MASTER_UI_PORT", "SPARKLAB_HISTORY_PORT")
CONNECT_PORT = "SPARKLAB_CONNECT_PORT"


def refuse_ports_held_by_another(env: dict[str, str], port_settings: Iterable[str]) -> None:
    """Refuse in one line when a container of another project (another
    checkout's cluster, say) publishes a port this cluster needs: Compose
    would half-start this one and fail later. Names its folder and how to
    stop it."""
    bind = env.get("SPARKLAB_BIND") or setting("SPARKLAB_BIND")
    # Set but empty (as the tests set them) means any free port: nothing to hold.
    wanted = {port for name in port_settings if (port := env[name] if name in env else setting(name))}
    listing = subprocess.run(
        ["docker", "ps", "--format", PS_PORTS_FORMAT], capture_output=True, text=True, check=False
    )
    for line in listing.stdout.splitlines():
        name, ports, project, folder = line.split("\t")  # the format has four fields
        if project == env["COMPOSE_PROJECT_NAME"]:
            continue
        taken = sorted(port for port in wanted if f"{bind}:{port}->" in ports or f"0.0.0.0:{port}->" in ports)
        if taken:
            owner = f"the cluster of {folder} (project {project})" if folder else f"container {name}"
            stop = f"stop it (cd {folder} && ./lab down)" if folder else f"stop it (docker stop {name})"
            raise ClusterError(
                f"port {', '.join(taken)} on {bind} is already published by {owner}: {stop}, "
                f"or give this cluster other ports ({', '.join(port_settings)})"
            )


PS_PORTS_FORMAT = (
    '{{.Names}}\t{{.Ports}}\t{{.Label "com.docker.compose.project"}}'
    '\t{{.Label "com.docker.compose.project.working_dir"}}'
)


def resize(workers: int, *, env: dict[str, str] | None = None, timeout: float = 300) -> None:
    """Start what is missing and scale the workers to `workers`, in place: the
    master, the driver and a running job are left alone; wait until the
    master lists that many live workers."""
    compose(
        "up", "-d", "--wait", "--wait-timeout", str(int(timeout)), "--scale", f"worker={workers}", env=env
    )
    wait_for_workers(workers, env=env)


def wait_for_workers(workers: int, *, env: dict[str, str] | None = None, timeout: float = 90) -> None:
    """Wait (bounded) until the master lists exactly `workers` live workers.

    Compose's --wait has seen each worker register; after a scale-down the
    master may list a stopped one as ALIVE for a moment longer.
    """

    def listed() -> bool | NotReady:
        alive = len(alive_workers(master_state(env)))
        return alive == workers or NotReady(f"the master lists {alive} live workers, not {workers}")

    waited = wait_until(listed, timeout=timeout, interval=0.5)
    if not waited:
        raise ClusterError(
            f"{waited.reason}, after {timeout:.0f} s; see `./lab logs worker` and `./lab status`"
        )


def down(volumes: bool = False, env: dict[str, str] | None = None) -> None:
    """Stop and remove every service, those of Compose profiles (Connect) included."""
    env = {**(env or compose_env()), "COMPOSE_PROFILES": "*"}
    compose("down", *(["--volumes"] if volumes else []), "--remove-orphans", env=env)


def service_url(service: str, port: int, env: dict[str, str] | None = None, *, scheme: str = "http") -> str:
    """Where the host reaches a service's published `port` (any service: every
    Compose profile is on for the lookup, so notebook and connect are known)."""
    env = {**(env or compose_env()), "COMPOSE_PROFILES": "*"}
    done = compose("port", service, str(port), env=env, capture=True)
    address = done.stdout.strip().splitlines()[0]  # as published: tests check it is loopback
    if scheme == "sc":  # pyspark sends a token without TLS only to `localhost` (cluster/connect.py)
        address = "localhost:" + address.rpartition(":")[2]
    return f"{scheme}://{address}"


def master_ui(env: dict[str, str] | None = None) -> str:
    return service_url("master", 8080, env)


def master_state(env: dict[str, str] | None = None) -> dict:
    """The master's state, through its published UI port."""
    return read_master_state(master_ui(env), timeout=10)


def describe(env: dict[str, str] | None = None) -> str:
    """The running services, then the master's view, as a few lines of text."""
    state = master_state(env)
    running = running_services({**(env or compose_env()), "COMPOSE_PROFILES": "*"})
    lines = [
        "services " + ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(running.items())),
        f"master {state.get('url')} {state.get('status')}: {state.get('aliveworkers', 0)} live workers, "
        f"{state.get('coresused', 0)}/{state.get('cores', 0)} cores and "
        f"{state.get('memoryused', 0)}/{state.get('memory', 0)} MB in use",
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
    env = env or compose_env()
    return subprocess.run(
        compose_command("exec", "-T", "driver", *command, env=env),
        cwd=ROOT,
        env=env,
        text=True,
        timeout=timeout,
        stdout=subprocess.PIPE,
        stderr=None if stream_stderr else subprocess.PIPE,
    )


def probe(env: dict[str, str] | None = None) -> dict:
    """Run one task on every executor; stop if any node's versions differ from the driver's."""
    done = exec_driver(["python", "-m", "jobs.runtime.probe", "--master", MASTER_URL], env=env)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines() or ["probe failed"]
        # A mismatch is the news; the summary line after it is not.
        raise ClusterError(next((line for line in said if "version mismatch" in line), said[-1]))
    return json.loads(done.stdout.strip().splitlines()[-1])
