"""SparkLab's tasks. `./lab --list` (or `invoke --list` in .venv) shows them.

Tasks are thin: they assemble a command or call a function in `jobs/` or
`cluster/`, where the logic and its tests live. The job tasks (wordcount,
gd, cv) are made from the jobs' own argparse parsers (`jobs.options`): their
options, defaults and help live there alone. No pyspark import up here.
One file over 300 lines, by invoke's convention: it is the collection, one
short function per task, each docstring the task's help.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import shlex
import sys
from pathlib import Path

from invoke import Collection, Exit, Task, task

from cluster import lifecycle, settings
from cluster import notebook as notebook_service
from jobs.errors import JobError, Terminated, interrupt_exit_code, raise_on_sigterm
from jobs.options import JOB_HELP, job_parsers, join_runs, to_argv
from jobs.runtime.child import run_child
from jobs.runtime.session import JVM_OPTIONS_ENV

ROOT = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)
# `./lab` changes into the project; it passes the caller's directory on, so
# that relative paths on its command line mean what the caller meant.
CALLER_DIR = Path(os.environ.get("SPARKLAB_CALLER_DIR") or Path.cwd())
PATH_OPTIONS = ("input", "data", "out")
ON_HELP = (
    "where to run: local (this machine, default), cluster (the Compose cluster) or connect "
    "(wordcount and mllib, through the cluster's Spark Connect server: `./lab up --connect`)"
)


def one_line_errors(body):
    """The one place a JobError (bad input, missing cluster) becomes a clean exit 2,
    and Ctrl-C or SIGTERM a clean 130 or 143."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        name = body.__name__.rstrip("_")
        raise_on_sigterm()
        try:
            return body(c, *args, **kwargs)
        except JobError as error:
            raise Exit(f"{name}: {error}", code=2) from None
        except (KeyboardInterrupt, Terminated) as stop:
            raise Exit(f"{name}: interrupted; no result written", code=interrupt_exit_code(stop)) from None

    return wrapper


def _from_caller(options: dict) -> dict:
    """Relative paths in path options, resolved against the caller's directory."""

    def resolve(value):
        if isinstance(value, list | tuple):
            return [resolve(v) for v in value]
        return value if value is None or os.path.isabs(value) else str(CALLER_DIR / value)

    return {k: resolve(v) if k in PATH_OPTIONS else v for k, v in options.items()}


def run_job(c, job: str, on: str, options: dict) -> Path | None:
    """Run `python -m jobs JOB` here, or submit it to the Compose cluster."""
    options = _from_caller(options)
    # The job's own parser checks every value first, the same way on both runtimes.
    job_parsers()[job].parse_args(to_argv(options))
    if on == "local":
        code = run_child([sys.executable, "-m", "jobs", job, *to_argv(options)], env=_local_job_env())
        if code:
            raise Exit(code=code)  # the job said why, in one line
        return None
    if on == "cluster":
        from cluster.submit import submit

        path = submit(job, options)
        print(json.dumps({"job": job, "result": str(path)}))
        return path
    if on == "connect":  # a thin client here; the server runs it on the cluster
        from cluster import connect

        code = run_child(connect.job_command(job, options), env=connect.client_env())
        if code:
            raise Exit(code=code)
        return None
    raise Exit(f"--on must be local, cluster or connect, not {on!r}", code=2)


def _local_job_env() -> dict[str, str]:
    return os.environ | {JVM_OPTIONS_ENV: settings.setting(JVM_OPTIONS_ENV)}  # .env's, as on the cluster


def _job_task(job: str) -> Task:
    """An invoke task whose options are the job parser's: forwarded only when set."""
    parser = job_parsers()[job]
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params.append(inspect.Parameter("on", inspect.Parameter.KEYWORD_ONLY, default="local"))
    helps, iterable = {"on": ON_HELP}, []
    for action in parser._actions:
        if action.dest == "help":
            continue
        flag = action.nargs == 0
        # Flags default to False; values to None (unset: argparse's default applies).
        params.append(
            inspect.Parameter(action.dest, inspect.Parameter.KEYWORD_ONLY, default=False if flag else None)
        )
        default = "" if flag or action.default is None else f" (default {action.default})"
        helps[action.dest] = (action.help or "") + default
        if action.nargs in ("+", "*"):
            iterable.append(action.dest)

    def body(c, on="local", **options):
        run_job(c, job, on, options)

    body.__name__ = body.__qualname__ = job  # before the wrapper copies it: errors say `gd: ...`
    body = one_line_errors(body)
    body.__doc__ = JOB_HELP[job]
    body.__signature__ = inspect.Signature(params)
    return Task(body, name=job, help=helps, iterable=iterable, auto_shortflags=False)


wordcount, gd, cv, mllib = (_job_task(job) for job in ("wordcount", "gd", "cv", "mllib"))


@task(help={"from_": "copy this local file instead of downloading (the sha256 is checked either way)"})
@one_line_errors
def data(c, from_=None):
    """Check the shipped wine data's sha256 (fetched only if missing or wrong), or copy it --from a path."""
    from jobs.data.download import fetch_wine

    path = fetch_wine(source=from_)
    print(f"data: {path} (sha256 checked)")


def _ensure_wine_data() -> str:
    from jobs.data.paths import wine_csv

    try:
        return wine_csv(None)
    except JobError:
        from jobs.data.download import fetch_wine

        print("data: no wine data yet; downloading it (./lab data)", file=sys.stderr)
        return str(fetch_wine())


DEMO_JOBS = ("wordcount", "gd", "cv")


def _run_all_jobs(c, on: str, out: Path, clock) -> dict[str, dict]:
    """The three jobs in ONE application per runtime (`--then`), as a notebook
    runs them: the session starts once; each job's own time is in its JSON."""
    with clock.phase(f"the three jobs on {on} (one application)"):
        if on == "local":
            argv = join_runs([[job, "--out", str(out)] for job in DEMO_JOBS])
            code = run_child([sys.executable, "-m", "jobs", *argv], env=_local_job_env())
            if code:
                raise Exit(code=code)  # the job said why, in one line
        else:
            from cluster.submit import submit_all

            submit_all([(job, {}) for job in DEMO_JOBS], out=out)
    results = {job: json.loads((out / f"{job}.json").read_text()) for job in DEMO_JOBS}
    for job in DEMO_JOBS:
        clock.part(f"{job}, in the application", results[job]["seconds"])
    return results


@task(
    help={
        "workers": "workers in the cluster (default: SPARKLAB_WORKERS in .env)",
        "local_only": "skip the cluster",
    }
)
@one_line_errors
def demo(c, workers=None, local_only=False):
    """Run the three jobs on local[*] and on the Docker cluster, then write the report."""
    from jobs.report.files import new_run_id
    from jobs.report.phases import PhaseClock
    from jobs.report.run_report import write_report

    setup = os.environ.get("SPARKLAB_SETUP_SECONDS")  # ./lab's own set-up, timed there
    clock = PhaseClock("demo", [("set-up (.venv)", float(setup))] if setup else [])
    workers = int(workers or settings.default_workers())
    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    run_dir = ROOT / "results" / new_run_id()
    runs = {"local[*]": _run_all_jobs(c, "local", run_dir / "local", clock)}
    notes = []
    if local_only:
        notes.append("Cluster skipped (--local-only).")
    else:
        problem = settings.engine_problem()
        if problem:
            notes.append(
                f"No cluster run: {problem}. With Docker running, `./lab demo` brings the "
                f"cluster up and runs the jobs there too (`./lab up` starts it alone)."
            )
        else:
            with clock.phase("images (built once, then reused)"):
                lifecycle.ensure_images()
            with clock.phase(f"cluster up ({workers} workers)"):
                lifecycle.up(workers=workers)
            label = f"cluster ({workers} workers)"
            runs[label] = _run_all_jobs(c, "cluster", run_dir / "cluster", clock)
    with clock.phase("report"):
        report = write_report(run_dir, runs, notes, phases=clock.markdown())
    for note in notes:
        print(f"demo: {note}", file=sys.stderr)
    print(f"demo: {clock.total():.0f} s in all; report at {report}")


@task(
    help={
        "k": "only tests matching this expression",
        "cluster": "only the cluster tests",
        "no_cluster": "leave the cluster tests out",
    }
)
def test(c, k=None, cluster=False, no_cluster=False):
    """Run the whole test suite (cluster tests included), then ruff."""
    pytest = [sys.executable, "-m", "pytest", *(["-k", k] if k else [])]
    if cluster or no_cluster:
        marker = "cluster" if cluster else "not cluster"
        code = c.run(shlex.join([*pytest, "-m", marker]), warn=True, pty=False).exited
    else:
        code = _cluster_and_the_rest_side_by_side(pytest)
    lint(c)
    if code:
        raise Exit(code=code)


NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


def _cluster_and_the_rest_side_by_side(pytest: list[str]) -> int:
    """The cluster tests spend much of their time waiting on containers (JVMs
    starting, workers registering, a killed worker noticed): the rest of the
    suite runs beside them, its report printed when both are done."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as rest_output:
        rest = subprocess.Popen(
            [*pytest, "-m", "not cluster", "-p", "no:cacheprovider"],
            stdout=rest_output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            print("test: the cluster tests here; the rest beside them, reported after", flush=True)
            cluster_code = subprocess.run([*pytest, "-m", "cluster"], check=False).returncode
            rest_code = rest.wait()
        finally:
            if rest.poll() is None:
                rest.kill()
        rest_output.seek(0)
        print("\n--- the tests without the cluster ---\n" + rest_output.read(), flush=True)
    return combined_exit_code(cluster_code, rest_code)


def combined_exit_code(*codes: int) -> int:
    """One exit code for several pytest runs: the first failure's; pytest's 5
    ("no tests collected", e.g. `-k` matched only one side) only if all said it."""
    failed = [code for code in codes if code not in (0, NO_TESTS_COLLECTED)]
    if failed:
        return failed[0]
    return NO_TESTS_COLLECTED if all(code == NO_TESTS_COLLECTED for code in codes) else 0


@task
def lint(c):
    """Check the code with ruff."""
    c.run(f"{PY} -m ruff check .", pty=False)


# --- The Compose cluster ----------------------------------------------------


@task(
    help={
        "base": "build the base from this public image (needs internet) instead of debootstrap",
        "force": "rebuild even if the images exist",
        "save": "write the images into FILE (docker save), to carry to another host",
        "load": "load the images from FILE (made by --save on another host; no registry needed)",
    }
)
@one_line_errors
def image(c, base=None, force=False, save=None, load=None):
    """Build the Spark images here (debootstrap base + wheelhouse), reusing what is built."""
    from cluster import across, images

    if load:
        for tag in across.load_images(Path(CALLER_DIR / load)):
            print(f"image: loaded {tag}")
        return
    images.build_base(public_base=base, force=force)
    tag = images.build_app(force=force)
    images.check_versions(tag)
    for name, size in images.image_sizes().items():
        print(f"image: {name}  {size / 1e6:,.0f} MB")
    if save:
        print(f"image: saved into {across.save_images(Path(CALLER_DIR / save))}")


@task(
    help={
        "workers": "how many workers (default: SPARKLAB_WORKERS in .env)",
        "connect": "also start the Spark Connect server (`./lab connect` prints its URL)",
        "advertise": "publish master, one worker and driver on this host address (README: Across machines)",
        "peers": "with --advertise: the addresses of the hosts that will join, comma-separated",
    }
)
@one_line_errors
def up(c, workers=None, connect=False, advertise=None, peers=""):
    """Start the cluster (building what is missing) and wait until every worker is registered."""
    lifecycle.up(
        None if workers is None else int(workers),
        connect=connect,
        advertise=advertise,
        peers=peers.split(","),
    )


@task(
    positional=["master"],
    help={
        "master": "host A's master, spark://ADDR:7077 (its `./lab up --advertise ADDR`)",
        "advertise": "this host's address, published for the master, driver and other workers",
        "workers": "workers on this host: 1 (one per host across machines, its ports are fixed)",
        "peers": "other joined hosts' addresses, comma-separated (their executors exchange data)",
    },
)
@one_line_errors
def join(c, master, advertise, workers=1, peers=""):
    """Start a worker here that joins host A's master (copy its secret and images first)."""
    from cluster.across import join as join_master

    name = join_master(master, advertise=advertise, workers=int(workers), peers=peers.split(","))
    print(f"join: worker {name} registered with {master}; `./lab down` here removes it")


@task
@one_line_errors
def connect(c):
    """Print the Spark Connect URL with its token: SparkSession.builder.remote(URL) (`up --connect` first)."""
    from cluster.connect import connect_url

    print(connect_url())


@task(help={"volumes": "also delete the event logs, recovery state and results volumes"})
@one_line_errors
def down(c, volumes=False):
    """Stop the cluster and remove its containers."""
    lifecycle.down(volumes=volumes)


@task
@one_line_errors
def status(c):
    """Show the workers, cores, memory and applications, as the master reports them."""
    lifecycle.require_running()
    print(lifecycle.describe())


@task(
    positional=["app"],
    auto_shortflags=False,
    help={"app": "the application id (`./lab status` lists them)", "all_": "every running application"},
)
@one_line_errors
def stop(c, app=None, all_=False):
    """End a running application on the cluster (`stop APP_ID`, or `stop --all`)."""
    from cluster.submit import stop_applications

    if (not app and not all_) or (app or "").startswith("-"):
        raise Exit("stop: name an application (`./lab status` lists them) or pass --all", code=2)
    ended = stop_applications([app] if app else [], every=all_)
    print(f"stop: ended {', '.join(ended) or 'nothing'}")


@task(help={"service": "master, worker, driver or history (default: all)", "follow": "keep following"})
@one_line_errors
def logs(c, service=None, follow=False):
    """Show the containers' logs."""
    lifecycle.compose(
        "logs", "--tail", "200", *(["--follow"] if follow else []), *([service] if service else [])
    )


@task
@one_line_errors
def ui(c):
    """Print the web UIs' addresses (master with workers and apps behind it, history)."""
    lifecycle.require_running()
    print(f"master   {lifecycle.master_ui()}  (worker and application UIs open through it)")
    print(f"history  {lifecycle.service_url('history', 18080)}")


@task
@one_line_errors
def shell(c):
    """Open a pyspark shell in the driver container, against the cluster."""
    lifecycle.require_running()
    c.run(
        shlex.join(settings.compose_command("exec", "driver", "pyspark", "--master", settings.MASTER_URL)),
        pty=True,
    )


def _after_dashes(c) -> list[str]:
    """The words after `--` on the command line, as given (invoke's
    `c.remainder` is them joined by spaces, which loses their quoting)."""
    remainder = getattr(c, "remainder", "") or ""
    if remainder and "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1 :]
    return shlex.split(remainder)


@task(
    help={
        "script": "your PySpark script PATH.py (its directory's modules go too), or a job: wordcount, gd, cv",
        "args": "a job's options, quoted: --args '--iterations 10' (a script's arguments go after --)",
        "on": "cluster (default: the Compose cluster) or local (local[*] here)",
    }
)
@one_line_errors
def submit(c, script, args="", on="cluster"):
    """Run your PySpark script (`submit my.py -- ARGS`) or a job (`submit gd --args '...'`) on the cluster."""
    if script in JOB_HELP:
        run_job(c, script, on, vars(job_parsers()[script].parse_args(shlex.split(args))))
        return
    from cluster.scripts import submit_script

    code, out = submit_script(script, _after_dashes(c), on=on, cwd=CALLER_DIR)
    if out:
        print(f"submit: what the script wrote to SPARKLAB_OUT is in {out}", file=sys.stderr)
    if code:
        raise Exit(code=code)  # the script's own exit code; its traceback said why


@task(help={"stop": "stop the notebook service alone (your notebooks stay in notebooks/)"})
@one_line_errors
def notebook(c, stop=False):
    """Start JupyterLab on the cluster (each kernel a Spark driver); print its address with the token."""
    if stop:
        notebook_service.stop()
        print("notebook: stopped (notebooks/ keeps your work)", file=sys.stderr)
        return
    print(notebook_service.start())


@task(
    help={
        "workers": "cluster sizes to run, comma-separated (default 1,2,3)",
        "jobs": "which jobs, comma-separated (default wordcount,gd,cv)",
        "no_compose": "leave the Compose cluster out",
        "no_local_cluster": "leave local-cluster out",
    }
)
@one_line_errors
def compare(c, workers="1,2,3", jobs="wordcount,gd,cv", no_compose=False, no_local_cluster=False):
    """Run the jobs on local[*], local-cluster and the cluster at each size; report side by side."""
    from cluster.comparison import compare as run_compare
    from jobs.report.files import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    out = ROOT / "results" / "compare" / new_run_id()
    result = run_compare(
        jobs.split(","),
        [int(n) for n in workers.split(",")],
        out,
        compose=not no_compose,
        local_cluster=not no_local_cluster,
    )
    print(f"compare: report at {out / 'report.md'}")
    if not result["all_equal"]:
        raise Exit("compare: some results differ from local[*] (see the report)", code=1)


@task(
    help={
        "quick": "fewer iterations and sizes (under 3 minutes on local)",
        "on": "local (default): local[*] on this machine; cluster: from the driver container "
        "against the running cluster (`./lab up` first)",
        "no_mllib": "leave Spark MLlib out",
    }
)
@one_line_errors
def bench(c, quick=False, on="local", no_mllib=False):
    """Benchmark SparkLab against the article's way, MLlib and numpy; print the ratios."""
    from jobs.report.files import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    args = [*(["--quick"] if quick else []), *(["--no-mllib"] if no_mllib else [])]
    out = ROOT / "results" / "bench" / new_run_id()
    if on == "local":
        code = run_child([sys.executable, "-m", "jobs.bench", *args, "--out", str(out)])
        if code:
            raise Exit(code=code)
    elif on == "cluster":
        from cluster.submit import bench as bench_on_cluster

        print(f"bench: report at {bench_on_cluster(args, out)}")
    else:
        raise Exit(f"--on must be local or cluster, not {on!r}", code=2)


ns = Collection(wordcount, gd, cv, mllib, data, demo, compare, bench, test, lint)
for cluster_task in (image, up, join, down, status, stop, logs, ui, shell, submit, notebook, connect):
    ns.add_task(cluster_task)
