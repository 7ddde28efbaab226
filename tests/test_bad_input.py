"""Bad input: one line that names the file (and line) and what is wrong."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jobs.checks import check_out_dir
from jobs.data.paths import expand_inputs, hadoop_path, read_lines
from jobs.data.table import load_table
from jobs.errors import JobError, one_line
from jobs.gd import fit_gd
from jobs.runtime.session import build_session, is_master_url
from jobs.wordcount import run as run_wordcount


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["1;2;3;4", "1;2;3"], r"data.csv:3: expected 4 fields, found 3"),
        (["1;2;3;4", "1;2;3;4", "1;zwei;3;4"], r"data.csv:4: column 2 \('b'\): 'zwei' is not a number"),
        ([], r"data.csv: the header has no data rows after it"),
    ],
)
def test_bad_rows_name_file_line_and_problem(spark, write_csv, rows, message):
    with pytest.raises(JobError, match=message):
        load_table(spark, write_csv(rows))


def test_empty_file_is_refused(spark, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(JobError, match=r"empty.csv: the file is empty"):
        load_table(spark, str(path))


def test_skip_counts_bad_rows(spark, write_csv):
    good = [f"{i};{i % 3};{i % 5};{i % 7 + 0.5 * i}" for i in range(40)]
    path = write_csv([*good[:10], "1;2;3", *good[10:20], "x;1;2;3", *good[20:]])
    data = load_table(spark, path, on_bad_lines="skip")
    assert data.skipped_lines == 2
    assert [line for line, _ in data.skipped_examples] == [12, 23]
    assert data.n_train + data.n_test == 40


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], capture_output=True, text=True, timeout=180, env=env
    )


def assert_ended_clean(done: subprocess.CompletedProcess) -> None:
    """Exit 0 and no Python traceback. pyspark's own daemon prints a
    BrokenPipeError after about one local gd in four, as the session stops
    (jobs/runtime/daemon/sparklab_daemon.py); the local runs below,
    without `./lab` in between, look for it."""
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def test_cli_bad_row_ends_with_one_line_and_writes_nothing(write_csv, tmp_path):
    path = write_csv(["1;2;3;4", "1;2;3;4;5"])
    out = tmp_path / "out"
    done = _cli("gd", "--data", path, "--out", str(out), "--quiet")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        f"sparklab gd: error: {path}:3: expected 4 fields, found 5; pass --on-bad-lines skip to skip bad rows"
    )
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gd", "--data", "/nonexistent/wine.csv"], "/nonexistent/wine.csv: no such file; run `./lab data`"),
        (["wordcount", "--input", "/nonexistent/*.txt"], "/nonexistent/*.txt: the glob matches no file"),
        (["cv", "--folds", "1"], "--folds must be at least 2"),
        (["gd", "--iterations", "0"], "--iterations must be at least 1, got 0"),
        (["gd", "--lr", "-1"], "--lr must be a positive number, got -1.0"),
        (["cv", "--one-job", "--resident", "always"], "--resident always keeps the blocks between"),
    ],
)
def test_cli_refuses_bad_options_before_starting_spark(args, message, wine_csv):
    done = _cli(*args, "--quiet")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0], done.stderr


# The command line's runs that succeed, in ONE application (`--then`, as
# `./lab demo` joins its jobs): each test below reads its own part of it.
JOINED = (  # (job, its out directory, its options)
    ("wordcount", "top", ["--input", "data/peter_piper.txt", "--top", "1"]),
    ("wordcount", "named", ["--input", "{tmp}/notes[1].txt", "{tmp}/a,b.txt"]),
    ("gd", "w12", ["--data", "{tmp}/w[12].csv", "--iterations", "2", "--quiet"]),
    ("gd", "wine", ["--data", "{wine}", "--iterations", "3", "--partitions", "2", "--quiet"]),
)
JOINED_MASTER = "local[2]"  # given once, with the first job


@pytest.fixture(scope="module")
def joined(tmp_path_factory, wine_csv):
    """The finished `python -m jobs JOB ... --then JOB ...` and the directory its jobs wrote into."""
    tmp = tmp_path_factory.mktemp("joined")
    (tmp / "notes[1].txt").write_text("alpha beta beta\n")  # beside files its name would match
    (tmp / "notes1.txt").write_text("decoy decoy\n")
    (tmp / "a,b.txt").write_text("gamma\n")
    (tmp / "a").write_text("decoy\n")
    rows = [f"{i};{(i * 7) % 11};{i % 5 + 0.25 * i}" for i in range(60)]
    (tmp / "w1.csv").write_text('"a";"b";"y"\n' + "\n".join(rows[:20]) + "\n")
    (tmp / "w[12].csv").write_text('"a";"b";"y"\n' + "\n".join(rows) + "\n")
    command: list[str] = []
    for job, out, options in JOINED:
        named = [option.format(tmp=tmp, wine=wine_csv) for option in options]
        command += [*(["--then"] if command else []), job, *named, "--out", str(tmp / out)]
    command[1:1] = ["--master", JOINED_MASTER]
    return _cli(*command), tmp


def _joined_result(joined, out: str) -> dict:
    done, tmp = joined
    assert_ended_clean(done)
    job = next(job for job, name, _ in JOINED if name == out)
    return _result(tmp / out, job)


def test_cli_writes_each_jobs_result_json_and_reports_its_path(joined):
    done, tmp = joined
    assert_ended_clean(done)
    reported = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert reported == [{"job": job, "result": str(tmp / out / f"{job}.json")} for job, out, _ in JOINED]
    assert _joined_result(joined, "top")["top"] == [["peck", 5]]


# --- 1. The file the user names is the file that is read ---------------------

# Names Hadoop would read as globs, lists or escapes, beside the files those
# globs would match instead (w1.csv for w[12].csv, qX.txt for q?.txt, ...).
ODD_NAMES = [
    "w[12].csv",
    "solo[1].csv",
    "notes[1].txt",
    "a,b.txt",
    ",.txt",
    "b{x,y}.txt",
    "a{b,c.txt",
    "a}b,c.txt",
    "}{,.txt",
    "q?.txt",
    "st*r.txt",
    "back\\slash.txt",
    "x\\,y.txt",
    "pct%41.txt",
    "hash#1 sp ace.txt",
    "ümlaut€.txt",
    "[!x]^$(|)+.txt",
]
DECOYS = [
    "w1.csv",
    "w2.csv",
    "solo1.csv",
    "notes1.txt",
    "a",
    "b.txt",
    "bx.txt",
    "qX.txt",
    "star.txt",
    "pctA.txt",
]


@pytest.fixture(scope="module")
def odd_dir(tmp_path_factory):
    """One directory holding every odd name and the decoys, each file naming itself."""
    folder = tmp_path_factory.mktemp("odd [dir],{x}")
    for name in ODD_NAMES + DECOYS:
        (folder / name).write_text(f"the file {name}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ODD_NAMES)
def test_hadoop_path_reads_exactly_the_named_file(spark, odd_dir, name):
    lines = spark.sparkContext.textFile(hadoop_path(str(odd_dir / name))).collect()
    assert lines == [f"the file {name}"]


def test_several_odd_files_are_each_read_once_in_about_the_partitions_asked(spark, odd_dir):
    files = [str(odd_dir / name) for name in ODD_NAMES]
    lines = read_lines(spark.sparkContext, files, 24)
    assert lines.collect() == [f"the file {name}" for name in ODD_NAMES]
    assert len(ODD_NAMES) <= lines.getNumPartitions() <= 24 + len(ODD_NAMES)


def test_read_lines_splits_files_by_their_share_of_the_bytes(spark, tmp_path):
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_text("".join(f"line {i:05d}\n" for i in range(3000)))
    small.write_text("".join(f"line {i:05d}\n" for i in range(1000)))
    lines = read_lines(spark.sparkContext, [str(big), str(small)], 8)
    assert 8 <= lines.getNumPartitions() <= 10  # 6 + 2, Hadoop may add one per file
    assert lines.count() == 4000


@pytest.mark.parametrize("name", ["w[12].csv", "solo[1].csv", "a,b.csv", "t{a,b}*.csv"])
def test_load_table_reads_the_named_file_not_what_its_name_matches(spark, tmp_path, name):
    rows = [f"{i};{i % 3};{i % 5};{i % 7 + 0.5 * i}" for i in range(40)]
    for decoy in ("w1.csv", "solo1.csv", "a", "b.csv", "ta.csv", "tb.csv"):
        (tmp_path / decoy).write_text('"a";"b";"c";"y"\n' + "\n".join(rows[:10]) + "\n")
    (tmp_path / name).write_text('"a";"b";"c";"y"\n' + "\n".join(rows) + "\n")
    data = load_table(spark, str(tmp_path / name))
    assert data.path == str(tmp_path / name)
    assert data.n_train + data.n_test == 40


def test_wordcount_counts_odd_named_files_as_they_are(spark, odd_dir):
    files = expand_inputs(
        [str(odd_dir / "notes[1].txt"), str(odd_dir / "a,b.txt"), str(odd_dir / "st*r.txt")]
    )
    assert files == [str(odd_dir / "notes[1].txt"), str(odd_dir / "a,b.txt"), str(odd_dir / "st*r.txt")]
    counts = run_wordcount(spark, files).counts
    assert counts == {"the": 3, "file": 3, "notes[1].txt": 1, "a,b.txt": 1, "st*r.txt": 1}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        # An argument that exists is taken literally, glob characters and all.
        (["w[12].csv"], ["w[12].csv"]),
        (["st*r.txt", "q?.txt"], ["st*r.txt", "q?.txt"]),
        # One that does not exist and holds glob magic is a glob (Python's, sorted).
        (["w[0-9].csv"], ["w1.csv", "w2.csv"]),
        (["q?.txt", "n*s1.txt"], ["q?.txt", "notes1.txt"]),
        (["[[]!x]*"], ["[!x]^$(|)+.txt"]),
    ],
)
def test_expand_inputs_globs_only_what_does_not_exist(tmp_path, arguments, expected):
    for name in ODD_NAMES + DECOYS:
        (tmp_path / name).write_text(name)
    files = expand_inputs([str(tmp_path / a) for a in arguments])
    assert files == [str(tmp_path / e) for e in expected]


def test_a_glob_under_a_directory_with_glob_characters_needs_them_bracketed(odd_dir):
    with pytest.raises(JobError, match=r"the glob matches no file$"):
        expand_inputs([f"{odd_dir}/w*.csv"])
    escaped = str(odd_dir).replace("[", "[[]")  # what --input's help says
    assert expand_inputs([f"{escaped}/w*.csv"]) == [
        str(odd_dir / n) for n in ("w1.csv", "w2.csv", "w[12].csv")
    ]


def test_a_directory_gives_its_files_but_not_the_hidden_ones(tmp_path):
    for name in ("b.txt", "a.txt", "_SUCCESS", ".a.txt.crc"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / "sub").mkdir()
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert expand_inputs([str(tmp_path / "*")]) == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]


@pytest.mark.parametrize(
    ("files", "argument", "message"),
    [
        (
            ["a:b.csv"],
            "a:b.csv",
            "{d}/a:b.csv: Hadoop cannot read a path that holds ':' (it takes it for a URI scheme); "
            "rename the file or copy it to a path without ':'",
        ),
        (
            ["_notes.txt"],
            "_notes.txt",
            "{d}/_notes.txt: Hadoop skips files whose name starts with '_' or '.'; "
            "rename the file or copy it",
        ),
        (
            ["a,b.txt", "x:y.txt"],
            "a,b.txt",
            "{d}/a,b.txt: Hadoop cannot read it: for the ',' in 'a,b.txt' it lists {d}, "
            "where 'x:y.txt' holds a ':' (taken for a URI scheme); rename or move one of them",
        ),
        (
            ["_SUCCESS"],
            "",
            "{d}/: the directory holds no file (names starting with '_' or '.' are skipped)",
        ),
        (["_SUCCESS"], "*", "{d}/*: the glob matches no file (names starting with '_' or '.' are skipped)"),
    ],
)
def test_what_hadoop_cannot_read_is_refused_in_one_line(tmp_path, files, argument, message):
    for name in files:
        (tmp_path / name).write_text("x\n")
    with pytest.raises(JobError) as raised:
        expand_inputs([f"{tmp_path}/{argument}"])
    assert str(raised.value) == message.format(d=tmp_path)


def _result(out: Path, job: str) -> dict:
    return json.loads((out / f"{job}.json").read_text())


def test_cli_gd_fits_w12_not_w1_beside_it(joined):
    result = _joined_result(joined, "w12")
    assert result["data"] == str(joined[1] / "w[12].csv")
    assert result["n_train"] + result["n_test"] == 60


def test_cli_wordcount_reads_the_named_files(joined):
    result = _joined_result(joined, "named")
    tmp = joined[1]
    assert result["files"] == [str(tmp / "notes[1].txt"), str(tmp / "a,b.txt")]
    assert result["counts"] == {"alpha": 1, "beta": 2, "gamma": 1}


def test_cli_refuses_a_colon_in_one_line_before_spark(tmp_path):
    path = tmp_path / "a:b.csv"
    path.write_text('"a";"y"\n1;2\n')
    done = _cli("gd", "--data", str(path), "--quiet")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"sparklab gd: error: {path}: Hadoop cannot read a path that holds ':' (it takes it for a URI "
        "scheme); rename the file or copy it to a path without ':'"
    ]


# --- 4. One line, and it names the cause ------------------------------------

INVALID_INPUT = """An error occurred while calling o40.partitions.
: org.apache.hadoop.mapred.InvalidInputException: Input Pattern file:/data/solo[1].csv matches 0 files
\tat org.apache.hadoop.mapred.FileInputFormat.singleThreadedListStatus(FileInputFormat.java:306)
\tat org.apache.hadoop.mapred.FileInputFormat.listStatus(FileInputFormat.java:245)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: java.io.IOException: Input Pattern file:/data/solo[1].csv matches 0 files
\tat org.apache.hadoop.mapred.FileInputFormat.singleThreadedListStatus(FileInputFormat.java:281)
\t... 30 more
"""
STAGE_FAILURE = """An error occurred while calling z:org.apache.spark.api.python.PythonRDD.collectAndServe.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 0.0 failed 1 times, \
most recent failure: Lost task 0.0 in stage 0.0 (TID 0) (192.0.2.2 executor driver): \
java.lang.IllegalArgumentException: java.net.URISyntaxException: Relative path in absolute URI: .a:b.csv.crc
\tat org.apache.hadoop.fs.Path.initialize(Path.java:271)
Caused by: java.net.URISyntaxException: Relative path in absolute URI: .a:b.csv.crc
\tat java.base/java.net.URI.checkPath(URI.java:1998)
\t... 31 more

Driver stacktrace:
\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$3(DAGScheduler.scala:4568)
Caused by: java.lang.IllegalArgumentException: \
java.net.URISyntaxException: Relative path in absolute URI: .a:b.csv.crc
\tat org.apache.hadoop.fs.Path.initialize(Path.java:271)
\t... 1 more
Caused by: java.net.URISyntaxException: Relative path in absolute URI: .a:b.csv.crc
\tat java.base/java.net.URI.checkPath(URI.java:1998)
\t... 31 more
"""
PYTHON_WORKER = """An exception was thrown from the Python worker:
Traceback (most recent call last):
  File "/v/pyspark.zip/pyspark/worker.py", line 4327, in invoke_udf
    run_process()
  File "/v/pyspark.zip/pyspark/util.py", line 158, in wrapper
    return f(*args, **kwargs)
           ^^^^^^^^^^^^^^^^^^
ValueError: could not convert string to float: 'x'
"""
OUT_OF_MEMORY = """An error occurred while calling o42.collect.
: org.apache.spark.SparkException: Job aborted due to stage failure
\tat org.apache.spark.scheduler.DAGScheduler.failJob(DAGScheduler.scala:1)
java.lang.OutOfMemoryError: Java heap space
\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)
"""


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            RuntimeError(INVALID_INPUT),
            "InvalidInputException: Input Pattern file:/data/solo[1].csv matches 0 files",
        ),
        (RuntimeError(STAGE_FAILURE), "URISyntaxException: Relative path in absolute URI: .a:b.csv.crc"),
        (
            RuntimeError("java.net.URISyntaxException: Relative path in absolute URI: a:b.csv"),
            "URISyntaxException: Relative path in absolute URI: a:b.csv",
        ),
        (RuntimeError(PYTHON_WORKER), "ValueError: could not convert string to float: 'x'"),
        (RuntimeError(OUT_OF_MEMORY), "OutOfMemoryError: Java heap space"),
        (
            RuntimeError("An error occurred while calling o7.stop.\n: java.lang.NullPointerException"),
            "NullPointerException",
        ),
        (
            RuntimeError("[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number."),
            "[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number.",
        ),
        (ValueError("  first line\nsecond line"), "first line"),
        (KeyError(), "KeyError"),
    ],
)
def test_one_line_names_the_deepest_cause(error, line):
    assert one_line(error) == line


# --- 5. The master URL -------------------------------------------------------

GOOD_MASTERS = [
    "local",
    "local[1]",
    "local[16]",
    "local[*]",
    "local[4,2]",
    "local[*,3]",
    "local[*, 3]",
    "local-cluster[2,1,1024]",
    "local-cluster[ 2 , 1 , 512 ]",
    "spark://master:7077",
    "spark://spark-master.lab.local:7077",
    "spark://10.0.0.5:7077",
    "spark://[::1]:7077",
    "spark://m1:7077,m2:7078",
]
BAD_MASTERS = [
    "garbage",
    "",
    "LOCAL",
    "local[]",
    "local[abc]",
    "local[0]",
    "local[-1]",
    "local[2,0]",
    "local[,2]",
    "local[2]x",
    "local[99999999999]",
    "local-cluster[2,1]",
    "local-cluster[0,1,1024]",
    "local-cluster[2,1,0]",
    "spark://",
    "spark://master",
    "spark://master:",
    "spark://master:0",
    "spark://master:65536",
    "spark://:7077",
    "spark://ma ster:7077",
    "spark://m1:7077,",
    "spark://m1:7077,spark://m2:7077",
    "http://master:8080",
    "yarn",
    "k8s://https://10.0.0.1:443",
]


@pytest.mark.parametrize("master", GOOD_MASTERS)
def test_spark_master_urls_are_accepted(master):
    assert is_master_url(master)


@pytest.mark.parametrize("master", BAD_MASTERS)
def test_anything_else_is_not_a_master_url(master):
    assert not is_master_url(master)


# (Spark Connect's sc:// is the CLI's too, for the DataFrame jobs.)
MASTER_FORMS = "use local[*], local[N], local-cluster[N,C,MB] or spark://HOST:PORT, or sc://HOST:PORT"


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        (["--master", "garbage"], {}, f"--master garbage: not a Spark master URL; {MASTER_FORMS}"),
        (["--master", "local[abc]"], {}, f"--master local[abc]: not a Spark master URL; {MASTER_FORMS}"),
        (["--master", "local[0]"], {}, f"--master local[0]: not a Spark master URL; {MASTER_FORMS}"),
        (
            ["--master", "spark://master"],
            {},
            f"--master spark://master: not a Spark master URL; {MASTER_FORMS}",
        ),
        (
            [],
            {"SPARKLAB_MASTER": "nowhere"},
            f"SPARKLAB_MASTER=nowhere: not a Spark master URL; {MASTER_FORMS}",
        ),
    ],
)
def test_cli_refuses_a_bad_master_before_the_jvm_starts(args, env, line):
    done = _cli("wordcount", *args, "--quiet", env={**os.environ, **env})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"sparklab wordcount: error: {line}"]


def test_a_session_that_will_not_start_after_the_probe_is_one_line(spark, monkeypatch):
    """The master's web UI answers, then the driver fails: a JobError, not a trace."""
    from pyspark.sql import SparkSession

    from jobs.runtime import standalone

    alive = {"status": "ALIVE", "workers": [{"state": "ALIVE", "cores": 2, "memory": 2048}]}
    monkeypatch.setattr(standalone, "read_master_state", lambda url, timeout=5: alive)
    bind_failure = (
        "An error occurred while calling None.org.apache.spark.api.java.JavaSparkContext.\n"
        ": java.net.BindException: Cannot assign requested address: Service 'sparkDriver' failed "
        "after 16 retries (on a random free port)!\n"
        "\tat java.base/sun.nio.ch.Net.bind0(Native Method)\n"
    )

    def fail(builder):
        raise RuntimeError(bind_failure)

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", fail)
    with pytest.raises(JobError) as raised:
        build_session("spark://127.0.0.1:7077")
    assert str(raised.value) == (
        "Spark did not start on spark://127.0.0.1:7077: BindException: Cannot assign requested "
        "address: Service 'sparkDriver' failed after 16 retries (on a random free port)!"
    )


# --- 7. --out and --data that cannot be written or read ----------------------

DROP_DAC = ["--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def _cli_unprivileged(*args):
    """Run the CLI as it runs for a user without root's right to ignore file modes."""
    if os.geteuid() != 0:
        return _cli(*args)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is missing: cannot drop root's DAC capabilities")
    probe = subprocess.run([setpriv, *DROP_DAC, "--", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot drop capabilities here: {probe.stderr.strip()}")
    return subprocess.run(
        [setpriv, *DROP_DAC, "--", sys.executable, "-m", "jobs", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def read_only_dir(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize(
    ("out", "line"),
    [
        ("taken", "--out {out}: is a file, not a directory"),
        ("taken/sub/dir", "--out {out}: cannot be created, {tmp}/taken is a file"),
        ("read-only", "--out {out}: not writable (permission denied)"),
        ("read-only/new/dir", "--out {out}: cannot be created (permission denied)"),
    ],
)
def test_cli_refuses_an_unwritable_out_before_the_work(tmp_path, read_only_dir, out, line):
    (tmp_path / "taken").write_text("a file\n")
    out = tmp_path / out
    args = ("wordcount", "--input", "data/peter_piper.txt", "--out", str(out), "--quiet")
    # Root writes anywhere: the read-only cases run without that privilege.
    done = _cli_unprivileged(*args) if read_only_dir in (out, *out.parents) else _cli(*args)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"sparklab wordcount: error: {line.format(out=out, tmp=tmp_path)}"]
    assert not (read_only_dir / "new").exists()


def test_checking_out_leaves_no_directory_behind(tmp_path):
    check_out_dir(tmp_path / "a" / "b" / "c")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    check_out_dir(tmp_path / "kept")
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


def test_cli_refuses_unreadable_data_in_one_line(tmp_path, wine_csv):
    path = tmp_path / "wine.csv"
    shutil.copy(wine_csv, path)
    path.chmod(0o000)
    done = _cli_unprivileged("gd", "--data", str(path), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"sparklab gd: error: {path}: permission denied"]
    assert not (tmp_path / "out").exists()


def test_jobs_joined_by_then_share_one_application_and_keep_their_own_metrics(joined, spark, wine_csv):
    """What `./lab demo` runs: each JSON is the job's alone (its Spark jobs, its
    result), the application is one, and the results are a run alone's."""
    results = [_joined_result(joined, out) for _, out, _ in JOINED]
    assert len({result["app_id"] for result in results}) == 1
    words, gd = results[0], results[-1]
    assert set(words["metrics"]["phases"]) == {"wordcount"}
    assert words["metrics"]["jobs"] == 1
    assert "wordcount" not in gd["metrics"]["phases"]
    assert gd["metrics"]["phases"]["fit"]["jobs"] == 3  # one Spark job per iteration
    data = load_table(spark, wine_csv, partitions=2)  # a run alone, in this process
    try:
        alone = fit_gd(spark.sparkContext, data, iterations=3)
    finally:
        data.blocks.unpersist()
    np.testing.assert_allclose(gd["weights"], alone.weights, rtol=1e-12)


def test_a_bad_later_job_is_refused_before_any_job_runs(tmp_path):
    out = tmp_path / "out"
    done = _cli("wordcount", "--out", str(out), "--then", "gd", "--data", str(tmp_path / "none.csv"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("sparklab gd: error: "), done.stderr
    assert "none.csv" in lines[0]
    assert not out.exists()


def test_a_master_given_once_is_every_joined_jobs(joined):
    assert [_joined_result(joined, out)["master"] for _, out, _ in JOINED] == [JOINED_MASTER] * len(JOINED)
