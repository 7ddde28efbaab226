"""`./lab submit PATH.py` on the cluster, through the real `./lab` and the
session's Compose cluster (issue #27): one odd byte hangs nothing, a killed
submit leaves nothing in the driver, a script's own exit code is its own,
a `#` in its path is no URI fragment, its own master is warned about, and a
driver that went away during the run is named.

The scripts here start no SparkSession unless the case needs one.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from cluster import lifecycle
from cluster.inputs import CONTAINER_CODE, CONTAINER_INPUTS
from cluster.settings import MASTER_URL, ROOT

pytestmark = pytest.mark.cluster

LAB = str(ROOT / "lab")
RUN_TIMEOUT = 300  # a hang ends the test as a failure


def write_script(folder: Path, text: str, name: str = "job.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def lab(cluster, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`./lab ARGS` from `cwd` against the tests' cluster, its output as bytes."""
    return subprocess.run(
        [LAB, *args],
        cwd=cwd,
        env=cluster.env,
        capture_output=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def said(done: subprocess.CompletedProcess) -> str:
    return done.stderr.decode(errors="replace")[-3000:]


def in_driver(cluster, *command: str) -> str:
    done = cluster.project.run("exec", "-T", "-u", "root", "driver", *command, capture=True)
    return done.stdout


def test_a_byte_that_is_not_utf8_does_not_stop_the_scripts_output_on_the_cluster(cluster, tmp_path):
    write_script(
        tmp_path,
        'import sys\nsys.stdout.buffer.write(b"caf\\xe9\\n")\n'
        'sys.stdout.flush()\nfor i in range(20000):\n    print("line", i)\n',
    )
    done = lab(cluster, "submit", "job.py", cwd=tmp_path)
    assert done.returncode == 0, said(done)
    lines = done.stdout.splitlines()
    assert lines[0] == b"caf\xe9"
    assert lines[-1] == b"line 19999"
    assert len(lines) == 20001


def test_a_submit_killed_with_sigkill_leaves_nothing_in_the_driver(cluster, tmp_path):
    write_script(
        tmp_path,
        "import sys, time\nprint(sys.argv[0], sys.argv[1], flush=True)\nwhile True:\n    time.sleep(1)\n",
    )
    (tmp_path / "corpus.txt").write_text("outside every mount: copied in for the run\n")
    process = subprocess.Popen(
        [LAB, "submit", "job.py", "--", "corpus.txt"],
        cwd=tmp_path,
        env=cluster.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline().decode()
    assert first, process.stderr.read().decode()
    script, corpus = first.split()
    code_dir, input_dir = str(Path(script).parent), str(Path(corpus).parent.parent)
    assert code_dir.startswith(f"{CONTAINER_CODE}/")
    assert input_dir.startswith(f"{CONTAINER_INPUTS}/")
    process.kill()
    process.wait(timeout=30)
    # What it left (no `finally` ran on the host), as a run that died two minutes ago.
    in_driver(cluster, "touch", "-d", "2 minutes ago", code_dir, input_dir)
    write_script(tmp_path / "next", "print('next')\n")
    done = lab(cluster, "submit", "next/job.py", cwd=tmp_path)
    assert done.returncode == 0, said(done)
    left = in_driver(cluster, "ls", "-A", CONTAINER_CODE, CONTAINER_INPUTS)
    assert Path(code_dir).name not in left, left
    assert Path(input_dir).name not in left, left


def test_a_scripts_own_exit_130_on_the_cluster_is_no_interrupt(cluster, tmp_path):
    write_script(
        tmp_path,
        "import os, sys\n"
        "open(os.path.join(os.environ['SPARKLAB_OUT'], 'kept.txt'), 'w').write('kept\\n')\n"
        "sys.exit(130)\n",
    )
    done = lab(cluster, "submit", "job.py", cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 130, stderr
    assert "interrupted" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("submit: what the script wrote to SPARKLAB_OUT is in "), stderr
    landed = Path(last.rsplit(" ", 1)[1])
    assert (landed / "kept.txt").read_text() == "kept\n"
    shutil.rmtree(landed)  # the project's results/: not the test's to keep


def test_a_hash_in_the_scripts_path_is_no_uri_fragment_on_the_cluster(cluster, tmp_path):
    # In the driver the script keeps its name (its directory is the run's): a `#` there.
    folder = tmp_path / "a#b"
    write_script(folder, "import sys, helper\nprint(helper.WORD, sys.argv[1:])\n", name="c#d.py")
    (folder / "helper.py").write_text("WORD = 'helped'\n")
    done = lab(cluster, "submit", "a#b/c#d.py", "--", "x#y", cwd=tmp_path)
    assert done.returncode == 0, said(done)
    assert done.stdout.decode().splitlines() == ["helped ['x#y']"]


def test_a_scripts_own_master_on_the_cluster_is_warned_about(cluster, tmp_path):
    write_script(
        tmp_path,
        "import sys\nfrom pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.master('local[1]').getOrCreate()\n"
        "print(spark.sparkContext.master)\nspark.stop()\nsys.exit(3)\n",
    )
    done = lab(cluster, "submit", "job.py", cwd=tmp_path)
    assert done.returncode == 3, said(done)
    assert done.stdout.decode().splitlines() == ["local[1]"]
    # The warning, and no Spark log: the exit is the script's own.
    assert done.stderr.decode().strip().splitlines() == [
        f"submit: warning: the script set its own master, local[1]: it ran there, not on {MASTER_URL}; "
        "leave .master(...) out of the script to run where submit sends it"
    ]


def test_a_driver_stopped_during_the_run_is_named(cluster, tmp_path):
    write_script(tmp_path, "import sys, time\nprint(sys.argv[0], flush=True)\nwhile True:\n  time.sleep(1)\n")
    process = subprocess.Popen(
        [LAB, "submit", "job.py"],
        cwd=tmp_path,
        env=cluster.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    script = process.stdout.readline().decode().strip()
    try:
        assert script.startswith(f"{CONTAINER_CODE}/"), process.stderr.read().decode()
        cluster.project.run("stop", "driver", capture=True)  # as `./lab down` does
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        lifecycle.require_running(cluster.project)  # starts the stopped driver again, and waits
        # `./lab down` removes the container; a stopped one keeps its /tmp: clean up after us.
        if script.startswith(f"{CONTAINER_CODE}/"):
            in_driver(cluster, "rm", "-rf", str(Path(script).parent))
    assert process.returncode == 2, stderr.decode()
    assert stderr.decode().strip().splitlines()[-1] == (
        "submit: the cluster was stopped during the run (./lab down?)"
    )


def test_ctrl_c_ends_a_script_on_the_cluster_at_the_first_press(cluster, tmp_path):
    # The driver's shell runs the command as a background job, which POSIX
    # starts with SIGINT ignored: the first Ctrl-C used to do nothing.
    write_script(tmp_path, "import sys, time\nprint(sys.argv[0], flush=True)\ntime.sleep(600)\n")
    process = subprocess.Popen(
        [LAB, "submit", "job.py"],
        cwd=tmp_path,
        env=cluster.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's shell starts it
    )
    try:
        script = process.stdout.readline().decode().strip()
        assert script.startswith(f"{CONTAINER_CODE}/"), process.stderr.read().decode()
        process.send_signal(signal.SIGINT)  # once
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr.decode()
    assert stderr.decode().strip().splitlines()[-1] == "submit: interrupted; no result written"
    assert Path(script).parent.name not in in_driver(cluster, "ls", "-A", CONTAINER_CODE)
