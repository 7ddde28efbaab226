"""SparkLab's tasks. `./lab --list` (or `invoke --list` in .venv) shows them,
in the groups of `GROUPS`.

Tasks only wire: each is a docstring (its help), its options' help, and a
call into the module that owns the work (`cluster.runs` for the jobs, the
demo, compare, bench and experiments; `cluster.suite` for the tests;
`cluster.lifecycle`, `cluster.images`,
`cluster.connect`, `cluster.notebook`... for the cluster), where the logic
and its tests live. The job tasks are made from the jobs' own argparse
parsers (`jobs.options`). No pyspark import up here. invoke's parser is
fitted to this command line by `cluster.task_parser`.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from invoke import Collection, Exit

from cluster import applications, hosts, images, lifecycle, runs, suite, task_parser
from cluster import connect as connect_service
from cluster import notebook as notebook_service
from cluster.cli_reference import write_reference
from cluster.project import ComposeProject
from cluster.settings import MASTER_URL
from cluster.task_parser import TAKES_WORDS_AFTER_DASHES, command, install, job_task, task
from jobs.experiments.registry import listing
from jobs.options import JOB_HELP, JOBS, job_parsers

ROOT = Path(__file__).resolve().parent
BASE_HELP = (
    "make a missing base image from this public Debian image only (pulled from your registry); "
    "default: the first way that works (.env: SPARKLAB_BASE_IMAGE, SPARKLAB_PUBLIC_BASE)"
)


def _job(job: str):
    return job_task(job, job_parsers()[job], JOB_HELP[job], runs.on_help(job), runs.run_job)


wordcount, gd, cv, mllib = (_job(job) for job in ("wordcount", "gd", "cv", "mllib"))


@command(help={"from_": "copy this local file instead of downloading (the sha256 is checked either way)"})
def data(c, from_=None):
    """Check the shipped wine data's sha256 (fetched only if missing), or copy it --from a path."""
    runs.fetch_data(from_)


@command(
    kinds={"workers": int},
    help={"workers": "workers in the cluster (default: SPARKLAB_WORKERS in .env)",
          "local_only": "skip the cluster", "base": BASE_HELP},
)  # fmt: skip
def demo(c, workers=None, local_only=False, base=None):
    """Run the three jobs on local[*] and on the Docker cluster, then write the report."""
    runs.demo(workers, local_only, base)


@task(help={"k": "only tests matching this expression", "cluster": "only the cluster tests",
            "no_cluster": "leave the cluster tests out"})  # fmt: skip
def test(c, k=None, cluster=False, no_cluster=False):
    """Run the whole test suite (cluster tests included), then ruff."""
    pytest = [sys.executable, "-m", "pytest", *(["-k", k] if k else [])]
    code = suite.run(pytest, suite.streams(cluster, no_cluster))
    lint(c)
    if code:
        raise Exit(code=code)


@task
def lint(c):
    """Check the code with ruff."""
    c.run(f"{shlex.quote(sys.executable)} -m ruff check .", pty=False)


@command(help={"base": BASE_HELP, "force": "rebuild even if the images exist",
               "save": "write the images into FILE (docker save), to carry to another host",
               "load": "load the images from FILE (made by --save on another host; "
                       "no registry needed)"})  # fmt: skip
def image(c, base=None, force=False, save=None, load=None):
    """Build the Spark images here (the base in the first way that works), reusing what is built."""
    save, load = (runs.caller_path(path) if path else None for path in (save, load))
    images.build_or_carry(base, force, save, load)


@command(
    kinds={"workers": int},
    help={"workers": "how many workers (default: SPARKLAB_WORKERS in .env)",
          "connect": "also start the Spark Connect server (`./lab connect` prints its URL)",
          "advertise": "publish master, one worker and driver on this host address (README: Across machines)",
          "peers": "with --advertise: the addresses of the hosts that will join, comma-separated",
          "base": BASE_HELP},
)  # fmt: skip
def up(c, workers=None, connect=False, advertise=None, peers="", base=None):
    """Start the cluster (building what is missing) and wait until every worker is registered."""
    project = ComposeProject.of_checkout()
    lifecycle.up(project, workers, connect=connect, advertise=advertise, peers=peers.split(","), base=base)


@command(positional=["master"],
         help={"master": "host A's master, spark://ADDR:7077 (its `./lab up --advertise ADDR`)",
               "advertise": "this host's address, published for the master, driver and other workers",
               "peers": "other joined hosts' addresses, comma-separated "
                        "(their executors exchange data)"})  # fmt: skip
def join(c, master=None, advertise=None, peers=""):
    """Start a worker here that joins host A's master (copy its secret and images first)."""
    hosts.join_command(ComposeProject.of_checkout(), master, advertise, peers.split(","))


@command
def connect(c):
    """Print the Spark Connect URL with its token: SparkSession.builder.remote(URL) (`up --connect` first)."""
    connect_service.print_url(ComposeProject.of_checkout())


@command(help={"volumes": "also delete the event logs, recovery state and results volumes"})
def down(c, volumes=False):
    """Stop the cluster and remove its containers."""
    lifecycle.down(ComposeProject.of_checkout(), volumes=volumes)


@command
def status(c):
    """Show the workers, then each application with its run id, owner (job, script, notebook...) and age."""
    print(applications.status(ComposeProject.of_checkout()))


@command(positional=["app"],
         help={"app": "the application id or run id (`./lab status` lists them)",
               "all_": "every running application"})  # fmt: skip
def stop(c, app=None, all_=False):
    """End one running application on the cluster and nothing else (`stop ID`, or `stop --all`)."""
    applications.stop_command(ComposeProject.of_checkout(), app, every=all_)


@command(positional=["services"], iterable=["services"],
         help={"services": f"which services: {', '.join(lifecycle.SERVICES)} (default: every one running)",
               "follow": "keep following"})  # fmt: skip
def logs(c, services=None, follow=False):
    """Show the containers' logs: `logs` for all, `logs master worker` for some."""
    lifecycle.logs(ComposeProject.of_checkout(), services or [], follow)


@command
def ui(c):
    """Print the addresses of the web UIs, JupyterLab and Spark Connect that are running."""
    print(lifecycle.ui_addresses(ComposeProject.of_checkout()))


@command
def shell(c):
    """Open a pyspark shell in the driver container, against the cluster."""
    project = ComposeProject.of_checkout()
    lifecycle.require_running(project)
    command = project.command("exec", "driver", "pyspark", "--master", MASTER_URL)
    c.run(shlex.join(command), pty=True, env=project.environment())


@command(positional=["script"],
         help={"script": f"your script PATH.py (its directory's modules go too), or a job: {', '.join(JOBS)}",
               "args": "a job's options, quoted: --args '--iterations 10' (a script's arguments go after --)",
               "on": "cluster (default: the Compose cluster) or local (local[*] here)"})  # fmt: skip
def submit(c, script=None, args="", on="cluster"):
    """Run your PySpark script (`submit my.py -- ARGS`) or a job (`submit gd --args '...'`) on the cluster."""
    runs.submit_script_or_job(script, args, on, task_parser.after_dashes(c))


@command(help={"stop": "stop the notebook service alone (your notebooks stay in notebooks/)"})
def notebook(c, stop=False):
    """Start JupyterLab on the cluster (each kernel a Spark driver); print its address with the token."""
    notebook_service.command(ComposeProject.of_checkout(), stop)


@command(help={"workers": "cluster sizes to run, comma-separated (default 1,2,3)",
               "jobs": "which jobs, comma-separated (default wordcount,gd,cv)",
               "no_compose": "leave the Compose cluster out",
               "no_local_cluster": "leave local-cluster out"})  # fmt: skip
def compare(c, workers="1,2,3", jobs="wordcount,gd,cv", no_compose=False, no_local_cluster=False):
    """Run the jobs on local[*], local-cluster and the cluster at each size; report side by side."""
    runs.compare(workers, jobs, compose=not no_compose, local_cluster=not no_local_cluster)


@command(help={"quick": "fewer iterations and sizes (under 3 minutes on local)",
               "on": "local (default): local[*] on this machine; cluster: from the driver container "
               "against the running cluster (`./lab up` first)",
               "no_mllib": "leave Spark MLlib out"})  # fmt: skip
def bench(c, quick=False, on="local", no_mllib=False):
    """Benchmark SparkLab against the article's way, MLlib and numpy; print the ratios."""
    runs.bench(quick, on, no_mllib)


@command(positional=["name"],
         help={"name": "the experiment (`./lab experiment --list` names them)",
               "list_": "list the experiments, each with its question",
               "smallest": "run at the smallest size (seconds: what the tests run)"})  # fmt: skip
def experiment(c, name=None, list_=False, smallest=False):
    """Run an experiment on the cluster; write its page: Spark's own numbers, a plot, the answer."""
    if list_:
        print(listing())
        return
    runs.experiment(name, smallest)


@task
def reference(c):
    """Write the command-line reference, docs/reference/cli.md, from the task and job parsers."""
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
