"""SparkLab's tasks. `./lab --list` (or `invoke --list` in .venv) shows them,
in the groups of `GROUPS`.

Tasks are thin: they assemble a command or call a function in `jobs/` or
`cluster/`, where the logic and its tests live. The job tasks (wordcount,
gd, cv) are made from the jobs' own argparse parsers (`jobs.options`): their
options, defaults and help live there alone. No pyspark import up here.
One file over 300 lines, by invoke's convention: it is the collection, one
short function per task, each docstring the task's help. invoke's parser
is fitted to this command line by `cluster.task_parser` (typed options,
optional positionals, `-h` everywhere, one-line parse errors).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import shlex
import sys
from pathlib import Path

from invoke import Collection, Exit, Task

from cluster import lifecycle, settings
from cluster import notebook as notebook_service
from cluster.task_parser import TypedTask, install, task
from jobs.errors import JobError, Terminated, interrupt_exit_code, raise_on_sigterm
from jobs.options import CONNECT_JOBS, JOB_HELP, JOBS, job_parsers, join_runs, to_argv
from jobs.runtime.child import run_child
from jobs.runtime.session import JVM_OPTIONS_ENV

ROOT = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)
# `./lab` changes into the project; it passes the caller's directory on, so
# that relative paths on its command line mean what the caller meant.
CALLER_DIR = Path(os.environ.get("SPARKLAB_CALLER_DIR") or Path.cwd())
PATH_OPTIONS = ("input", "data", "out")
BASE_HELP = (
    "make a missing base image from this public Debian image only (pulled from your registry); "
    "default: the first way that works (.env: SPARKLAB_BASE_IMAGE, SPARKLAB_PUBLIC_BASE)"
)
# Where each job can run: Spark Connect runs the DataFrame programs only.
ON_CHOICES = {job: ("local", "cluster", *(["connect"] if job in CONNECT_JOBS else [])) for job in JOBS}
ON_HELP = {
    "local": "local (local[*] on this machine, the default)",
    "cluster": "cluster (the Compose cluster)",
    "connect": "connect (through the cluster's Spark Connect server: `./lab up --connect`)",
}
# The Compose services (docker-compose.yml; tests/test_tasks.py checks the two agree).
SERVICES = ("master", "worker", "driver", "history", "connect", "notebook")


def on_help(job: str) -> str:
    return "where to run: " + ", ".join(ON_HELP[on] for on in ON_CHOICES[job])


TAKES_WORDS_AFTER_DASHES = ("submit",)  # a script's own arguments


def one_line_errors(body):
    """The one place a JobError (bad input, missing cluster) becomes a clean exit 2,
    and Ctrl-C or SIGTERM a clean 130 or 143."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        name = body.__name__.rstrip("_")
        raise_on_sigterm()
        extra = [] if name in TAKES_WORDS_AFTER_DASHES else _after_dashes(c)
        if extra:  # invoke would pass them on to nobody
            raise Exit(
                f"{name}: takes nothing after --, not {shlex.join(extra)!r} (`./lab {name} --help`)", code=2
            )
        try:
            return body(c, *args, **kwargs)
        except JobError as error:
            raise Exit(f"{name}: {error}", code=2) from None
        except PermissionError as error:  # e.g. results/ not writable
            where = f": {error.filename}" if error.filename else ""
            raise Exit(f"{name}: {error.strerror or error}{where}; make it writable", code=2) from None
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
    if on not in ON_CHOICES[job]:
        choices = " or ".join(ON_CHOICES[job])
        but = "; Spark Connect runs wordcount and mllib" if on == "connect" else ""
        raise Exit(f"{job}: --on must be {choices}, not {on!r}{but}", code=2)
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
    raise AssertionError(on)  # ON_CHOICES names only the runtimes above


def _local_job_env() -> dict[str, str]:
    return os.environ | {JVM_OPTIONS_ENV: settings.setting(JVM_OPTIONS_ENV)}  # .env's, as on the cluster


def _job_task(job: str) -> Task:
    """An invoke task whose options are the job parser's: forwarded only when set."""
    parser = job_parsers()[job]
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params.append(inspect.Parameter("on", inspect.Parameter.KEYWORD_ONLY, default="local"))
    helps, iterable, kinds = {"on": on_help(job)}, [], {}
    for action in parser._actions:
        if action.dest == "help":
            continue
        flag = action.nargs == 0
        # Flags default to False; values to None (unset: argparse's default applies).
        params.append(
            inspect.Parameter(action.dest, inspect.Parameter.KEYWORD_ONLY, default=False if flag else None)
        )
        # A list's default is a path of this checkout: its help names it instead.
        shown = flag or action.default is None or isinstance(action.default, list)
        default = "" if shown else f" (default {action.default})"
        helps[action.dest] = (action.help or "") + default
        if action.nargs in ("+", "*"):
            iterable.append(action.dest)
            helps[action.dest] += "; one or more, up to the next option"
        elif action.type in (int, float):
            kinds[action.dest] = action.type

    def body(c, on="local", **options):
        run_job(c, job, on, options)

    body.__name__ = body.__qualname__ = job  # before the wrapper copies it: errors say `gd: ...`
    body = one_line_errors(body)
    body.__doc__ = JOB_HELP[job]
    body.__signature__ = inspect.Signature(params)
    return TypedTask(body, name=job, help=helps, iterable=iterable, kinds=kinds)


wordcount, gd, cv, mllib = (_job_task(job) for job in ("wordcount", "gd", "cv", "mllib"))


@task(help={"from_": "copy this local file instead of downloading (the sha256 is checked either way)"})
@one_line_errors
def data(c, from_=None):
    """Check the shipped wine data's sha256 (fetched only if missing), or copy it --from a path."""
    from jobs.data.download import fetch_wine

    path = fetch_wine(source=str(CALLER_DIR / from_) if from_ else None)  # where the user stands
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
    kinds={"workers": int},
    help={
        "workers": "workers in the cluster (default: SPARKLAB_WORKERS in .env)",
        "local_only": "skip the cluster",
        "base": BASE_HELP,
    },
)
@one_line_errors
def demo(c, workers=None, local_only=False, base=None):
    """Run the three jobs on local[*] and on the Docker cluster, then write the report."""
    from jobs.report.files import new_run_id
    from jobs.report.phases import PhaseClock
    from jobs.report.run_report import write_report

    setup = os.environ.get("SPARKLAB_SETUP_SECONDS")  # ./lab's own set-up, timed there
    clock = PhaseClock("demo", [("set-up (.venv)", float(setup))] if setup else [])
    workers = workers or settings.default_workers()
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
            from cluster.images import ImageError

            try:
                with clock.phase("images (built once, then reused)"):
                    lifecycle.ensure_images(base)
            except ImageError as no_image:  # the local results still get their report
                notes.append(f"No cluster run: {no_image}")
            else:
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
    from cluster import suite

    pytest = [sys.executable, "-m", "pytest", *(["-k", k] if k else [])]
    code = suite.run(pytest, suite.streams(cluster, no_cluster))
    lint(c)
    if code:
        raise Exit(code=code)


@task
def lint(c):
    """Check the code with ruff."""
    c.run(f"{PY} -m ruff check .", pty=False)


# --- The Compose cluster ----------------------------------------------------


@task(
    help={
        "base": BASE_HELP,
        "force": "rebuild even if the images exist",
        "save": "write the images into FILE (docker save), to carry to another host",
        "load": "load the images from FILE (made by --save on another host; no registry needed)",
    }
)
@one_line_errors
def image(c, base=None, force=False, save=None, load=None):
    """Build the Spark images here (the base in the first way that works), reusing what is built."""
    from cluster import across, images

    if load:
        for tag in across.load_images(Path(CALLER_DIR / load)):
            print(f"image: loaded {tag}")
        return
    tag = images.build_app(force=force, public_base=base)
    images.check_versions(tag)
    for name, size in images.image_sizes().items():
        print(f"image: {name}  {size / 1e6:,.0f} MB")
    if save:
        print(f"image: saved into {across.save_images(Path(CALLER_DIR / save))}")


@task(
    kinds={"workers": int},
    help={
        "workers": "how many workers (default: SPARKLAB_WORKERS in .env)",
        "connect": "also start the Spark Connect server (`./lab connect` prints its URL)",
        "advertise": "publish master, one worker and driver on this host address (README: Across machines)",
        "peers": "with --advertise: the addresses of the hosts that will join, comma-separated",
        "base": BASE_HELP,
    },
)
@one_line_errors
def up(c, workers=None, connect=False, advertise=None, peers="", base=None):
    """Start the cluster (building what is missing) and wait until every worker is registered."""
    lifecycle.up(workers, connect=connect, advertise=advertise, peers=peers.split(","), base=base)


@task(
    positional=["master"],
    help={
        "master": "host A's master, spark://ADDR:7077 (its `./lab up --advertise ADDR`)",
        "advertise": "this host's address, published for the master, driver and other workers",
        "peers": "other joined hosts' addresses, comma-separated (their executors exchange data)",
    },
)
@one_line_errors
def join(c, master=None, advertise=None, peers=""):
    """Start a worker here that joins host A's master (copy its secret and images first)."""
    from cluster.across import join as join_master

    if not master or not advertise:
        raise Exit("join: give host A's master and this host's address: "
                   "./lab join spark://ADDR_A:7077 --advertise ADDR_B", code=2)  # fmt: skip
    name = join_master(master, advertise=advertise, peers=peers.split(","))
    print(f"join: worker {name} registered with {master}; `./lab down` here removes it")


@task
@one_line_errors
def connect(c):
    """Print the Spark Connect URL with its token: SparkSession.builder.remote(URL) (`up --connect` first)."""
    from cluster.connect import connect_url
    from cluster.images import IMAGE_PYTHON

    print(connect_url())
    here = "{}.{}".format(*sys.version_info[:2])
    if here != IMAGE_PYTHON:  # Spark refuses a Python UDF whose client Python differs from its own
        print(
            f"connect: this host runs Python {here}, the cluster {IMAGE_PYTHON}: DataFrame queries work from "
            f"here; Python UDFs need a {IMAGE_PYTHON} client (or ./lab notebook, ./lab submit)",
            file=sys.stderr,
        )


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


@task(
    positional=["services"],
    iterable=["services"],
    help={
        "services": f"which services: {', '.join(SERVICES)} (default: every one running)",
        "follow": "keep following",
    },
)
@one_line_errors
def logs(c, services=None, follow=False):
    """Show the containers' logs: `logs` for all, `logs master worker` for some."""
    unknown = [name for name in services or [] if name not in SERVICES]
    if unknown:
        raise Exit(f"logs: no service {unknown[0]!r}; the services: {', '.join(SERVICES)}", code=2)
    follow_ = ["--follow"] if follow else []
    lifecycle.compose("logs", "--tail", "200", *follow_, *(services or []), env=_every_profile())


def _every_profile() -> dict[str, str]:
    """Compose's environment with every profile on, so that connect and notebook are known too."""
    return {**settings.compose_env(), "COMPOSE_PROFILES": "*"}


@task
@one_line_errors
def ui(c):
    """Print the addresses of the web UIs, JupyterLab and Spark Connect that are running."""
    lifecycle.require_running()
    running = lifecycle.running_services(_every_profile())
    print(f"master    {lifecycle.master_ui()}  (worker and application UIs open through it)")
    print(f"history   {lifecycle.service_url('history', 18080)}")
    if running.get("notebook"):
        print(f"notebook  {lifecycle.service_url('notebook', 8888)}/lab  (`./lab notebook`: with its token)")
    if running.get("connect"):
        connect_url = lifecycle.service_url("connect", 15002, scheme="sc")
        print(f"connect   {connect_url}  (`./lab connect`: with its token)")


@task
@one_line_errors
def shell(c):
    """Open a pyspark shell in the driver container, against the cluster."""
    lifecycle.require_running()
    c.run(
        shlex.join(settings.compose_command("exec", "driver", "pyspark", "--master", settings.MASTER_URL)),
        pty=True,
    )


def _split_args(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as error:  # an unclosed quote
        raise Exit(f"submit: --args {args!r}: {error}; quote the options as one word", code=2) from None


def _after_dashes(c) -> list[str]:
    """The words after `--` on the command line, as given (invoke's
    `c.remainder` is them joined by spaces, which loses their quoting)."""
    remainder = getattr(c, "remainder", "") or ""
    if remainder and "--" in sys.argv:
        return sys.argv[sys.argv.index("--") + 1 :]
    return shlex.split(remainder)


@task(
    positional=["script"],
    help={
        "script": f"your script PATH.py (its directory's modules go too), or a job: {', '.join(JOBS)}",
        "args": "a job's options, quoted: --args '--iterations 10' (a script's arguments go after --)",
        "on": "cluster (default: the Compose cluster) or local (local[*] here)",
    },
)
@one_line_errors
def submit(c, script=None, args="", on="cluster"):
    """Run your PySpark script (`submit my.py -- ARGS`) or a job (`submit gd --args '...'`) on the cluster."""
    if not script:
        raise Exit("submit: name a script or a job: ./lab submit my.py -- ARGS, or ./lab submit gd", code=2)
    if script in JOB_HELP:
        if _after_dashes(c):
            raise Exit(f"submit: {script}'s options go in --args, not after --: "
                       f"./lab submit {script} --args '--iterations 10'", code=2)  # fmt: skip
        run_job(c, script, on, vars(job_parsers()[script].parse_args(_split_args(args))))
        return
    if args:
        raise Exit(f"submit: --args is for the jobs ({', '.join(JOBS)}); a script's arguments "
                   f"go after --: ./lab submit {script} -- {args}", code=2)  # fmt: skip
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

    sizes, names = compare_sizes(workers), compare_jobs(jobs)
    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    out = ROOT / "results" / "compare" / new_run_id()
    result = run_compare(
        names,
        sizes,
        out,
        compose=not no_compose,
        local_cluster=not no_local_cluster,
    )
    print(f"compare: report at {out / 'report.md'}")
    if not result["all_equal"]:
        raise Exit("compare: some results differ from local[*] (see the report)", code=1)


def compare_sizes(text: str) -> list[int]:
    """`--workers 1,2,3` as numbers, or one line that says what is wrong."""
    try:
        sizes = [int(word) for word in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise Exit(f"compare: --workers {text!r}: give sizes, comma-separated: --workers 1,2,3", code=2)
    return sizes


def compare_jobs(text: str) -> list[str]:
    """`--jobs wordcount,gd` as names, or one line that says what is wrong."""
    from cluster.comparison import JOB_OPTIONS

    names = [word for word in text.split(",") if word]
    unknown = [name for name in names if name not in JOB_OPTIONS]
    if not names or unknown:
        what = f"no job {unknown[0]!r}" if unknown else "no job named"
        raise Exit(f"compare: --jobs {text!r}: {what}; choose among {','.join(JOB_OPTIONS)}", code=2)
    return names


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


@task(
    positional=["name"],
    help={
        "name": "the experiment (`./lab experiment --list` names them)",
        "list_": "list the experiments, each with its question",
        "smallest": "run at the smallest size (seconds: what the tests run)",
    },
)
@one_line_errors
def experiment(c, name=None, list_=False, smallest=False):
    """Run an experiment on the cluster; write its page: Spark's own numbers, a plot, the answer."""
    from jobs.experiments.registry import EXPERIMENTS, listing

    if list_:
        print(listing())
        return
    if name not in EXPERIMENTS:
        said = f"no experiment {name!r}" if name else "name an experiment"
        raise Exit(f"experiment: {said}; choose among {', '.join(EXPERIMENTS)} (`--list`)", code=2)
    from cluster.submit import experiments as run_in_driver
    from cluster.submit import kill_a_worker_on
    from jobs.experiments.page import write_page
    from jobs.experiments.worker_loss import KILL_CUE
    from jobs.report.files import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    run = new_run_id()
    out = ROOT / "results" / "experiments" / run
    env = settings.compose_env()
    workers = lifecycle.running_services(env).get("worker", 0)
    on_line, killed = kill_a_worker_on(KILL_CUE, env)  # worker-loss's cue; the others never print it
    try:
        [path] = run_in_driver([name], ["--smallest"] * smallest, run, out, env, on_line=on_line)
    finally:
        if killed:
            print(f"experiment: bringing the {workers} workers back", file=sys.stderr)
            lifecycle.resize(workers, env=env)
    result = json.loads(path.read_text())
    running = lifecycle.running_services(env)
    history = lifecycle.service_url("history", 18080, env) if "history" in running else None
    print(f"experiment: page at {write_page(result, out, history)}")


@task
def reference(c):
    """Write the command-line reference, docs/reference/cli.md, from the task and job parsers."""
    from cluster.cli_reference import write_reference

    print(f"reference: wrote {write_reference(ns, GROUPS)}")


# `./lab --list`, in this order (cluster.task_parser prints it).
GROUPS = (
    ("Start here", ("demo", "test")),
    ("Jobs", ("wordcount", "gd", "cv", "mllib", "data", "compare", "bench", "experiment")),
    ("The cluster", ("up", "status", "ui", "logs", "stop", "down", "image", "join", "connect")),
    ("Your code", ("submit", "notebook", "shell")),
    ("Develop", ("lint", "reference")),
)
install(GROUPS, TAKES_WORDS_AFTER_DASHES)
ns = Collection()
for _, names in GROUPS:
    for name in names:
        ns.add_task(globals()[name])
