"""Sending work to the running Compose cluster: a job or the benchmark runs with
spark-submit in the driver container, its output streams back, its result
is copied to the host. Host paths are mapped to the containers' here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from cluster import connect, engine
from cluster.driver import (
    CONTAINER_APP,
    CONTAINER_RESULTS,
    raise_if_interrupted,
    spark_submit,
    submit_command,
)
from cluster.inputs import container_path, staged
from cluster.lifecycle import require_running
from cluster.project import ComposeProject
from cluster.settings import MASTER_URL, ROOT
from jobs.bench.bench_report import write_bench_report
from jobs.bench.round_trip import RATIO, add_to_bench
from jobs.checks import check_out_dir, replaced_result
from jobs.data.paths import expand_inputs, wine_csv
from jobs.errors import JobError
from jobs.options import job_parsers, join_runs, to_argv
from jobs.report.files import new_run_id, write_json_atomic, written_atomically
from jobs.runtime.run_tags import BENCH, EXPERIMENT, JOB


def submit(
    project: ComposeProject,
    job: str,
    options: dict,
    *,
    out: Path | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> Path:
    """Run a job with spark-submit in the driver container; copy its JSON to `out` on the host."""
    return submit_all(project, [(job, options)], out=out, echo=echo, on_line=on_line)[0]


def submit_all(
    project: ComposeProject,
    runs: list[tuple[str, dict]],
    *,
    out: Path | None = None,
    echo: bool = True,
    on_line: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run jobs one after the other in ONE application (`python -m jobs A --then
    B`): one spark-submit in the driver container; each JSON copied to `out`
    (or the job's own --out) on the host. Returns their paths, in order."""
    require_running(project)
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
    with staged(project, given, run_id) as mapped:
        argvs = []
        for job, options, job_inside, first, count in jobs:
            paths = mapped[first : first + count]
            options["input" if job == "wordcount" else "data"] = paths if job == "wordcount" else paths[0]
            argvs.append([job, "--master", MASTER_URL, "--out", job_inside, *to_argv(options)])
        script = f"{CONTAINER_APP}/jobs/__main__.py"
        command = [*submit_command(project, script, run=run_id, owner=JOB), *join_runs(argvs)]
        code, failure = spark_submit(project, command, run=run_id, echo=echo, on_line=on_line, results=inside)
    raise_if_interrupted(code)
    if code != 0:
        what = " then ".join(job for job, *_ in jobs)
        # As the job said it, less its name: `error: ...`, `failed: ...`.
        raise JobError(
            f"{failure['kind']}: {failure['message']}"
            if failure
            else f"{what} failed on the cluster (exit {code})"
        )
    results = []
    for (job, _, job_inside, _, _), host_out in zip(jobs, host_outs, strict=True):
        host_out.mkdir(parents=True, exist_ok=True)
        project.run("cp", f"driver:{job_inside}/{job}.json", str(host_out / f"{job}.json"), capture=True)
        results.append(host_out / f"{job}.json")
    return results


def bench(project: ComposeProject, args: list[str], out: Path) -> Path:
    """Run the benchmark in the driver against the cluster; write its report to `out` on the host.

    The driver writes bench.json; the host draws the report from it (the
    images carry no plotting library). Everything lands in a temporary
    sibling first and is renamed into place: `out` is whole or absent.
    """
    require_running(project)
    inside = f"{CONTAINER_RESULTS}/bench/{out.name}"
    command = [
        *submit_command(project, f"{CONTAINER_APP}/jobs/bench/__main__.py", run=out.name, owner=BENCH),
        "--master",
        MASTER_URL,
        "--data",
        container_path(wine_csv(None)),
        "--out",
        inside,
        "--json-only",
        *args,
    ]
    code, failure = spark_submit(project, command, run=out.name, results=inside)
    raise_if_interrupted(code)
    if code != 0:
        raise JobError(failure["message"] if failure else f"bench failed on the cluster (exit {code})")
    with written_atomically(out) as staging:
        staging.mkdir(parents=True)
        project.run("cp", f"driver:{inside}/bench.json", str(staging / "bench.json"), capture=True)
        result = with_connect_round_trip(project, json.loads((staging / "bench.json").read_text()))
        write_json_atomic(staging / "bench.json", result)
        write_bench_report(result, staging)
    return out / "bench.md"


def experiments(
    project: ComposeProject,
    names: list[str],
    args: list[str],
    run: str,
    out: Path,
    on_line: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run experiments' Spark parts in the driver, one after the other
    (`jobs/experiments/__main__.py`); copy each NAME.json to `out` on the host,
    which draws the pages (the images carry no plotting library). `run`: this run's id."""
    require_running(project)
    inside = f"{CONTAINER_RESULTS}/experiments/{run}"
    script = f"{CONTAINER_APP}/jobs/experiments/__main__.py"
    command = [*submit_command(project, script, run=run, owner=EXPERIMENT), *names, "--master", MASTER_URL,
               "--data", container_path(wine_csv(None)), "--out", inside, *args]  # fmt: skip
    code, failure = spark_submit(project, command, run=run, on_line=on_line, results=inside)
    raise_if_interrupted(code)
    if code != 0:
        raise JobError(failure["message"] if failure else f"{' and '.join(names)} failed (exit {code})")
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        project.run("cp", f"driver:{inside}/{name}.json", str(out / f"{name}.json"), capture=True)
    return [out / f"{name}.json" for name in names]


def kill_a_worker_on(project: ComposeProject, cue: str) -> tuple[Callable[[str], None], list[str]]:
    """A line handler for `experiments`: SIGKILL one worker container when the
    driver prints `cue` (the worker-loss experiment). The list gets the
    container killed; `lifecycle.resize` brings the workers back afterwards."""
    killed: list[str] = []

    def on_line(line: str) -> None:
        if not killed and cue in line:
            ids = project.run("ps", "-q", "worker", capture=True).stdout.split()
            engine.kill(ids[-1])
            killed.append(ids[-1])

    return on_line, killed


def with_connect_round_trip(project: ComposeProject, result: dict) -> dict:
    """bench.json with its Spark Connect row, measured from the host right after
    the driver's run (the images have no Connect client); a note when no server is up."""
    if connect.problem(project):
        return add_to_bench(result, None)
    print("bench: the round trip of a trivial Spark Connect query, from the host", file=sys.stderr)
    result = add_to_bench(result, connect.round_trip(project))
    print(f"bench: {RATIO:<28} {result['ratios'][RATIO]:.3f}", file=sys.stderr)
    return result
