"""Sending work to the running Compose cluster: a job or the benchmark runs with
spark-submit in the driver container, its output streams back, its result
is copied to the host. Host paths are mapped to the containers' here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from cluster.lifecycle import compose, master_state, require_running, running_services
from cluster.settings import (
    ADVERTISE_ENV,
    MASTER_URL,
    ROOT,
    ClusterError,
    compose_command,
    compose_env,
    data_dir,
)
from jobs.checks import check_out_dir, replaced_result
from jobs.errors import JobError, Terminated
from jobs.options import job_parsers, join_runs, to_argv
from jobs.report.files import new_run_id, write_json_atomic, written_atomically
from jobs.runtime.child import read_lines, wait_for_child
from jobs.runtime.standalone import alive_workers
from jobs.waiting import wait_until

CONTAINER_RESULTS = "/sparklab/results"
CONTAINER_APP = "/sparklab/app"


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
    return submit_all([(job, options)], out=out, env=env, echo=echo, on_line=on_line)[0]


def submit_all(
    runs: list[tuple[str, dict]],
    *,
    out: Path | None = None,
    env: dict[str, str] | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run jobs one after the other in ONE application (`python -m jobs A --then
    B`): one spark-submit in the driver container; each JSON copied to `out`
    (or the job's own --out) on the host. Returns their paths, in order."""
    from cluster.inputs import staged
    from jobs.data.paths import expand_inputs, wine_csv

    require_running(env)
    run_id = new_run_id()
    inside = f"{CONTAINER_RESULTS}/{run_id}"
    jobs, given, host_outs = [], [], []
    for index, (job, options) in enumerate(runs):
        options = dict(options)
        options.pop("master", None)
        host_out = Path(options.pop("out", None) or out or ROOT / "results" / run_id)
        check_out_dir(host_out)  # the host's copy of the result: refused before the work, not after
        replaced = replaced_result(host_out, job)
        if replaced:
            print(f"sparklab {job}: note: {replaced}", file=sys.stderr)
        if job == "wordcount":  # the parser's default (the article's corpus) when none is given
            paths = expand_inputs(options.get("input") or job_parsers()["wordcount"].get_default("input"))
        else:
            paths = [wine_csv(options.get("data"))]
        # Each job writes in a directory of its own in the driver: two of the same job may run.
        jobs.append((job, options, f"{inside}/{index}", len(given), len(paths)))
        given += paths
        host_outs.append(host_out)
    # Inputs outside the mounts are copied in for this run (cluster.inputs).
    with staged(given, run_id, env) as mapped:
        argvs = []
        for job, options, job_inside, first, count in jobs:
            paths = mapped[first : first + count]
            options["input" if job == "wordcount" else "data"] = paths if job == "wordcount" else paths[0]
            argvs.append([job, "--master", MASTER_URL, "--out", job_inside, *to_argv(options)])
        command = [*submit_command(f"{CONTAINER_APP}/jobs/__main__.py", env), *join_runs(argvs)]
        code, lines = spark_submit(command, run=run_id, env=env, echo=echo, on_line=on_line)
    raise_if_interrupted(code)
    if code != 0:
        said = [line for line in lines if any(line.startswith(f"sparklab {job}: ") for job, *_ in jobs)]
        what = " then ".join(job for job, *_ in jobs)
        raise JobError(said[-1].split(": ", 1)[1] if said else f"{what} failed on the cluster (exit {code})")
    results = []
    for (job, _, job_inside, _, _), host_out in zip(jobs, host_outs, strict=True):
        host_out.mkdir(parents=True, exist_ok=True)
        compose("cp", f"driver:{job_inside}/{job}.json", str(host_out / f"{job}.json"), env=env, capture=True)
        results.append(host_out / f"{job}.json")
    return results


def bench(args: list[str], out: Path, env: dict[str, str] | None = None) -> Path:
    """Run the benchmark in the driver against the cluster; write its report to `out` on the host.

    The driver writes bench.json; the host draws the report from it (the
    images carry no plotting library). Everything lands in a temporary
    sibling first and is renamed into place: `out` is whole or absent.
    """
    from jobs.bench.bench_report import write_bench_report
    from jobs.data.paths import wine_csv

    require_running(env)
    inside = f"{CONTAINER_RESULTS}/bench/{out.name}"
    command = [
        *submit_command(f"{CONTAINER_APP}/jobs/bench/__main__.py", env),
        "--master",
        MASTER_URL,
        "--data",
        container_path(wine_csv(None)),
        "--out",
        inside,
        "--json-only",
        *args,
    ]
    code, lines = spark_submit(command, run=out.name, env=env)
    raise_if_interrupted(code)
    if code != 0:
        said = [line for line in lines if line.startswith("bench: error: ")]
        raise JobError(
            said[-1].removeprefix("bench: error: ") if said else f"bench failed on the cluster (exit {code})"
        )
    with written_atomically(out) as staging:
        staging.mkdir(parents=True)
        compose("cp", f"driver:{inside}/bench.json", str(staging / "bench.json"), env=env, capture=True)
        result = with_connect_round_trip(json.loads((staging / "bench.json").read_text()), env)
        write_json_atomic(staging / "bench.json", result)
        write_bench_report(result, staging)
    return out / "bench.md"


def experiments(
    names: list[str],
    args: list[str],
    run: str,
    out: Path,
    env: dict[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run experiments' Spark parts in the driver, one after the other
    (`jobs/experiments/__main__.py`); copy each NAME.json to `out` on the host,
    which draws the pages (the images carry no plotting library). `run`: this run's id."""
    from jobs.data.paths import wine_csv

    require_running(env)
    inside = f"{CONTAINER_RESULTS}/experiments/{run}"
    script = f"{CONTAINER_APP}/jobs/experiments/__main__.py"
    command = [*submit_command(script, env), *names, "--master", MASTER_URL,
               "--data", container_path(wine_csv(None)), "--out", inside, *args]  # fmt: skip
    code, lines = spark_submit(command, run=run, env=env, on_line=on_line)
    raise_if_interrupted(code)
    if code != 0:
        said = [line for line in lines if line.startswith("experiment: error: ")]
        failed = f"{' and '.join(names)} failed (exit {code})"
        raise JobError(said[-1].removeprefix("experiment: error: ") if said else failed)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        compose("cp", f"driver:{inside}/{name}.json", str(out / f"{name}.json"), env=env, capture=True)
    return [out / f"{name}.json" for name in names]


def kill_a_worker_on(cue: str, env: dict[str, str] | None = None) -> tuple[Callable[[str], None], list[str]]:
    """A line handler for `experiments`: SIGKILL one worker container when the
    driver prints `cue` (the worker-loss experiment). The list gets the
    container killed; `lifecycle.resize` brings the workers back afterwards."""
    killed: list[str] = []

    def on_line(line: str) -> None:
        if not killed and cue in line:
            ids = compose("ps", "-q", "worker", env=env, capture=True).stdout.split()
            subprocess.run(["docker", "kill", "--signal", "KILL", ids[-1]], check=True, capture_output=True)
            killed.append(ids[-1])

    return on_line, killed


def with_connect_round_trip(result: dict, env: dict[str, str] | None = None) -> dict:
    """bench.json with its Spark Connect row, measured from the host right after
    the driver's run (the images have no Connect client); a note when no server is up."""
    from cluster import connect
    from jobs.bench.round_trip import RATIO, add_to_bench

    if connect.problem(env):
        return add_to_bench(result, None)
    print("bench: the round trip of a trivial Spark Connect query, from the host", file=sys.stderr)
    result = add_to_bench(result, connect.round_trip(env))
    print(f"bench: {RATIO:<28} {result['ratios'][RATIO]:.3f}", file=sys.stderr)
    return result


def submit_command(script: str, env: dict[str, str] | None = None) -> list[str]:
    """spark-submit of a script in the driver, on the cluster: one executor of one
    task slot on every worker, so other applications still find slots (.env)."""
    workers = running_services(env).get("worker", 1)
    if (env or os.environ).get(ADVERTISE_ENV):  # workers on other hosts count too
        workers = len(alive_workers(master_state(env))) or workers
    workers = max(1, workers)
    return ["spark-submit", "--master", MASTER_URL, "--conf", f"spark.cores.max={workers}", script]


def signal_in_driver(name: str, pattern: str, env: dict[str, str] | None = None) -> bool:
    """Send SIGname to the driver container's processes whose command line matches `pattern`."""
    done = compose(
        "exec", "-T", "driver", "pkill", f"-{name}", "-f", pattern, env=env, check=False, capture=True
    )
    return done.returncode == 0


def stop_applications(
    app_ids: list[str], *, every: bool = False, env: dict[str, str] | None = None
) -> list[str]:
    """End running applications through the driver container (authenticated by
    Docker access; the master UI's kill link stays refused). Returns what was ended."""
    require_running(env)
    active = {app["id"]: app for app in master_state(env).get("activeapps", [])}
    chosen = list(active) if every else app_ids
    unknown = [app for app in chosen if app not in active]
    if unknown:
        listed = ", ".join(active) or "none"
        raise ClusterError(f"no running application {unknown[0]} (running: {listed}); see `./lab status`")
    ended = []
    for app in chosen:
        run = RUN_NAME.search(active[app]["name"])
        # Our own runs carry their id; anything else started in the driver
        # (a pyspark shell, a script) is a SparkSubmit JVM of its own.
        pattern = run.group(1) if run else "org.apache.spark.deploy.SparkSubmit"
        if signal_in_driver("TERM", pattern, env):
            ended.append(app)
    return ended


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
RUN_NAME = re.compile(r"\[run (\S+)\]")
# A job's last line (error, failure, interrupt): the host's command says it
# once, in its own words, so the container's copy is not echoed.
LAST_WORD = re.compile(r"^sparklab \w+: (error: |failed: |interrupted; )")


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


def driver_went_away(code: int, env: dict[str, str] | None = None) -> bool:
    """The driver container stopped under the run (`./lab down`). Its processes
    are killed as it stops, so after a KILLED exec it may be listed as running
    a moment longer: that code waits (bounded) to see it go."""
    gone = wait_until(
        lambda: "driver" not in running_services(env),
        timeout=DRIVER_GONE_WAIT if code == KILLED else 0,
        interval=0.5,
    )
    return bool(gone)


def spark_submit(
    command: list[str],
    *,
    run: str,
    env: dict[str, str] | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
    log: list[str] | None = None,
) -> tuple[int, list[str]]:
    """Run spark-submit in the driver; returns its exit code and the job's output lines.

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
    Terminated) once the run has ended; `./lab stop APP_ID` finds them the
    same way. A driver container that went away during the run (`./lab down`)
    is a ClusterError that says so. Spark's log goes into `log` when given
    (the caller shows what it needs of it).
    """
    process = subprocess.Popen(
        compose_command(
            "exec", "-T", "-e", f"{RUN_ENV}={run}", "driver", "sh", "-c", SUPERVISE, "sh", *command
        ),
        cwd=ROOT,
        env=env or compose_env(),
        stdin=subprocess.PIPE,  # never written: it closes when this process ends, however
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a terminal's Ctrl-C reaches us alone; we pass it on
    )
    lines: list[str] = []
    log = [] if log is None else log

    def on_output(line: str) -> None:
        lines.append(line.rstrip("\n"))
        if on_line:
            on_line(lines[-1])
        # The container's result line: we print ours; its last word: see LAST_WORD.
        if echo and not line.startswith('{"job"') and not LAST_WORD.match(line):
            print(line, end="", file=sys.stderr, flush=True)

    def stop_in_driver(signum: int) -> None:
        signal_in_driver("INT" if signum == signal.SIGINT else "TERM", run, env)

    readers = [read_lines(process.stdout, on_output), read_lines(process.stderr, log.append)]
    ended = wait_for_child(process, stop_in_driver)
    for reader in readers:
        reader.join(timeout=5)
    if ended.received is not None:
        if ended.received == signal.SIGTERM:
            raise Terminated
        raise KeyboardInterrupt
    code = ended.code
    if code != 0 and driver_went_away(code, env):
        raise ClusterError(DRIVER_GONE)
    interrupted = code in (130, Terminated.exit_code)  # said once by the host's command
    if code != 0 and not interrupted and echo and not any(line.startswith("sparklab ") for line in lines):
        print("".join(log[-40:]), end="", file=sys.stderr)
    return code, lines
