"""Your own PySpark script, unchanged, on the cluster or on local[*]:
`./lab submit PATH.py [--on local] [-- ARGS...]`.

Both runtimes run the script the same way, with `spark-submit`: the Python
files of its directory travel as a zip (`--py-files`), so sibling modules
and packages import on the driver and inside executor tasks;
`SPARKLAB_DATA` is where the driver and the executors read data/ (or
SPARKLAB_DATA_DIR); `SPARKLAB_OUT` is a directory the script writes into,
which lands whole in results/<run-id>/ on the host (written to a staging
directory, renamed at the end). The script's output (spark-submit merges its
stdout and stderr) streams live to stdout, without Java stack frames; Spark's
own log is kept back and shown only when the run fails without a Python
traceback. The exit code is the script's own.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from cluster.settings import ROOT, ClusterError, data_dir
from jobs.errors import JobError
from jobs.report.files import new_run_id
from jobs.runtime.child import wait_passing_signals

RESULTS = ROOT / "results"
CONTAINER_CODE = "/tmp/sparklab-code"  # in the driver container, one directory per run
MAX_CODE_FILES = 2000
SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "results"}
JAVA_FRAME = re.compile(r"^\s+(?:at [\w$.<>/-]+\(.*\)|\.\.\. \d+ more)\s*$")


def check_script(path: str, cwd: Path | None = None) -> Path:
    """The script as an absolute path, or a one-line JobError (exit 2)."""
    script = (cwd or Path.cwd()) / path
    if not script.exists():
        nor = "" if script.suffix == ".py" else ", nor one of the jobs wordcount, gd, cv"
        raise JobError(f"{path}: no such file{nor}")
    if script.is_dir():
        raise JobError(f"{path}: is a directory; give the script, e.g. {Path(path) / 'main.py'}")
    if script.suffix != ".py":
        raise JobError(f"{path}: not a Python script (a PATH.py file), nor one of the jobs wordcount, gd, cv")
    try:
        script.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JobError(f"{path}: not a Python script (not UTF-8 text)") from None
    return script.resolve()


def code_zip(script: Path, target: Path) -> Path:
    """Zip the .py files under the script's directory (hidden directories,
    virtual environments and caches left out) for `--py-files`."""
    top = script.parent
    files = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in SKIP_DIRS and not (Path(folder) / d / "pyvenv.cfg").exists()
        )
        files += [Path(folder) / name for name in sorted(names) if name.endswith(".py")]
        if len(files) > MAX_CODE_FILES:
            raise JobError(
                f"{top}: more than {MAX_CODE_FILES} Python files under the script's directory; "
                f"put the script and its modules in a directory of their own"
            )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(top).as_posix())
    return target


def spark_options(data: str, zip_path: str) -> list[str]:
    """spark-submit options of a script run, the same on both runtimes."""
    return [
        "--py-files",
        zip_path,
        "--conf",
        f"spark.executorEnv.SPARKLAB_DATA={data}",
        "--conf",
        "spark.ui.showConsoleProgress=false",
    ]


def print_output(line: str) -> None:
    """The script's own line, to stdout; Java stack frames left out."""
    if not JAVA_FRAME.match(line):
        print(line, end="" if line.endswith("\n") else "\n", flush=True)


def explain_failure(code: int, output: list[str], log: list[str]) -> None:
    """A failure with no Python traceback in the output (Spark did not start,
    a lost driver): the end of Spark's log says why."""
    if code not in (0, 130, 143) and not any(line.startswith("Traceback (most recent") for line in output):
        for line in log[-40:]:
            print(line, end="" if line.endswith("\n") else "\n", file=sys.stderr)


def land(staging: Path, run: str) -> Path | None:
    """Rename the staging directory to results/<run> (None when the script wrote nothing)."""
    if not staging.exists() or not any(staging.iterdir()):
        shutil.rmtree(staging, ignore_errors=True)
        return None
    final = RESULTS / run
    staging.rename(final)
    return final


def run_local(
    script: Path, args: list[str], *, master: str = "local[*]", cwd: Path | None = None
) -> tuple[int, Path | None]:
    """spark-submit the script on `master` here; returns its exit code and
    where SPARKLAB_OUT landed (None when nothing was written)."""
    run = new_run_id()
    staging = RESULTS / f".{run}.partial"
    staging.mkdir(parents=True)
    data = str(data_dir())
    with tempfile.TemporaryDirectory(prefix="sparklab-code-") as tmp:
        zip_path = code_zip(script, Path(tmp) / "code.zip")
        command = [str(Path(sys.executable).parent / "spark-submit"), "--master", master]
        command += ["--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1"]
        command += [*spark_options(data, str(zip_path)), str(script), *args]
        env = dict(os.environ)
        env |= {"SPARKLAB_DATA": data, "SPARKLAB_OUT": str(staging), "SPARKLAB_RUN": run}
        env |= {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            text=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches us; we pass it to the whole group
        )
        output: list[str] = []
        log: collections.deque[str] = collections.deque(maxlen=200)

        def read_output() -> None:
            for line in process.stdout:
                output.append(line)
                print_output(line)

        readers = [threading.Thread(target=read_output, daemon=True)]
        readers.append(threading.Thread(target=lambda: log.extend(process.stderr), daemon=True))
        for reader in readers:
            reader.start()
        code = wait_passing_signals(process, lambda signum: os.killpg(process.pid, signum))
        for reader in readers:
            reader.join(timeout=5)
    explain_failure(code, output, list(log))
    if code in (130, 143):
        from cluster.submit import raise_if_interrupted

        shutil.rmtree(staging, ignore_errors=True)
        raise_if_interrupted(code)
    return code, land(staging, run)


def cluster_arguments(args: list[str], cwd: Path) -> tuple[list[int], list[str]]:
    """The positions and host paths of the arguments that name an existing
    file or directory (relative ones taken from `cwd`)."""
    found = [(i, cwd / arg) for i, arg in enumerate(args) if arg and not arg.startswith("-")]
    found = [(i, path) for i, path in found if path.exists()]
    return [i for i, _ in found], [str(path) for _, path in found]


def run_on_cluster(
    script: Path, args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, Path | None]:
    """spark-submit the script in the driver container against the cluster.

    Arguments that name a host file or directory are given as the containers'
    path of it (copied in for this run when it lies outside the mounts).
    """
    from cluster.inputs import copy_into_driver, staged
    from cluster.lifecycle import compose, require_running
    from cluster.submit import (
        CONTAINER_RESULTS,
        container_path,
        raise_if_interrupted,
        spark_submit,
        submit_command,
    )

    require_running(env)
    run = new_run_id()
    cwd = cwd or Path.cwd()
    data = container_path(str(data_dir())).removesuffix("/.")
    code_dir, out_dir = f"{CONTAINER_CODE}/{run}", f"{CONTAINER_RESULTS}/{run}"
    positions, paths = cluster_arguments(args, cwd)
    with tempfile.TemporaryDirectory(prefix="sparklab-code-") as tmp:
        zip_path = code_zip(script, Path(tmp) / "code.zip")
        copy_into_driver({"code.zip": zip_path, script.name: script}, code_dir, env=env)
    try:
        with staged(paths, run, env) as inside:
            args = list(args)
            for position, path in zip(positions, inside, strict=True):
                args[position] = path
            command = submit_command(f"{code_dir}/{script.name}", env)
            command[-1:-1] = spark_options(data, f"{code_dir}/code.zip")
            setup = ["env", f"SPARKLAB_DATA={data}", f"SPARKLAB_OUT={out_dir}", "sh", "-c"]
            setup += ['mkdir -p "$SPARKLAB_OUT" && exec "$@"', "sh", *command, *args]
            output: list[str] = []
            log: list[str] = []

            def on_line(line: str) -> None:
                output.append(line)
                print_output(line)

            code, _ = spark_submit(setup, run=run, env=env, echo=False, on_line=on_line, log=log)
        explain_failure(code, output, log)
        raise_if_interrupted(code)
        staging = RESULTS / f".{run}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        compose("cp", f"driver:{out_dir}", str(staging), env=env, capture=True, check=False)
        return code, land(staging, run)
    finally:
        compose("exec", "-T", "driver", "rm", "-rf", code_dir, out_dir, env=env, check=False, capture=True)


def submit_script(
    path: str, args: list[str], *, on: str = "cluster", cwd: Path | None = None
) -> tuple[int, Path | None]:
    """Check the script, then run it on `on` (cluster or local)."""
    script = check_script(path, cwd)
    if on == "local":
        return run_local(script, args, cwd=cwd)
    if on == "cluster":
        return run_on_cluster(script, args, cwd=cwd)
    raise ClusterError(f"--on must be local or cluster, not {on!r}")
