"""`./lab submit PATH.py --on local` and the local jobs, through the real `./lab`
with real Spark (issue #27): nothing hangs on a byte, nothing outlives
`./lab`, nothing is left behind, a script's own exit code is its own, and
every refusal is one line.

The scripts here mostly start no SparkSession: spark-submit's JVM and the
Python driver are what is under test, and they start in seconds.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from cluster import scripts
from cluster.settings import ROOT
from jobs.waiting import wait_until

LAB = str(ROOT / "lab")
RUN_TIMEOUT = 240  # a hang ends the test as a failure, not the suite


def lab(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`./lab ARGS` from `cwd`, its output as bytes."""
    return subprocess.run(
        [LAB, *args], cwd=cwd, env=env, capture_output=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL
    )


def write_script(folder: Path, text: str, name: str = "job.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has ended: only its parent has not looked yet)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before, or while, it was read
        return False


def eventually(condition, timeout: float = 60) -> bool:
    """Poll `condition` until it holds or `timeout` passes (a bound, not a readiness sleep)."""
    return bool(wait_until(condition, timeout=timeout, interval=0.2))


# A script that says who it is (its pid, its parent the JVM's, its SPARKLAB_OUT), then waits.
WAITING = """
import os, signal, sys, time
if "--ignore-sigint" in sys.argv:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
open(os.path.join(os.environ["SPARKLAB_OUT"], "started.txt"), "w").write("yes\\n")
print(os.getpid(), os.getppid(), os.environ["SPARKLAB_OUT"], flush=True)
while True:
    time.sleep(1)
"""


def _default_hangup_and_interrupt() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_waiting(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int, int, Path]:
    """`./lab submit` of WAITING on local; returns ./lab's process and the script's pid,
    the JVM's pid and its SPARKLAB_OUT, once the script runs."""
    write_script(tmp_path, WAITING)
    process = subprocess.Popen(
        [LAB, "submit", "job.py", "--on", "local", "--", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        # SIGHUP's and SIGINT's default actions, whatever this pytest
        # inherited: under `nohup` SIGHUP is ignored, in a shell's background
        # job SIGINT is, and ./lab would rightly ignore them too.
        preexec_fn=_default_hangup_and_interrupt,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline().decode()
    assert first, process.stderr.read().decode()
    pid, jvm, out = first.split()
    return process, int(pid), int(jvm), Path(out)


# --- 1, 5, 8. what a script writes, what lies beside it, where it lies ----------
# One run (a local application costs the suite about 4 CPU-seconds): a script
# in a folder with a `#` in its name, beside a module it imports, an editor's
# dangling lock link and a fifo, writing one byte that is not UTF-8 and then
# many lines.


@pytest.fixture(scope="module")
def odd_script_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("odd")
    # One `#` (a second would make the URI invalid, and Spark would fall back to a path).
    folder = tmp_path / "a#b"
    write_script(
        folder,
        "import sys, helper\nprint(helper.WORD, sys.argv[1:], flush=True)\n"
        'sys.stdout.buffer.write(b"caf\\xe9\\n")\n'
        "sys.stdout.flush()\nfor i in range(20000):\n    print('line', i)\n",
    )
    (folder / "helper.py").write_text("WORD = 'helped'\n")
    (folder / ".#job.py").symlink_to("someone@host.1234:1700000000")  # an editor's lock file
    os.mkfifo(folder / "x.py")
    return lab("submit", "a#b/job.py", "--on", "local", "--", "x#y", cwd=tmp_path)


@pytest.fixture
def odd_script_output(odd_script_run):
    assert odd_script_run.returncode == 0, odd_script_run.stderr.decode(errors="replace")[-3000:]
    return odd_script_run.stdout.splitlines()


def test_a_byte_that_is_not_utf8_does_not_stop_the_scripts_output(odd_script_output):
    assert odd_script_output[1] == b"caf\xe9"  # passed through as the script wrote it
    assert odd_script_output[-1] == b"line 19999"
    assert len(odd_script_output) == 20002


def test_a_hash_in_the_scripts_path_is_no_uri_fragment(odd_script_output):
    assert odd_script_output[0] == b"helped ['x#y']"


def test_a_dangling_link_and_a_fifo_beside_the_script_are_left_out(odd_script_run):
    # The zip of the script's folder skipped both (a fifo would block it), and ran.
    assert odd_script_run.returncode == 0, odd_script_run.stderr.decode(errors="replace")[-3000:]
    assert odd_script_run.stdout.startswith(b"helped")


# --- 3. nothing outlives ./lab --------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGHUP])
def test_lab_killed_or_hung_up_ends_the_whole_local_run(tmp_path, how):
    process, script, jvm, out = start_waiting(tmp_path)
    assert alive(script)
    assert alive(jvm)
    process.send_signal(how)  # ./lab execs invoke: this is SparkLab's own process
    process.wait(timeout=30)
    assert eventually(lambda: not alive(script) and not alive(jvm)), (
        f"still running after ./lab got {how.name}: script {alive(script)}, JVM {alive(jvm)}"
    )
    # Its SPARKLAB_OUT staging and its code are litter now; the next run removes them.
    code = out.with_name(out.name + ".code")
    assert out.exists()
    assert (code / "code.zip").is_file()
    write_script(tmp_path / "next", "print('next')\n")
    done = lab("submit", "next/job.py", "--on", "local", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert not out.exists()
    assert not code.exists()
    assert not out.with_name(out.name + ".lock").exists()


def test_a_script_ignoring_sigint_ends_with_the_interrupt(tmp_path):
    process, script, jvm, out = start_waiting(tmp_path, "--ignore-sigint")
    process.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C sends ./lab
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr.decode(errors="replace")
    assert stderr.decode().strip().splitlines()[-1] == "submit: interrupted; no result written"
    assert not alive(script)
    assert not alive(jvm)
    assert not out.exists()


# --- 5. litter ----------------------------------------------------------------


def held(lock: Path) -> bool:
    """Whether a live run holds this staging lock (scripts.staging_dir's flock)."""
    try:
        handle = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(handle)  # closing releases a lock we got
    return False


def litter() -> set[str]:
    """results/'s staging directories that no live run holds: what a refused
    run would leave. The other streams' runs stage there too, held, meanwhile."""
    results = ROOT / "results"
    if not results.is_dir():
        return set()
    return {p.name for p in results.glob(".*.partial") if not held(p.with_name(p.name + ".lock"))}


def test_a_refused_zip_leaves_nothing_in_results(tmp_path):
    write_script(tmp_path, "print('never')\n")
    for i in range(scripts.MAX_CODE_FILES + 1):
        (tmp_path / f"m{i}.py").write_text("")
    before = litter()
    done = lab("submit", "job.py", "--on", "local", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [
        f"submit: {tmp_path}: more than {scripts.MAX_CODE_FILES} Python files under the script's "
        "directory; put the script and its modules in a directory of their own"
    ]
    assert litter() <= before


def test_a_script_at_the_root_is_refused_with_one_line(tmp_path):
    script = Path("/") / f"sparklab-test-{os.getpid()}.py"
    script.write_text("print('never')\n")
    try:
        done = lab("submit", str(script), "--on", "local", cwd=tmp_path)
    finally:
        script.unlink()
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [
        f"submit: {script}: a script directly in / would take the whole file system's Python files "
        "with it; put it in a directory of its own"
    ]


# --- 6. a script's own exit code -------------------------------------------------


@pytest.mark.parametrize("code", [3, 130, 143])
def test_a_scripts_own_exit_code_is_no_interrupt_and_shows_no_spark_log(tmp_path, code):
    write_script(
        tmp_path,
        "import os, sys\n"
        "open(os.path.join(os.environ['SPARKLAB_OUT'], 'kept.txt'), 'w').write('kept\\n')\n"
        f"print('leaving')\nsys.exit({code})\n",
    )
    done = lab("submit", "job.py", "--on", "local", cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == code, stderr
    assert done.stdout.decode().splitlines() == ["leaving"]
    # No Spark log and no "interrupted": the exit is the script's business.
    [said] = stderr.strip().splitlines()
    assert said.startswith("submit: what the script wrote to SPARKLAB_OUT is in "), stderr
    landed = Path(said.rsplit(" ", 1)[1])
    assert (landed / "kept.txt").read_text() == "kept\n"
    shutil.rmtree(landed)  # the project's results/: not the test's to keep


# --- 11. smaller ones -----------------------------------------------------------------


def test_spark_log_is_shown_only_when_the_script_did_not_end_by_itself(capsys):
    log = ["26/12/06 07:43:31 ERROR SparkContext: the reason\n"]
    scripts.explain_failure(3, ["leaving\n"], log, {"end": "exit", "code": 3, "masters": []})
    scripts.explain_failure(1, ["Traceback (most recent call last):\n"], log, None)
    assert capsys.readouterr().err == ""
    scripts.explain_failure(1, [], log, None)  # Spark failed before the script
    assert capsys.readouterr().err == log[0]
    scripts.explain_failure(137, [], log, None)  # killed
    assert capsys.readouterr().err == log[0] + "submit: the script was ended by SIGKILL (exit 137)\n"


def test_a_scripts_own_master_is_warned_about(tmp_path):
    write_script(
        tmp_path,
        "from pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.master('local[1]').getOrCreate()\n"
        "print(spark.sparkContext.master)\nspark.stop()\n",
    )
    done = lab("submit", "job.py", "--on", "local", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert done.stdout.decode().splitlines() == ["local[1]"]
    assert done.stderr.decode().strip().splitlines() == [
        "submit: warning: the script set its own master, local[1]: it ran there, not on local[*]; "
        "leave .master(...) out of the script to run where submit sends it"
    ]


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_master_nothing_listens_on_fails_at_once_with_one_line(tmp_path):
    port = free_port()
    done = lab("gd", "--master", f"spark://127.0.0.1:{port}", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [
        f"sparklab gd: error: --master spark://127.0.0.1:{port}: no Spark master answers at 127.0.0.1:{port} "
        "(connection refused); start the cluster (`./lab up`) or check the address"
    ]


def test_a_connect_url_on_a_loopback_address_with_a_token_is_refused(tmp_path):
    url = "sc://127.0.0.1:15002/;token=abc"
    done = lab("wordcount", "--master", url, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.decode().strip().splitlines() == [
        "sparklab wordcount: error: --master sc://127.0.0.1:15002/;token=***: with a token, pyspark's "
        "client uses TLS for every host but localhost, and SparkLab's server has none: "
        "use sc://localhost:15002/;token=***"
    ]


def test_a_second_run_into_the_same_out_says_it_replaces_the_result(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "wordcount.json").write_text("{}\n")
    input_ = str(ROOT / "data" / "peter_piper.txt")
    done = lab("wordcount", "--input", input_, "--out", str(out), "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert (
        f"sparklab wordcount: note: {out / 'wordcount.json'} is there already; this run replaces it"
        in done.stderr.decode().splitlines()
    )
    assert json.loads((out / "wordcount.json").read_text())["top"]


# --- 7. ./lab data -------------------------------------------------------------------


def test_data_from_a_relative_path_is_taken_from_where_the_user_stands(tmp_path):
    (tmp_path / "wine.csv").write_bytes((ROOT / "data" / "winequality-white.csv").read_bytes())
    done = lab("data", "--from", "wine.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == f"data: {ROOT / 'data' / 'winequality-white.csv'} (sha256 checked)"


def test_data_from_a_truncated_copy_says_it_differs_and_what_to_give(tmp_path):
    shipped = ROOT / "data" / "winequality-white.csv"
    before = shipped.read_bytes()
    (tmp_path / "trunc.csv").write_bytes(before[:3000])
    done = lab("data", "--from", "trunc.csv", cwd=tmp_path)
    said = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2, said
    assert len(said) == 1, said
    assert said[0].startswith(f"data: {tmp_path / 'trunc.csv'}: differs from the published file (sha256 ")
    assert said[0].endswith("nothing was copied: give the whole published winequality-white.csv")
    assert shipped.read_bytes() == before


def test_a_changed_shipped_csv_is_named_not_downloaded_over(tmp_path, monkeypatch):
    from jobs.data import download
    from jobs.errors import JobError

    changed = tmp_path / "winequality-white.csv"
    changed.write_bytes((ROOT / "data" / "winequality-white.csv").read_bytes().replace(b";", b",", 1))
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.raises(JobError) as error:
        download.fetch_wine(changed)
    found = download.sha256_of(changed)
    assert str(error.value) == (
        f"{changed} differs from the published file (sha256 {found}, expected {download.WINE_SHA256}); "
        f"restore it (`git checkout data/winequality-white.csv`) or copy the published one in "
        f"with `./lab data --from PATH`"
    )
    assert download.sha256_of(changed) == found  # left as it was
