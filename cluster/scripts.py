"""Your own PySpark script, unchanged, on the cluster or on local[*]:
`./lab submit PATH.py [--on local] [-- ARGS...]`.

Both runtimes run the script the same way, with `spark-submit`: the Python
files of its directory travel as a zip (`--py-files`), so sibling modules
and packages import on the driver and inside executor tasks;
`SPARKLAB_DATA` is where the driver and the executors read data/ (or
SPARKLAB_DATA_DIR); `SPARKLAB_OUT` is a directory the script writes into,
which lands whole in results/<run-id>/ on the host (written to a staging
directory, renamed at the end). The script's output (spark-submit merges its
stdout and stderr) streams live to stdout, as bytes (what is not UTF-8 passes
through untouched), without Java stack frames; Spark's own log is kept back
and shown only when the script did not get to end by itself (Spark failed
before it, the driver was lost). The exit code is the script's own, 130 and
143 included: only a signal `./lab` received is an interrupt.

The script runs under `script_launcher.py` (the primary resource spark-submit
is given, so no `#` in the script's path is read as a URI fragment), which
records how it ended. Locally, the run is a process tree under the
watchdog (`jobs.runtime.watchdog`): it ends with `./lab`, however `./lab` ends.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from cluster.driver import CONTAINER_RESULTS, spark_submit, submit_command
from cluster.inputs import CONTAINER_CODE, container_path, copy_into_driver, remove_stale_runs, staged
from cluster.lifecycle import require_running
from cluster.project import ComposeProject
from cluster.settings import MASTER_URL, ROOT, ClusterError, data_dir
from jobs.errors import JobError, Terminated
from jobs.report.files import new_run_id
from jobs.runtime.child import encode_line, read_lines, start_watched, wait_for_child
from jobs.runtime.run_tags import SCRIPT

RESULTS = ROOT / "results"
MAX_CODE_FILES = 2000
SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "results"}
JAVA_FRAME = re.compile(r"^\s+(?:at [\w$.<>/-]+\(.*\)|\.\.\. \d+ more)\s*$")
LAUNCHER = Path(__file__).with_name("script_launcher.py")
LAUNCHER_NAME = "sparklab_launcher.py"  # its name beside the code zip
END_NAME = "sparklab_end.json"  # how the script ended (script_launcher.py writes it)
END_ENV = "SPARKLAB_SCRIPT_END"


def check_script(path: str, cwd: Path | None = None) -> Path:
    """The script as an absolute path, or a one-line JobError (exit 2)."""
    script = (cwd or Path.cwd()) / path
    try:
        if not script.exists():
            nor = "" if script.suffix == ".py" else ", nor one of the jobs wordcount, gd, cv"
            raise JobError(f"{path}: no such file{nor}")
        if script.is_dir():
            raise JobError(f"{path}: is a directory; give the script, e.g. {Path(path) / 'main.py'}")
        if script.suffix == ".py" and not script.is_file():  # a FIFO would hang the read
            raise JobError(f"{path}: not a regular file; give the script itself")
        if script.suffix != ".py":
            raise JobError(
                f"{path}: not a Python script (a PATH.py file), nor one of the jobs wordcount, gd, cv"
            )
        script.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JobError(f"{path}: not a Python script (not UTF-8 text)") from None
    except OSError as error:
        raise JobError(f"{path}: cannot be read ({_reason(error)})") from None
    script = script.resolve()
    if script.parent == Path(script.anchor):
        raise JobError(
            f"{path}: a script directly in {script.anchor} would take the whole file system's "
            f"Python files with it; put it in a directory of its own"
        )
    return script


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _is_environment(folder: Path) -> bool:
    """A virtual environment (or a directory we may not look into: left out too)."""
    try:
        return (folder / "pyvenv.cfg").exists()
    except OSError:
        return True


def _is_regular_file(path: Path) -> bool:
    """A regular file (a symlink to one too); not a dangling link (an editor's
    lock file `.#job.py`), a FIFO, a socket or a device, which would fail or
    hang the zip."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def code_zip(script: Path, target: Path) -> Path:
    """Zip the .py files under the script's directory (hidden directories,
    virtual environments and caches left out) for `--py-files`."""
    top = script.parent
    files = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in SKIP_DIRS and not _is_environment(Path(folder) / d)
        )
        files += [
            Path(folder) / name
            for name in sorted(names)
            if name.endswith(".py") and _is_regular_file(Path(folder) / name)
        ]
        if len(files) > MAX_CODE_FILES:
            raise JobError(
                f"{top}: more than {MAX_CODE_FILES} Python files under the script's directory; "
                f"put the script and its modules in a directory of their own"
            )
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.relative_to(top).as_posix())
    except OSError as error:
        where = error.filename or top
        raise JobError(
            f"{where}: cannot be read ({_reason(error)}); the Python files beside the script travel "
            f"with it: put the script and its modules in a directory of their own"
        ) from None
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
    """The script's own line, to stdout as the script wrote it (bytes that are
    not UTF-8 too); Java stack frames left out."""
    if JAVA_FRAME.match(line):
        return
    line = line if line.endswith("\n") else line + "\n"
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream: what is not UTF-8 shows as U+FFFD
        print(encode_line(line).decode("utf-8", errors="replace"), end="", flush=True)
        return
    buffer.write(encode_line(line))
    buffer.flush()


def read_end(text: str | None) -> dict | None:
    """How the script ended, from the launcher's record (None: it did not get to end by itself)."""
    try:
        end = json.loads(text or "")
    except ValueError:
        return None
    return end if isinstance(end, dict) else None


def explain_failure(code: int, output: list[str], log: list[str], end: dict | None) -> None:
    """A failure the script did not report itself: no Python traceback and no
    exit of its own (Spark did not start, a lost driver): the end of Spark's
    log says why. A script's own `sys.exit(N)` is its business."""
    if code == 0 or end is not None:
        return
    if any(line.startswith("Traceback (most recent") for line in output):
        return
    for line in log[-40:]:
        print(line, end="" if line.endswith("\n") else "\n", file=sys.stderr)
    if 128 < code < 128 + signal.NSIG:  # killed: the log rarely says by what
        name = signal.Signals(code - 128).name if code - 128 in signal.valid_signals() else code - 128
        print(f"submit: the script was ended by {name} (exit {code})", file=sys.stderr)


def warn_about_master(end: dict | None, master: str) -> None:
    """The script's own `.master(...)` wins over spark-submit's: say where it ran."""
    for own in dict.fromkeys((end or {}).get("masters", [])):
        if own != master:
            print(
                f"submit: warning: the script set its own master, {own}: it ran there, not on {master}; "
                f"leave .master(...) out of the script to run where submit sends it",
                file=sys.stderr,
            )


def raise_interrupt(received: int) -> None:
    """A signal `./lab` received ends its command the same way (130, 143)."""
    if received == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


def land(staging: Path, run: str) -> Path | None:
    """Rename the staging directory to results/<run> (None when the script wrote nothing)."""
    if not staging.exists() or not any(staging.iterdir()):
        shutil.rmtree(staging, ignore_errors=True)
        return None
    final = RESULTS / run
    staging.rename(final)
    return final


def _lock_path(staging: Path) -> Path:
    return staging.with_name(staging.name + ".lock")


def code_dir(staging: Path) -> Path:
    """Where a local run keeps its code (the zip, the launcher, how it ended):
    beside the staging directory, held and removed with it."""
    return staging.with_name(staging.name + ".code")


@contextlib.contextmanager
def staging_dir(run: str) -> Iterator[Path]:
    """results/.<run>.partial, where SPARKLAB_OUT is written: removed on the
    way out unless `land` renamed it. Its sibling `.lock` is held (flock) for
    as long as this process lives, so a run killed with SIGKILL leaves a
    staging directory that the next run can tell from a live one, and removes."""
    try:
        RESULTS.mkdir(parents=True, exist_ok=True)
        remove_stale_staging()
        staging = RESULTS / f".{run}.partial"
        lock = open(_lock_path(staging), "w")  # noqa: SIM115  held until the end
    except OSError as error:
        raise JobError(f"{RESULTS}: cannot write the run's output there ({_reason(error)})") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(code_dir(staging), ignore_errors=True)
        _lock_path(staging).unlink(missing_ok=True)
        lock.close()


def remove_stale_staging() -> None:
    """Remove the staging directories of runs that died without cleaning up
    (their lock is free): SPARKLAB_OUT of a run killed with SIGKILL."""
    for lock_path in RESULTS.glob(".*.partial.lock"):
        try:
            lock = os.open(lock_path, os.O_RDONLY)
        except OSError:
            continue  # its run just ended
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # its run is alive
        finally:
            os.close(lock)  # closing releases a lock we got
        shutil.rmtree(lock_path.with_suffix(""), ignore_errors=True)
        shutil.rmtree(code_dir(lock_path.with_suffix("")), ignore_errors=True)
        lock_path.unlink(missing_ok=True)


def run_local(
    script: Path, args: list[str], *, master: str = "local[*]", cwd: Path | None = None
) -> tuple[int, Path | None]:
    """spark-submit the script on `master` here; returns its exit code and
    where SPARKLAB_OUT landed (None when nothing was written)."""
    run = new_run_id()
    data = str(data_dir())
    with staging_dir(run) as staging:
        # The run's code beside its staging directory: what a killed run
        # leaves, the next run removes with it (remove_stale_staging).
        code = code_dir(staging)
        code.mkdir()
        zip_path = code_zip(script, code / "code.zip")
        launcher = shutil.copyfile(LAUNCHER, code / LAUNCHER_NAME)
        end_file = code / END_NAME
        command = [str(Path(sys.executable).parent / "spark-submit"), "--master", master]
        command += ["--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1"]
        command += [*spark_options(data, str(zip_path)), str(launcher), str(script), *args]
        env = dict(os.environ)
        env |= {"SPARKLAB_DATA": data, "SPARKLAB_OUT": str(staging), "SPARKLAB_RUN": run}
        env |= {END_ENV: str(end_file)}
        env |= {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        staging.mkdir()
        process = start_watched(
            command,
            signal_group=True,  # Ctrl-C goes to the whole run, as a terminal would send it
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        output: list[str] = []
        log: collections.deque[str] = collections.deque(maxlen=200)

        def on_line(line: str) -> None:
            output.append(line)
            print_output(line)

        readers = [read_lines(process.stdout, on_line), read_lines(process.stderr, log.append)]
        ended = wait_for_child(process, lambda signum: os.killpg(process.pid, signum))
        for reader in readers:
            reader.join(timeout=5)
        if ended.received is not None:
            raise_interrupt(ended.received)  # the staging directory goes with it
        end = read_end(end_file.read_text() if end_file.exists() else None)
        explain_failure(ended.code, output, list(log), end)
        warn_about_master(end, master)
        return ended.code, land(staging, run)


def cluster_arguments(args: list[str], cwd: Path) -> tuple[list[int], list[str]]:
    """The positions and host paths of the arguments that name an existing
    file or directory (relative ones taken from `cwd`)."""
    found = [(i, cwd / arg) for i, arg in enumerate(args) if arg and not arg.startswith("-")]
    found = [(i, path) for i, path in found if path.exists()]
    return [i for i, _ in found], [str(path) for _, path in found]


def run_on_cluster(
    project: ComposeProject, script: Path, args: list[str], *, cwd: Path | None = None
) -> tuple[int, Path | None]:
    """spark-submit the script in the driver container against the cluster.

    Arguments that name a host file or directory are given as the containers'
    path of it (copied in for this run when it lies outside the mounts).
    """
    require_running(project)
    remove_stale_runs(project)  # what runs killed with SIGKILL left behind
    run = new_run_id()
    cwd = cwd or Path.cwd()
    data = container_path(str(data_dir())).removesuffix("/.")
    code_dir, out_dir = f"{CONTAINER_CODE}/{run}", f"{CONTAINER_RESULTS}/{run}"
    positions, paths = cluster_arguments(args, cwd)
    with tempfile.TemporaryDirectory(prefix="sparklab-code-") as tmp:
        zip_path = code_zip(script, Path(tmp) / "code.zip")
        files = {"code.zip": zip_path, script.name: script, LAUNCHER_NAME: LAUNCHER}
        copy_into_driver(project, files, code_dir)
    removed = False
    try:
        with staged(project, paths, run) as inside:
            args = list(args)
            for position, path in zip(positions, inside, strict=True):
                args[position] = path
            command = submit_command(project, f"{code_dir}/{LAUNCHER_NAME}", run=run, owner=SCRIPT)
            command[-1:-1] = spark_options(data, f"{code_dir}/code.zip")
            setup = ["env", f"SPARKLAB_DATA={data}", f"SPARKLAB_OUT={out_dir}"]
            setup += [f"{END_ENV}={code_dir}/{END_NAME}"]
            setup += ["sh", "-c", 'mkdir -p "$SPARKLAB_OUT" && exec "$@"', "sh", *command]
            setup += [f"{code_dir}/{script.name}", *args]
            output: list[str] = []
            log: list[str] = []

            def on_line(line: str) -> None:
                output.append(line)
                print_output(line)

            # An interrupt `./lab` received is raised here (the finally cleans up).
            code, _ = spark_submit(project, setup, run=run, echo=False, on_line=on_line, log=log)
        with staging_dir(run) as staging:
            project.run("cp", f"driver:{out_dir}", str(staging), capture=True, check=False)
            # How the script ended, read and the run's directories removed, in one call.
            ended = project.run(
                "exec", "-T", "driver", "sh", "-c", 'cat "$1/$3" 2>/dev/null; rm -rf "$1" "$2"', "sh",
                code_dir, out_dir, END_NAME, check=False, capture=True,
            )  # fmt: skip
            removed = ended.returncode == 0
            end = read_end(ended.stdout)
            explain_failure(code, output, log, end)
            warn_about_master(end, MASTER_URL)
            return code, land(staging, run)
    finally:
        if not removed:
            remove = ("exec", "-T", "driver", "rm", "-rf", code_dir, out_dir)
            project.run(*remove, check=False, capture=True)


def submit_script(
    project: ComposeProject, path: str, args: list[str], *, on: str = "cluster", cwd: Path | None = None
) -> tuple[int, Path | None]:
    """Check the script, then run it on `on` (cluster or local)."""
    script = check_script(path, cwd)
    if on == "local":
        return run_local(script, args, cwd=cwd)
    if on == "cluster":
        return run_on_cluster(project, script, args, cwd=cwd)
    raise ClusterError(f"--on must be local or cluster, not {on!r}")
