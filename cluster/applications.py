"""The applications running on the cluster, as `./lab status` shows them and
`./lab stop` ends them: the master's list, joined with what each driver JVM
carries in its configuration (jobs.runtime.run_tags), read from its command
line in the containers where SparkLab starts drivers.

A driver JVM is matched to its application by the event log it holds open
(/opt/spark-events/...app-ID...): exact, whoever named the application. An
application none of them runs (a shell's pyspark in the driver container) is
still listed, with no run id, and `./lab stop` ends it through the driver
container's JVM that writes its event log."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from cluster import lifecycle
from cluster.driver import signal_application_in_driver, signal_in_driver
from cluster.lifecycle import master_state, require_running, running_services
from cluster.project import ComposeProject
from cluster.settings import ClusterError
from jobs.runtime.run_tags import BENCH, CONNECT, EXPERIMENT, JOB, OWNER_CONF, RUN_CONF, RUN_ID, SCRIPT

# The services whose containers start driver JVMs: jobs, scripts, the
# benchmark and experiments (driver), kernels (notebook), the Connect server.
DRIVER_SERVICES = ("driver", "notebook", "connect")
# Each JVM there that carries a run id and holds an event log open: its
# application id, pid, run id and owner, a line each.
LIST_DRIVER_JVMS = rf"""
for p in /proc/[0-9]*; do
  args=$(tr '\0' '\n' < "$p/cmdline" 2>/dev/null) || continue
  run=$(printf '%s\n' "$args" | sed -n 's/^{RUN_CONF}=//p' | head -n 1)
  [ -n "$run" ] || continue
  app=$(ls -l "$p/fd" 2>/dev/null | grep -o '/opt/spark-events/.*app-[0-9]*-[0-9]*' \
    | grep -o 'app-[0-9]*-[0-9]*$' | head -n 1)
  [ -n "$app" ] || continue
  owner=$(printf '%s\n' "$args" | sed -n 's/^{OWNER_CONF}=//p' | head -n 1)
  echo "$app ${{p#/proc/}} $run ${{owner:-?}}"
done
"""
# Owners whose run id is on every process of the run in the driver container
# (cluster.driver's SUPERVISE): ended by it, the Python driver with its JVM.
SUPERVISED = (JOB, BENCH, EXPERIMENT, SCRIPT)
# A SparkLab job's application name carries its run id too (runtime.session):
# it names the run in the moments its driver holds no event log open (as it
# starts and as it ends).
RUN_IN_NAME = re.compile(r"\[run ([A-Za-z0-9_-]+)\]$")


@dataclass(frozen=True)
class Application:
    app_id: str
    name: str
    cores: int
    started_ms: int  # the master's starttime
    run: str | None = None  # None: not started by SparkLab
    owner: str | None = None
    service: str | None = None  # the container service running its driver
    pid: int | None = None

    def age_seconds(self, now: float | None = None) -> float:
        return max(0.0, (now if now is not None else time.time()) - self.started_ms / 1000)


def driver_jvms(project: ComposeProject) -> dict[str, tuple[str, int, str, str]]:
    """app id -> (service, pid, run id, owner), for every running driver service."""
    found: dict[str, tuple[str, int, str, str]] = {}
    up = running_services(project.every_profile())
    for service in (service for service in DRIVER_SERVICES if service in up):
        done = project.every_profile().run(
            "exec", "-T", service, "sh", "-c", LIST_DRIVER_JVMS, check=False, capture=True
        )
        for line in done.stdout.splitlines():
            app, pid, run, owner = line.split(maxsplit=3)
            found[app] = (service, int(pid), run, owner)
    return found


def running_applications(project: ComposeProject) -> list[Application]:
    """The master's running applications, each with its run id and owner where SparkLab started it."""
    jvms = driver_jvms(project)
    apps = []
    for app in master_state(project).get("activeapps", []):
        service, pid, run, owner = jvms.get(app["id"], (None, None, None, None))
        named = RUN_IN_NAME.search(app["name"])
        if run is None and named:  # starting or ending: its driver is in the driver container
            service, run, owner = "driver", named.group(1), JOB
        apps.append(
            Application(
                app["id"], app["name"], app.get("cores", 0), app.get("starttime", 0), run, owner, service, pid
            )
        )
    return apps


def application_lines(apps: list[Application], now: float | None = None) -> list[str]:
    """A line per application: id, run id, owner, age, cores, name."""
    return [
        f"  running   {app.app_id}  run {app.run or '-':<24} {app.owner or 'other':<10} "
        f"{app.age_seconds(now):6.0f} s  {app.cores} cores  {app.name}"
        for app in apps
    ]


def status(project: ComposeProject) -> str:
    """`./lab status`: the services and workers, each running application
    with its run id, owner and age, then the completed ones."""
    require_running(project)
    completed = [
        f"  completed {app['id']}  {app['name']:<20} {app['state']:<8} "
        f"{app.get('cores', 0)} cores  {app.get('duration', 0) / 1000:.1f} s"
        for app in master_state(project).get("completedapps", [])
    ]
    return "\n".join(
        [lifecycle.describe(project), *application_lines(running_applications(project)), *completed]
    )


def stop_command(project: ComposeProject, app: str | None, *, every: bool) -> None:
    """`./lab stop ID` (an application id or a run id) or `./lab stop --all`: says what it ended."""
    if (not app and not every) or (app or "").startswith("-"):
        raise ClusterError("name an application or a run (`./lab status` lists them) or pass --all")
    ended = stop_applications(project, [app] if app else [], every=every)
    print(f"stop: ended {', '.join(ended) or 'nothing'}")


def stop_applications(project: ComposeProject, ids: list[str], *, every: bool = False) -> list[str]:
    """End running applications, each named by its application id or its run
    id, and nothing else: through the container that runs its driver
    (authenticated by Docker access; the master UI's kill link stays
    refused). Returns the application ids ended."""
    require_running(project)
    apps = running_applications(project)
    by_id = {app.app_id: app for app in apps} | {app.run: app for app in apps if app.run}
    # --all: every application but the Connect server's own, a service
    # (`./lab stop` of its run ends it, and Docker starts it again).
    chosen = [app for app in apps if app.owner != CONNECT] if every else [by_id.get(name) for name in ids]
    if None in chosen:
        unknown = ids[chosen.index(None)]
        listed = ", ".join(app.app_id for app in apps) or "none"
        raise ClusterError(f"no running application or run {unknown} (running: {listed}); see `./lab status`")
    return [app.app_id for app in chosen if end_application(project, app)]


def end_application(project: ComposeProject, app: Application) -> bool:
    if app.owner in SUPERVISED and app.service == "driver" and RUN_ID.fullmatch(app.run or ""):
        return signal_in_driver(project, "TERM", app.run)  # the run's every process there
    if app.pid is not None:  # its driver JVM alone: a kernel, the Connect server, the probe
        done = project.every_profile().run(
            "exec", "-T", app.service, "kill", "-TERM", str(app.pid), check=False, capture=True
        )
        return done.returncode == 0
    # Not started by SparkLab: the JVM in the driver container that writes its event log.
    return signal_application_in_driver(project, "TERM", app.app_id)
