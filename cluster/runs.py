"""The jobs from the command line: where each runs (`--on`), the caller's
relative paths, the demo, the comparison, the benchmark and the experiments
as `./lab` starts them. tasks.py wires these to invoke; the logic is here.

A failure the user can fix ends in invoke's `Exit` (one line, its code), as
it did in the tasks themselves; a job's own exit code passes through.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from invoke import Exit

from cluster import connect, lifecycle, submit
from cluster.comparison import JOB_OPTIONS
from cluster.comparison import compare as run_compare
from cluster.engine import engine_problem
from cluster.images import ImageError
from cluster.project import ComposeProject
from cluster.scripts import submit_script
from cluster.settings import ROOT, default_workers, setting
from jobs.data.download import fetch_wine
from jobs.data.paths import wine_csv
from jobs.errors import JobError
from jobs.experiments.page import write_page
from jobs.experiments.registry import EXPERIMENTS
from jobs.experiments.worker_loss import KILL_CUE
from jobs.options import CONNECT_JOBS, JOB_HELP, JOBS, job_parsers, join_runs, to_argv
from jobs.report.files import new_run_id
from jobs.report.phases import PhaseClock
from jobs.report.run_report import write_report
from jobs.runtime.child import run_child
from jobs.runtime.session import JVM_OPTIONS_ENV

# `./lab` changes into the project; it passes the caller's directory on, so
# that relative paths on its command line mean what the caller meant.
CALLER_DIR = Path(os.environ.get("SPARKLAB_CALLER_DIR") or Path.cwd())
PATH_OPTIONS = ("input", "data", "out")
# Where each job can run: Spark Connect runs the DataFrame programs only.
ON_CHOICES = {job: ("local", "cluster", *(["connect"] if job in CONNECT_JOBS else [])) for job in JOBS}
ON_HELP = {
    "local": "local (local[*] on this machine, the default)",
    "cluster": "cluster (the Compose cluster)",
    "connect": "connect (through the cluster's Spark Connect server: `./lab up --connect`)",
}
DEMO_JOBS = ("wordcount", "gd", "cv")


def on_help(job: str) -> str:
    return "where to run: " + ", ".join(ON_HELP[on] for on in ON_CHOICES[job])


def from_caller(options: dict) -> dict:
    """Relative paths in path options, resolved against the caller's directory."""

    def resolve(value):
        if isinstance(value, list | tuple):
            return [resolve(v) for v in value]
        return value if value is None or os.path.isabs(value) else str(CALLER_DIR / value)

    return {k: resolve(v) if k in PATH_OPTIONS else v for k, v in options.items()}


def caller_path(path: str) -> Path:
    """A path on the command line, where the user stands."""
    return CALLER_DIR / path


def run_job(job: str, on: str, options: dict) -> Path | None:
    """Run `python -m jobs JOB` here, or submit it to the Compose cluster."""
    if on not in ON_CHOICES[job]:
        choices = " or ".join(ON_CHOICES[job])
        but = "; Spark Connect runs wordcount and mllib" if on == "connect" else ""
        raise Exit(f"{job}: --on must be {choices}, not {on!r}{but}", code=2)
    options = from_caller(options)
    # The job's own parser checks every value first, the same way on both runtimes.
    job_parsers()[job].parse_args(to_argv(options))
    if on == "local":
        _exit_with(run_child([sys.executable, "-m", "jobs", job, *to_argv(options)], env=local_job_env()))
        return None
    if on == "cluster":
        path = submit.submit(ComposeProject.of_checkout(), job, options)
        print(json.dumps({"job": job, "result": str(path)}))
        return path
    if on == "connect":  # a thin client here; the server runs it on the cluster
        command = connect.job_command(ComposeProject.of_checkout(), job, options)
        _exit_with(run_child(command, env=connect.client_env()))
        return None
    raise AssertionError(on)  # ON_CHOICES names only the runtimes above


def _exit_with(code: int) -> None:
    if code:
        raise Exit(code=code)  # the job (or script) said why, in one line


def local_job_env() -> dict[str, str]:
    return os.environ | {JVM_OPTIONS_ENV: setting(JVM_OPTIONS_ENV)}  # .env's, as on the cluster


def fetch_data(from_: str | None) -> None:
    """`./lab data`: the shipped wine data checked, or copied from a path."""
    path = fetch_wine(source=str(caller_path(from_)) if from_ else None)
    print(f"data: {path} (sha256 checked)")


def ensure_wine_data() -> None:
    """The wine data the jobs read (SPARKLAB_WINE_CSV, the user's setting, else
    data/'s), downloaded into data/ when it is missing there."""
    try:
        wine_csv(None)
    except JobError:
        print("data: no wine data yet; downloading it (./lab data)", file=sys.stderr)
        fetch_wine()


def _run_all_jobs(project: ComposeProject, on: str, out: Path, clock: PhaseClock) -> dict[str, dict]:
    """The three jobs in ONE application per runtime (`--then`), as a notebook
    runs them: the session starts once; each job's own time is in its JSON."""
    with clock.phase(f"the three jobs on {on} (one application)"):
        if on == "local":
            argv = join_runs([[job, "--out", str(out)] for job in DEMO_JOBS])
            _exit_with(run_child([sys.executable, "-m", "jobs", *argv], env=local_job_env()))
        else:
            submit.submit_all(project, [(job, {}) for job in DEMO_JOBS], out=out)
    results = {job: json.loads((out / f"{job}.json").read_text()) for job in DEMO_JOBS}
    for job in DEMO_JOBS:
        clock.part(f"{job}, in the application", results[job]["seconds"])
    return results


def demo(workers: int | None, local_only: bool, base: str | None) -> None:
    """The three jobs on local[*] and on the cluster, then the report."""
    setup = os.environ.get("SPARKLAB_SETUP_SECONDS")  # ./lab's own set-up, timed there
    clock = PhaseClock("demo", [("set-up (.venv)", float(setup))] if setup else [])
    workers = workers or default_workers()
    ensure_wine_data()
    project = ComposeProject.of_checkout()
    run_dir = ROOT / "results" / new_run_id()
    runs = {"local[*]": _run_all_jobs(project, "local", run_dir / "local", clock)}
    notes = []
    if local_only:
        notes.append("Cluster skipped (--local-only).")
    elif problem := engine_problem():
        notes.append(
            f"No cluster run: {problem}. With Docker running, `./lab demo` brings the "
            f"cluster up and runs the jobs there too (`./lab up` starts it alone)."
        )
    else:
        try:
            with clock.phase("images (built once, then reused)"):
                lifecycle.ensure_images(base)
        except ImageError as no_image:  # the local results still get their report
            notes.append(f"No cluster run: {no_image}")
        else:
            with clock.phase(f"cluster up ({workers} workers)"):
                lifecycle.up(project, workers=workers)
            label = f"cluster ({workers} workers)"
            runs[label] = _run_all_jobs(project, "cluster", run_dir / "cluster", clock)
    with clock.phase("report"):
        report = write_report(run_dir, runs, notes, phases=clock.markdown())
    for note in notes:
        print(f"demo: {note}", file=sys.stderr)
    print(f"demo: {clock.total():.0f} s in all; report at {report}")


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
    names = [word for word in text.split(",") if word]
    unknown = [name for name in names if name not in JOB_OPTIONS]
    if not names or unknown:
        what = f"no job {unknown[0]!r}" if unknown else "no job named"
        raise Exit(f"compare: --jobs {text!r}: {what}; choose among {','.join(JOB_OPTIONS)}", code=2)
    return names


def compare(workers: str, jobs: str, *, compose: bool, local_cluster: bool) -> None:
    """The jobs on every runtime, side by side (`cluster.comparison`)."""
    sizes, names = compare_sizes(workers), compare_jobs(jobs)
    ensure_wine_data()
    out = ROOT / "results" / "compare" / new_run_id()
    project = ComposeProject.of_checkout()
    result = run_compare(project, names, sizes, out, compose=compose, local_cluster=local_cluster)
    print(f"compare: report at {out / 'report.md'}")
    if not result["all_equal"]:
        raise Exit("compare: some results differ from local[*] (see the report)", code=1)


def bench(quick: bool, on: str, no_mllib: bool) -> None:
    """The benchmark here (`python -m jobs.bench`) or from the driver container."""
    ensure_wine_data()
    args = [*(["--quick"] if quick else []), *(["--no-mllib"] if no_mllib else [])]
    out = ROOT / "results" / "bench" / new_run_id()
    if on == "local":
        _exit_with(run_child([sys.executable, "-m", "jobs.bench", *args, "--out", str(out)]))
    elif on == "cluster":
        print(f"bench: report at {submit.bench(ComposeProject.of_checkout(), args, out)}")
    else:
        raise Exit(f"--on must be local or cluster, not {on!r}", code=2)


def experiment(name: str | None, smallest: bool) -> None:
    """An experiment's Spark part in the driver, its page drawn here."""
    if name not in EXPERIMENTS:
        said = f"no experiment {name!r}" if name else "name an experiment"
        raise Exit(f"experiment: {said}; choose among {', '.join(EXPERIMENTS)} (`--list`)", code=2)
    ensure_wine_data()
    run = new_run_id()
    out = ROOT / "results" / "experiments" / run
    project = ComposeProject.of_checkout()
    workers = lifecycle.running_services(project).get("worker", 0)
    on_line, killed = submit.kill_a_worker_on(
        project, KILL_CUE
    )  # worker-loss's cue; the others never print it
    try:
        [path] = submit.experiments(project, [name], ["--smallest"] * smallest, run, out, on_line=on_line)
    finally:
        if killed:
            print(f"experiment: bringing the {workers} workers back", file=sys.stderr)
            lifecycle.resize(project, workers)
    result = json.loads(path.read_text())
    running = lifecycle.running_services(project)
    history = lifecycle.service_url(project, "history", 18080) if "history" in running else None
    print(f"experiment: page at {write_page(result, out, history)}")


def _split_args(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError as error:  # an unclosed quote
        raise Exit(f"submit: --args {args!r}: {error}; quote the options as one word", code=2) from None


def submit_script_or_job(script: str | None, args: str, on: str, words: list[str]) -> None:
    """`./lab submit`: a job with its options in `args`, or a script with its own
    arguments (`words`, after --), on the cluster or here."""
    if not script:
        raise Exit("submit: name a script or a job: ./lab submit my.py -- ARGS, or ./lab submit gd", code=2)
    if script in JOB_HELP:
        if words:
            raise Exit(f"submit: {script}'s options go in --args, not after --: "
                       f"./lab submit {script} --args '--iterations 10'", code=2)  # fmt: skip
        run_job(script, on, vars(job_parsers()[script].parse_args(_split_args(args))))
        return
    if args:
        raise Exit(f"submit: --args is for the jobs ({', '.join(JOBS)}); a script's arguments "
                   f"go after --: ./lab submit {script} -- {args}", code=2)  # fmt: skip
    code, out = submit_script(ComposeProject.of_checkout(), script, words, on=on, cwd=CALLER_DIR)
    if out:
        print(f"submit: what the script wrote to SPARKLAB_OUT is in {out}", file=sys.stderr)
    _exit_with(code)  # the script's own exit code; its traceback said why
