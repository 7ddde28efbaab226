"""The Compose cluster's life: secret and images, up, down, and what is running.

Every Compose call goes through the project (`cluster.project.ComposeProject`),
given by the caller; tasks.py and the tests both call these functions, so
what the tests check is what a user runs. Submitting
work to a running cluster is `cluster.submit`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from cluster import engine, images
from cluster.across import HOST_PREFIX, advertised
from cluster.credentials import ensure_connect_token, ensure_secret
from cluster.project import ComposeProject
from cluster.settings import CONNECT_PROFILE, MASTER_URL, ClusterError, default_workers, setting
from jobs.errors import last_line
from jobs.report.files import new_run_id, write_text_atomic
from jobs.runtime.probe import mismatch_line
from jobs.runtime.run_tags import PROBE, submit_args
from jobs.runtime.standalone import alive_workers, read_master_state
from jobs.waiting import NotReady, wait_until

JOB_TIMEOUT = 1800
# The Compose services (docker-compose.yml; tests/test_tasks.py checks the two agree).
SERVICES = ("master", "worker", "driver", "history", "connect", "notebook")


def ensure_images(public_base: str | None = None) -> str:
    """The Spark image (and the base under it), built where missing; with
    `public_base`, a missing base comes from that image alone (`--base`)."""
    return images.build_app(public_base=public_base)


def service_entries(project: ComposeProject, *args: str) -> list[dict]:
    """`docker compose ps --format json ARGS`: one dict per container (Compose
    prints either one JSON list or one object per line, by version)."""
    done = project.run("ps", "--format", "json", *args, capture=True, check=False)
    entries: list[dict] = []
    for line in filter(None, map(str.strip, done.stdout.splitlines())):
        parsed = json.loads(line)
        entries += parsed if isinstance(parsed, list) else [parsed]
    return entries


def running_image(project: ComposeProject) -> str | None:
    """The image the running master was started from (as Compose names it), or None."""
    masters = service_entries(project, "--status", "running", "master")
    return masters[0].get("Image") if masters else None


def running_services(project: ComposeProject) -> dict[str, int]:
    """Service name -> running containers, for this compose project."""
    return _count_services(service_entries(project, "--status", "running"))


def _count_services(entries: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["Service"]] = counts.get(entry["Service"], 0) + 1
    return counts


def require_running(project: ComposeProject) -> None:
    """Refuse, naming what is missing, unless master, a worker and the driver run.

    A lost driver container (it holds no state) is started again here; the
    restart policy brings it back after a crash, this after a `docker kill`.
    """
    entries = service_entries(project, "--status", "running")
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
        project.run("up", "-d", "--no-recreate", "driver")
        wait_ready(project, ["driver"], timeout=60)
    if _published_beyond_loopback(entries, "master"):  # `./lab up --advertise`: hosts may join
        probe_hosts_that_joined(project)


def _published_beyond_loopback(entries: list[dict], service: str) -> bool:
    return any(
        publisher.get("PublishedPort") and publisher.get("URL") not in ("127.0.0.1", "::1", "")
        for entry in entries
        if entry["Service"] == service
        for publisher in entry.get("Publishers") or []
    )


def probe_hosts_that_joined(project: ComposeProject) -> dict | None:
    """Across machines: before the first job after another host's worker
    joined (`./lab join` there), run the version probe on every host's
    executors; a host whose image carries other pins stops the job with one
    line naming it. Each set of hosts' workers is probed once; returns the
    probe's result, or None when there was nothing new to probe."""
    joined = sorted(
        w["id"] for w in alive_workers(master_state(project)) if w["host"].startswith(HOST_PREFIX)
    )
    record = Path(tempfile.gettempdir()) / f"sparklab-probed-{project.name}.json"
    if len(joined) < 2 or (record.is_file() and json.loads(record.read_text()) == joined):
        return None  # one host alone: `./lab up` checked it (same_versions_everywhere)
    print(f"lab: {len(joined)} hosts' workers, new since the last version probe: probing", file=sys.stderr)
    result = probe(project)
    write_text_atomic(record, json.dumps(joined))
    return result


def up(
    project: ComposeProject,
    workers: int | None = None,
    *,
    timeout: float = 300,
    connect: bool = False,
    advertise: str | None = None,
    peers: Iterable[str] = (),
    base: str | None = None,
) -> dict:
    """Build what is missing (a missing base from the public image `base`
    when given), start the stack (with `connect`, the Spark Connect server
    too), wait until N workers are registered and every service is ready,
    check the versions on every executor (returned: `same_versions_everywhere`). With
    `advertise`, other hosts (`peers`, by address) reach it on that address
    (cluster.across)."""
    problem = engine.engine_problem()
    if problem:
        raise ClusterError(f"{problem}: start Docker, or run the jobs on local[*]")
    workers = (1 if advertise else default_workers()) if workers is None else workers
    ensure_secret()
    ensure_connect_token()
    tag = ensure_images(base)
    project = project.with_variables(SPARKLAB_WORKERS=str(workers))
    if advertise:
        if workers != 1:
            raise ClusterError("one worker per host across machines (its ports are fixed): drop --workers")
        project = advertised(project, advertise, peers)
    if connect:
        project = project.with_profiles(CONNECT_PROFILE)
    refuse_ports_held_by_another(project, PUBLISHED_PORTS + ((CONNECT_PORT,) if connect else ()))
    project = project.with_defaults(SPARKLAB_IMAGE=tag)
    print(f"up: starting {workers} workers (image {tag})", file=sys.stderr)
    resize(project, workers, timeout=timeout)
    found = same_versions_everywhere(project)
    ui = master_ui(project)
    print(
        f"up: master UI {ui}  history {service_url(project, 'history', 18080)}  "
        f"(workers and running applications open through the master UI)",
        file=sys.stderr,
    )
    if connect:
        print("up: Spark Connect is up; `./lab connect` prints its URL with the token", file=sys.stderr)
    return found


# The settings of the host ports `up` publishes (the Connect server's with --connect).
PUBLISHED_PORTS = ("SPARKLAB_MASTER_UI_PORT", "SPARKLAB_HISTORY_PORT")
CONNECT_PORT = "SPARKLAB_CONNECT_PORT"


def refuse_ports_held_by_another(project: ComposeProject, port_settings: Iterable[str]) -> None:
    """Refuse in one line when a container of another project (another
    checkout's cluster, say) publishes a port this cluster needs: Compose
    would half-start this one and fail later. Names its folder and how to
    stop it."""
    bind = project.value("SPARKLAB_BIND") or setting("SPARKLAB_BIND")
    # Set but empty (as the tests set them) means any free port: nothing to hold.
    wanted = {port for name in port_settings if (port := project.value(name))}
    for name, ports, other, folder in engine.published_ports():
        if other == project.name:
            continue
        taken = sorted(port for port in wanted if f"{bind}:{port}->" in ports or f"0.0.0.0:{port}->" in ports)
        if taken:
            owner = f"the cluster of {folder} (project {other})" if folder else f"container {name}"
            stop = f"stop it (cd {folder} && ./lab down)" if folder else f"stop it (docker stop {name})"
            raise ClusterError(
                f"port {', '.join(taken)} on {bind} is already published by {owner}: {stop}, "
                f"or give this cluster other ports ({', '.join(port_settings)})"
            )


def resize(project: ComposeProject, workers: int, *, timeout: float = 300) -> None:
    """Start what is missing and scale the workers to `workers`, in place: the
    master, the driver and a running job are left alone; wait until every
    running service is ready and the master lists that many live workers.
    A running cluster keeps the image
    it runs: a project that names none would take .env's `:latest`, and
    Compose recreates every service whose image name changed."""
    image = running_image(project)
    if image:
        project = project.with_defaults(SPARKLAB_IMAGE=image)
    project.run("up", "-d", "--scale", f"worker={workers}")
    # Every running service is waited for, a Connect server or a notebook
    # started before too (every profile on: Compose then knows them).
    every = project.every_profile()
    started = _count_services(service_entries(every, "--status", "running", "--status", "restarting"))
    wait_ready(every, [service for service in started if service != "worker"], timeout=timeout)
    wait_for_workers(project, workers)


# Each container's own healthcheck (cluster/images/healthcheck.sh): Docker
# runs it every 30 s, for `docker ps` and `./lab status`; waits run it now.
# Docker 20.10 has no faster interval while a container starts (start_interval),
# and every check is an exec that costs ~0.1 s of CPU: at 3 s in five
# containers, an idle cluster used a fifth of a core here.
HEALTHCHECK = "/opt/sparklab/healthcheck.sh"


# What `docker compose exec` ends with when the command is not in the image.
COMMAND_NOT_RUN = (126, 127)


def service_ready(project: ComposeProject, service: str) -> bool | NotReady:
    """Whether `service`'s (first) container is ready, by its own healthcheck,
    run now (bounded: a port that accepts and never answers is not ready).
    A container that exited (or is being restarted after it did), or an
    image without the healthcheck, is no wait: a one-line ClusterError."""
    try:
        done = project.run("exec", "-T", service, HEALTHCHECK, service, check=False, capture=True, timeout=15)
    except subprocess.TimeoutExpired:
        return NotReady(f"{service}: its healthcheck did not answer within 15 s")
    if done.returncode == 0:
        return True
    states = raise_if_exited(project, service)
    if done.returncode in COMMAND_NOT_RUN:
        raise ClusterError(
            f"{service} runs an image without {HEALTHCHECK} (made before it): `./lab down`, then `./lab up`"
        )
    said = last_line(done.stdout + done.stderr, "not ready")
    return NotReady(f"{service} ({', '.join(states) or 'no container'}): {said}")


def raise_if_exited(project: ComposeProject, service: str) -> list[str]:
    """A ClusterError with the last line of its log when a container of
    `service` exited (or is being restarted after it did); else the state of
    each of its containers (Docker's word: running, created, paused...)."""
    entries = service_entries(project, "--all", service)
    for entry in entries:
        if entry.get("State") in ("exited", "dead", "restarting"):
            said = project.run("logs", "--no-log-prefix", "--tail", "20", service, check=False, capture=True)
            raise ClusterError(
                f"{service} {entry['State']}: {last_line(said.stdout + said.stderr)}; "
                f"see `./lab logs {service}`"
            )
    return [str(entry.get("State", "?")) for entry in entries]


def wait_ready(project: ComposeProject, services: Iterable[str], *, timeout: float = 300) -> None:
    """Wait (bounded) until each of `services` is ready, in turn; else one
    ClusterError naming the service, what its healthcheck said and what to run."""
    deadline = time.monotonic() + timeout
    for service in services:
        ready = wait_until(
            lambda service=service: service_ready(project, service),
            timeout=max(deadline - time.monotonic(), 0),
            interval=0.5,
        )
        if not ready:
            raise ClusterError(
                f"{ready.reason}, after {timeout:.0f} s; see `./lab logs {service}` and `./lab status`"
            )


def wait_for_workers(project: ComposeProject, workers: int, *, timeout: float = 90) -> None:
    """Wait (bounded) until the master lists exactly `workers` live workers
    (after a scale-down it may list a stopped one as ALIVE for a moment
    longer); a worker container that exited ends the wait at once."""

    def listed() -> bool | NotReady:
        alive = len(alive_workers(master_state(project)))
        if alive == workers:
            return True
        raise_if_exited(project, "worker")
        return NotReady(f"the master lists {alive} live workers, not {workers}")

    waited = wait_until(listed, timeout=timeout, interval=0.5)
    if not waited:
        raise ClusterError(
            f"{waited.reason}, after {timeout:.0f} s; see `./lab logs worker` and `./lab status`"
        )


def down(project: ComposeProject, volumes: bool = False) -> None:
    """Stop and remove every service, those of Compose profiles (Connect) included."""
    project.every_profile().run("down", *(["--volumes"] if volumes else []), "--remove-orphans")


def service_url(project: ComposeProject, service: str, port: int, *, scheme: str = "http") -> str:
    """Where the host reaches a service's published `port` (any service: every
    Compose profile is on for the lookup, so notebook and connect are known)."""
    done = project.every_profile().run("port", service, str(port), capture=True)
    address = done.stdout.strip().splitlines()[0]  # as published: tests check it is loopback
    if scheme == "sc":  # pyspark sends a token without TLS only to `localhost` (cluster/connect.py)
        address = "localhost:" + address.rpartition(":")[2]
    return f"{scheme}://{address}"


def master_ui(project: ComposeProject) -> str:
    return service_url(project, "master", 8080)


def master_state(project: ComposeProject) -> dict:
    """The master's state, through its published UI port."""
    return read_master_state(master_ui(project), timeout=10)


def describe(project: ComposeProject) -> str:
    """The running services, then the master's view of its workers, as a few
    lines of text (the applications: cluster.applications.status)."""
    state = master_state(project)
    running = running_services(project.every_profile())
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
    return "\n".join(lines)


def exec_driver(
    project: ComposeProject,
    command: list[str],
    *,
    stream_stderr: bool = False,
    timeout: float = JOB_TIMEOUT,
) -> subprocess.CompletedProcess:
    """Run a command in the driver container: stdout captured, stderr captured or streamed."""
    output = "stdout" if stream_stderr else "capture"
    return project.run("exec", "-T", "driver", *command, output=output, check=False, timeout=timeout)


# The services of the Spark image, whose drivers and executors must run the
# same Python and packages. The notebook's image is built FROM the Spark
# image of the same content tag (images.build_notebook), with the same venv.
SPARK_SERVICES = ("master", "worker", "driver", "history", "connect")


def same_versions_everywhere(project: ComposeProject) -> dict:
    """`up`'s check that the driver and every executor run the same Python and
    packages: when every running container of SPARK_SERVICES runs ONE image,
    they do by construction (no job needed); otherwise the version probe, a
    job with a task on every executor, compares them (`probe`). Returns which
    way it was decided; a difference raises the probe's one line."""
    ran = images_run(project)
    image = one_image(ran)
    if image is None:
        return probe(project)
    print(
        f"up: the driver and every worker run one image ({image[:19]}): the same Python and packages",
        file=sys.stderr,
    )
    return {"image": image, "containers": sorted(ran), "mismatches": []}


def images_run(project: ComposeProject) -> dict[str, tuple[str, str]]:
    """Running container -> (its Compose service, the id of the image it runs)."""
    ids = project.every_profile().run("ps", "-q", capture=True).stdout.split()
    if not ids:
        return {}
    fields = '{{.Name}} {{index .Config.Labels "com.docker.compose.service"}} {{.Image}}'
    # Unchecked: a container gone since `ps` is simply not listed.
    listed = engine.docker("inspect", "--format", fields, *ids, check=False).stdout
    return {
        name.lstrip("/"): (service, image)
        for name, service, image in (line.split() for line in listed.splitlines())
    }


def one_image(ran: dict[str, tuple[str, str]]) -> str | None:
    """The one image id that every container of SPARK_SERVICES runs, or None:
    none running, or two images (a worker started from an older build, say)."""
    found = {image for service, image in ran.values() if service in SPARK_SERVICES}
    return found.pop() if len(found) == 1 else None


def probe(project: ComposeProject) -> dict:
    """Run one task on every executor; stop if any node's versions differ from the driver's."""
    # pyspark starts the probe's JVM with spark-submit's arguments from PYSPARK_SUBMIT_ARGS.
    tagged = ["env", f"PYSPARK_SUBMIT_ARGS={submit_args(new_run_id(), PROBE)}"]
    done = exec_driver(project, [*tagged, "python", "-m", "jobs.runtime.probe", "--master", MASTER_URL])
    # Its result, mismatches and all, is JSON on its last line of stdout.
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        found = None
    if done.returncode != 0 or found is None:
        if found and found["mismatches"]:  # the news; the summary line after it is not
            raise ClusterError(mismatch_line(found["mismatches"][0]))
        raise ClusterError(last_line(done.stderr, "probe failed"))
    return found


def logs(project: ComposeProject, services: list[str], follow: bool) -> None:
    """The containers' logs (the last 200 lines of each), of `services` or all
    (`./lab logs`: its one_line_errors names the task before the refusal)."""
    unknown = [name for name in services if name not in SERVICES]
    if unknown:
        raise ClusterError(f"no service {unknown[0]!r}; the services: {', '.join(SERVICES)}")
    follow_ = ["--follow"] if follow else []
    project.every_profile().run("logs", "--tail", "200", *follow_, *services)


def ui_addresses(project: ComposeProject) -> str:
    """The addresses of the web UIs, JupyterLab and Spark Connect that are running."""
    require_running(project)
    running = running_services(project.every_profile())
    lines = [
        f"master    {master_ui(project)}  (worker and application UIs open through it)",
        f"history   {service_url(project, 'history', 18080)}",
    ]
    if running.get("notebook"):
        lines.append(
            f"notebook  {service_url(project, 'notebook', 8888)}/lab  (`./lab notebook`: with its token)"
        )
    if running.get("connect"):
        connect_url = service_url(project, "connect", 15002, scheme="sc")
        lines.append(f"connect   {connect_url}  (`./lab connect`: with its token)")
    return "\n".join(lines)
