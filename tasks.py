"""SparkLab's tasks. `./lab --list` (or `invoke --list` in .venv) shows them.

Tasks are thin: they assemble a command or call a function in `jobs/` or
`cluster/`, where the logic and its tests live. No pyspark import up here.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from invoke import Collection, Exit, task

from cluster import stack
from jobs.errors import JobError

ROOT = Path(__file__).resolve().parent
PY = shlex.quote(sys.executable)

COMMON_HELP = {
    "master": "Spark master URL for --on local (default: local[*])",
    "out": "results directory (default: results/<run-id>)",
    "on": "where to run: local (this machine) or cluster (the Compose cluster)",
    "partitions": "partitions of the data (default: the cores Spark has)",
}
REGRESSION_HELP = {
    **COMMON_HELP,
    "data": "the wine CSV (default: $SPARKLAB_WINE_CSV, else data/winequality-white.csv)",
    "iterations": "gradient steps (default 50)",
    "lr": "learning rate (default 0.1)",
    "on_bad_lines": "error (default): stop at the first bad row; skip: skip and count them",
    "one_job": "run the whole fit as ONE Spark job (a barrier stage with a TCP all-reduce)",
}


def _run_on(c, on: str, name: str, local_command: list[str], on_cluster: Callable[[], Path]) -> Path | None:
    """Run `local_command` on this machine, or `on_cluster()` against the Compose cluster."""
    if on == "local":
        result = c.run(shlex.join(local_command), warn=True, pty=False)
        if result.failed:
            raise Exit(code=result.exited)
        return None
    if on == "cluster":
        try:
            return on_cluster()
        except JobError as error:
            raise Exit(f"{name}: {error}", code=2) from None
    raise Exit(f"--on must be local or cluster, not {on!r}", code=2)


def _run_job(c, job: str, on: str, options: dict) -> None:
    local_command = [PY, "-m", "jobs", job, *stack.flags(options)]
    path = _run_on(c, on, job, local_command, lambda: stack.submit(job, options))
    if path:
        print(json.dumps({"job": job, "result": str(path)}))


@task(
    iterable=["input"],
    help={
        **COMMON_HELP,
        "input": "text file, directory or glob (repeat for more)",
        "top": "how many of the most frequent words to list",
        "lower": "lower-case the words",
        "strip_punct": "strip punctuation",
    },
)
def wordcount(
    c, input, top=10, lower=False, strip_punct=False, master=None, out=None, on="local", partitions=None
):
    """Count words in text files with flatMap + reduceByKey."""
    _run_job(
        c,
        "wordcount",
        on,
        {
            "input": input or [str(ROOT / "data" / "peter_piper.txt")],
            "top": top,
            "lower": lower,
            "strip_punct": strip_punct,
            "master": master,
            "out": out,
            "partitions": partitions,
        },
    )


@task(help=REGRESSION_HELP)
def gd(
    c,
    data=None,
    iterations=50,
    lr=0.1,
    master=None,
    out=None,
    on="local",
    partitions=None,
    on_bad_lines="error",
    one_job=False,
):
    """Fit linear regression on the wine data by batch gradient descent."""
    _run_job(
        c,
        "gd",
        on,
        {
            "data": data,
            "iterations": iterations,
            "lr": lr,
            "master": master,
            "out": out,
            "partitions": partitions,
            "on_bad_lines": on_bad_lines,
            "one_job": one_job,
        },
    )


@task(help={**REGRESSION_HELP, "folds": "k, the number of folds and models (default 6)"})
def cv(
    c,
    data=None,
    folds=6,
    iterations=50,
    lr=0.1,
    master=None,
    out=None,
    on="local",
    partitions=None,
    on_bad_lines="error",
    one_job=False,
):
    """Cross-validate k models at once, one pass over the data per iteration."""
    _run_job(
        c,
        "cv",
        on,
        {
            "data": data,
            "folds": folds,
            "iterations": iterations,
            "lr": lr,
            "master": master,
            "out": out,
            "partitions": partitions,
            "on_bad_lines": on_bad_lines,
            "one_job": one_job,
        },
    )


@task(help={"from_": "copy this local file instead of downloading (the sha256 is checked either way)"})
def data(c, from_=None):
    """Download the UCI wine data (sha256 checked) into data/, or copy it --from a path."""
    from jobs.dataset import fetch_wine
    from jobs.errors import JobError

    try:
        path = fetch_wine(source=from_)
    except JobError as error:
        raise Exit(f"data: {error}", code=2) from None
    print(f"data: {path} (sha256 checked)")


def _ensure_wine_data() -> str:
    from jobs.errors import JobError
    from jobs.inputs import wine_csv

    try:
        return wine_csv(None)
    except JobError:
        from jobs.dataset import fetch_wine

        print("data: no wine data yet; downloading it (./lab data)", file=sys.stderr)
        try:
            return str(fetch_wine())
        except JobError as error:
            raise Exit(f"data: {error}", code=2) from None


def _run_all_jobs(c, on: str, out: Path, master: str | None = None) -> dict[str, dict]:
    _run_job(
        c, "wordcount", on, {"input": [str(ROOT / "data" / "peter_piper.txt")], "out": out, "master": master}
    )
    _run_job(c, "gd", on, {"out": out, "master": master})
    _run_job(c, "cv", on, {"out": out, "master": master})
    return {job: json.loads((out / f"{job}.json").read_text()) for job in ("wordcount", "gd", "cv")}


@task(help={"workers": "workers in the cluster (default 2)", "local_only": "skip the cluster"})
def demo(c, workers=2, local_only=False):
    """Run the three jobs on local[*] and on the Docker cluster, then write the report."""
    from jobs.report import write_report
    from jobs.results import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    run_dir = ROOT / "results" / new_run_id()
    runs = {"local[*]": _run_all_jobs(c, "local", run_dir / "local")}
    notes = []
    if local_only:
        notes.append("Cluster skipped (--local-only).")
    else:
        problem = stack.engine_problem()
        if problem:
            notes.append(
                f"No cluster run: {problem}. With Docker running, `./lab demo` brings the "
                f"cluster up and runs the jobs there too (`./lab up` starts it alone)."
            )
        else:
            stack.up(workers=workers)
            runs[f"cluster ({workers} workers)"] = _run_all_jobs(c, "cluster", run_dir / "cluster")
    report = write_report(run_dir, runs, notes)
    for note in notes:
        print(f"demo: {note}", file=sys.stderr)
    print(f"demo: report at {report}")


@task(
    help={
        "k": "only tests matching this expression",
        "cluster": "only the cluster tests",
        "no_cluster": "leave the cluster tests out",
    }
)
def test(c, k=None, cluster=False, no_cluster=False):
    """Run the whole test suite (cluster tests included), then ruff."""
    marker = "cluster" if cluster else "not cluster" if no_cluster else None
    args = [PY, "-m", "pytest", *(["-m", marker] if marker else []), *(["-k", k] if k else [])]
    result = c.run(shlex.join(args), warn=True, pty=False)
    lint(c)
    if result.failed:
        raise Exit(code=result.exited)


@task
def lint(c):
    """Check the code with ruff."""
    c.run(f"{PY} -m ruff check .", pty=False)


# --- The Compose cluster ----------------------------------------------------


def _cluster(action, *args, **kwargs):
    """Call cluster.stack, turning its one-line errors into a clean exit."""
    try:
        return action(*args, **kwargs)
    except JobError as error:
        raise Exit(f"{action.__name__}: {error}", code=2) from None


@task(
    help={
        "base": "build the base from this public image (needs internet) instead of debootstrap",
        "force": "rebuild even if the images exist",
    }
)
def image(c, base=None, force=False):
    """Build the Spark images here (debootstrap base + wheelhouse), reusing what is built."""
    from cluster import images

    _cluster(images.build_base, public_base=base, force=force)
    tag = _cluster(images.build_app, force=force)
    _cluster(images.check_versions, tag)
    for name, size in images.image_sizes().items():
        print(f"image: {name}  {size / 1e6:,.0f} MB")


@task(help={"workers": "how many workers (default: SPARKLAB_WORKERS in .env, 2)"})
def up(c, workers=None):
    """Start the cluster (building what is missing) and wait until every worker is registered."""
    _cluster(stack.up, int(workers or stack.setting("SPARKLAB_WORKERS") or 2))


@task(help={"volumes": "also delete the event logs, recovery state and results volumes"})
def down(c, volumes=False):
    """Stop the cluster and remove its containers."""
    _cluster(stack.down, volumes=volumes)


@task
def status(c):
    """Show the workers, cores, memory and applications, as the master reports them."""
    _cluster(stack.require_running)
    print(_cluster(stack.describe))


@task(help={"service": "master, worker, driver or history (default: all)", "follow": "keep following"})
def logs(c, service=None, follow=False):
    """Show the containers' logs."""
    _cluster(
        stack.compose,
        "logs",
        "--tail",
        "200",
        *(["--follow"] if follow else []),
        *([service] if service else []),
    )


@task
def ui(c):
    """Print the web UIs' addresses (master with workers and apps behind it, history)."""
    _cluster(stack.require_running)
    print(f"master   {stack.master_ui()}  (worker and application UIs open through it)")
    print(f"history  {stack.service_url('history', 18080)}")


@task
def shell(c):
    """Open a pyspark shell in the driver container, against the cluster."""
    _cluster(stack.require_running)
    c.run(
        f"docker compose -f {shlex.quote(str(stack.COMPOSE_FILE))} exec driver "
        f"pyspark --master {stack.MASTER_URL}",
        pty=True,
    )


@task(help={"job": "wordcount, gd or cv", "args": "the job's options, quoted: --args '--iterations 10'"})
def submit(c, job, args=""):
    """Submit a job to the cluster: `submit gd --args '--iterations 20'` (same options as local)."""
    from jobs.cli import build_parser

    parsed = vars(build_parser().parse_args([job, *shlex.split(args)]))
    parsed.pop("job")
    _run_job(c, job, "cluster", parsed)


@task(
    help={
        "workers": "cluster sizes to run, comma-separated (default 1,2,3)",
        "jobs": "which jobs, comma-separated (default wordcount,gd,cv)",
        "no_compose": "leave the Compose cluster out",
        "no_local_cluster": "leave local-cluster out",
    }
)
def compare(c, workers="1,2,3", jobs="wordcount,gd,cv", no_compose=False, no_local_cluster=False):
    """Run the jobs on local[*], local-cluster and the cluster at each size; report side by side."""
    from cluster.compare import compare as run_compare
    from jobs.results import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    out = ROOT / "results" / "compare" / new_run_id()
    try:
        result = run_compare(
            jobs.split(","),
            [int(n) for n in workers.split(",")],
            out,
            compose=not no_compose,
            local_cluster=not no_local_cluster,
        )
    except JobError as error:
        raise Exit(f"compare: {error}", code=2) from None
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
def bench(c, quick=False, on="local", no_mllib=False):
    """Benchmark SparkLab against the article's way, MLlib and numpy; print the ratios."""
    from jobs.results import new_run_id

    os.environ.setdefault("SPARKLAB_WINE_CSV", _ensure_wine_data())
    args = [*(["--quick"] if quick else []), *(["--no-mllib"] if no_mllib else [])]
    out = ROOT / "results" / "bench" / new_run_id()
    local_command = [PY, "-m", "jobs.bench", *args, "--out", str(out)]
    report = _run_on(c, on, "bench", local_command, lambda: stack.bench(args, out))
    if report:
        print(f"bench: report at {report}")


ns = Collection(wordcount, gd, cv, data, demo, compare, bench, test, lint)
for cluster_task in (image, up, down, status, logs, ui, shell, submit):
    ns.add_task(cluster_task)
