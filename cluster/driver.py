"""The driver container, where every application SparkLab sends to the
cluster runs: spark-submit there with its output streamed back, signals
passed on, a driver that went away told apart from a job that failed.
`cluster.submit` (jobs, the benchmark, experiments) and `cluster.scripts`
(your own script) build on it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from typing import NamedTuple

from cluster.lifecycle import master_state, running_services
from cluster.project import ComposeProject
from cluster.settings import ADVERTISE_FILE, MASTER_URL, ClusterError
from jobs.errors import Terminated
from jobs.report.failure import ERROR_RECORD_ENV, read_record
from jobs.runtime.child import read_lines, wait_for_child
from jobs.runtime.run_tags import run_confs
from jobs.runtime.standalone import alive_workers
from jobs.waiting import wait_until

CONTAINER_RESULTS = "/sparklab/results"
CONTAINER_APP = "/sparklab/app"


def submit_command(project: ComposeProject, script: str, *, run: str, owner: str) -> list[str]:
    """spark-submit of a script in the driver, on the cluster: one executor of one
    task slot on every worker, so other applications still find slots (.env);
    the run id and owner in its configuration."""
    workers = running_services(project).get("worker", 1)
    if ADVERTISE_FILE in project.files:  # workers on other hosts count too
        workers = len(alive_workers(master_state(project))) or workers
    workers = max(1, workers)
    confs = ["--conf", f"spark.cores.max={workers}", *run_confs(run, owner)]
    return ["spark-submit", "--master", MASTER_URL, *confs, script]


# The driver container's processes that hold an application's event log
# open: the application's own driver JVM, whoever started it ($1: the
# application id, $2: the signal). Exit 1 when none does.
SIGNAL_EVENT_LOG_WRITER = r"""
pids=$(for p in /proc/[0-9]*; do
  ls -l "$p/fd" 2>/dev/null | grep -q -- "/opt/spark-events/.*$1" && echo "${p#/proc/}"
done)
[ -n "$pids" ] && kill -"$2" $pids
"""


def signal_application_in_driver(project: ComposeProject, name: str, app_id: str) -> bool:
    """Send SIGname to the driver JVM of application `app_id` alone (the one
    writing its event log), for an application SparkLab did not start: a
    shell's pyspark in the driver container, someone's own spark-submit."""
    script = ["sh", "-c", SIGNAL_EVENT_LOG_WRITER, "sh", app_id, name]
    done = project.run("exec", "-T", "driver", *script, check=False, capture=True)
    return done.returncode == 0


def signal_in_driver(project: ComposeProject, name: str, pattern: str) -> bool:
    """Send SIGname to the driver container's processes whose command line matches `pattern`."""
    done = project.run("exec", "-T", "driver", "pkill", f"-{name}", "-f", pattern, check=False, capture=True)
    return done.returncode == 0


# Runs a command in the driver container and ends it when the host's end of
# stdin closes: `./lab` gone, however it died (even SIGKILL), leaves no
# application holding the cluster. The shell traps INT and TERM (not
# ignores: its children must still get them) and waits for the command's
# own exit code. A background job of a non-interactive shell starts with
# SIGINT ignored (POSIX), and the JVM and Python keep it so: `env
# --default-signal=INT` gives the command its Ctrl-C back.
SUPERVISE = r"""
exec 3<&0
env --default-signal=INT "$@" </dev/null &
job=$!
{ cat <&3 >/dev/null; pkill -TERM -f "$SPARKLAB_RUN"; } &
watcher=$!
trap true INT TERM
while :; do wait "$job"; code=$?; kill -0 "$job" 2>/dev/null || break; done
kill "$watcher" 2>/dev/null  # its cat ends alone when the exec closes stdin
exit "$code"
"""
RUN_ENV = "SPARKLAB_RUN"  # the run id, which build_session puts in the application's name


# Beside a run's results in the driver container: how it ended, if it failed.
ERROR_RECORD = "error.json"


class Submitted(NamedTuple):
    code: int
    failure: dict | None  # a failed run's error record (jobs.report.failure), if it left one


def read_error_record(project: ComposeProject, path: str) -> dict | None:
    """The record a failed run left at `path` in the driver container
    (jobs.report.failure: kind, message, path, line, exit_code), if it left one."""
    done = project.run("exec", "-T", "driver", "cat", path, check=False, capture=True)
    return read_record(done.stdout) if done.returncode == 0 else None


def raise_if_interrupted(code: int) -> None:
    """A job ended by Ctrl-C or SIGTERM (passed on to the driver, or sent there
    by `./lab stop`) ends the host's command the same way."""
    if code == 130:
        raise KeyboardInterrupt
    if code == Terminated.exit_code:
        raise Terminated


DRIVER_GONE = "the cluster was stopped during the run (./lab down?)"
KILLED = 137  # 128 + SIGKILL: what `docker compose exec` ends with when the container goes
DRIVER_GONE_WAIT = 10.0


def driver_went_away(project: ComposeProject, code: int) -> bool:
    """The driver container stopped under the run (`./lab down`). Its processes
    are killed as it stops, so after a KILLED exec it may be listed as running
    a moment longer: that code waits (bounded) to see it go."""
    gone = wait_until(
        lambda: "driver" not in running_services(project),
        timeout=DRIVER_GONE_WAIT if code == KILLED else 0,
        interval=0.5,
    )
    return bool(gone)


def spark_submit(
    project: ComposeProject,
    command: list[str],
    *,
    run: str,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
    log: list[str] | None = None,
    results: str | None = None,
) -> Submitted:
    """Run spark-submit in the driver; returns its exit code and, for a run
    that failed, its error record. Each line of the job's output goes to
    `on_line`.

    spark-submit merges the Python program's stderr into its stdout, so the
    job's progress, its error line and its result line all arrive on stdout;
    Spark's own log (stderr) is kept out of the way unless the job fails.
    Output is read as bytes and decoded line by line (what is not UTF-8 kept
    as surrogates, `jobs.runtime.child.decode`): one odd byte never stops the
    reader. `run` is this run's id, unique, in the command line (its results
    path) and in the application's name: on Ctrl-C or SIGTERM here, the
    processes inside the driver that carry it are sent the same signal (a
    `docker compose exec` client passes none on), so the application ends on
    the cluster too, and the signal is raised here (KeyboardInterrupt,
    Terminated) once the run has ended; `./lab stop ID` ends them the
    same way. A driver container that went away during the run (`./lab down`)
    is a ClusterError that says so. Spark's log goes into `log` when given
    (the caller shows what it needs of it). With `results` (the run's results
    directory in the driver container), a run that fails leaves its record
    there (ERROR_RECORD) instead of its last line (jobs.report.failure), read
    back here.
    """
    error_record = f"{results}/{ERROR_RECORD}" if results else None
    record = ["-e", f"{ERROR_RECORD_ENV}={error_record}"] if error_record else []
    process = project.start(
        "exec",
        "-T",
        "-e",
        f"{RUN_ENV}={run}",
        *record,
        "driver",
        "sh",
        "-c",
        SUPERVISE,
        "sh",
        *command,
        stdin=subprocess.PIPE,  # never written: it closes when this process ends, however
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a terminal's Ctrl-C reaches us alone; we pass it on
    )
    log = [] if log is None else log

    def on_output(line: str) -> None:
        if on_line:
            on_line(line.rstrip("\n"))
        # The container's result line: we print ours (a failed run's last word
        # is its error record, not a line: the host's command says it once).
        if echo and not line.startswith('{"job"'):
            print(line, end="", file=sys.stderr, flush=True)

    def stop_in_driver(signum: int) -> None:
        signal_in_driver(project, "INT" if signum == signal.SIGINT else "TERM", run)

    readers = [read_lines(process.stdout, on_output), read_lines(process.stderr, log.append)]
    ended = wait_for_child(process, stop_in_driver)
    for reader in readers:
        reader.join(timeout=5)
    if ended.received is not None:
        if ended.received == signal.SIGTERM:
            raise Terminated
        raise KeyboardInterrupt
    code = ended.code
    if code != 0 and driver_went_away(project, code):
        raise ClusterError(DRIVER_GONE)
    failure = read_error_record(project, error_record) if code != 0 and error_record else None
    interrupted = code in (130, Terminated.exit_code)  # said once by the host's command
    if code != 0 and not interrupted and echo and failure is None:  # the run said nothing of its own
        print("".join(log[-40:]), end="", file=sys.stderr)
    return Submitted(code, failure)
