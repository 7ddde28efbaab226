"""`./lab submit PATH.py`: the checks, the zip, the inputs' size limit (no Docker),
and the script run on local[2] with its own exit code and traceback."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from invoke import Context

from cluster import inputs, scripts, task_parser
from cluster.project import ComposeProject
from cluster.settings import ROOT, ClusterError
from jobs.errors import JobError

SCRIPT = ROOT / "tests" / "cluster" / "scripts" / "wordfreq.py"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("missing.py", "missing.py: no such file"),
        ("gdd", "gdd: no such file, nor one of the jobs wordcount, gd, cv"),
        ("scripts", "scripts: is a directory; give the script, e.g. scripts/main.py"),
        ("scripts/textstats/notes.txt", "scripts/textstats/notes.txt: not a Python script (a PATH.py file), "
         "nor one of the jobs wordcount, gd, cv"),
        ("binary.py", "binary.py: not a Python script (not UTF-8 text)"),
    ],
)  # fmt: skip
def test_a_bad_script_is_refused_with_one_line(tmp_path, given, message):
    (tmp_path / "scripts" / "textstats").mkdir(parents=True)
    (tmp_path / "scripts" / "textstats" / "notes.txt").write_text("words\n")
    (tmp_path / "binary.py").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(JobError) as error:
        scripts.check_script(given, tmp_path)
    assert str(error.value) == message


def test_the_scripts_directory_is_zipped_without_caches_or_environments(tmp_path):
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("")
    (tmp_path / "env" / "site.py").write_text("")
    for name in (
        "main.py",
        "helper.py",
        "pkg/__init__.py",
        "pkg/mod.py",
        "pkg/__pycache__/mod.py",
        ".venv/lib/x.py",
    ):
        (tmp_path / name).write_text("")
    (tmp_path / "data.csv").write_text("a;b\n")
    archive = scripts.code_zip(tmp_path / "main.py", tmp_path / "code.zip")
    assert sorted(zipfile.ZipFile(archive).namelist()) == [
        "helper.py",
        "main.py",
        "pkg/__init__.py",
        "pkg/mod.py",
    ]


def test_java_stack_frames_are_left_out_of_the_scripts_output():
    assert scripts.JAVA_FRAME.match("\tat org.apache.spark.rdd.RDD.collect(RDD.scala:1049)")
    assert scripts.JAVA_FRAME.match("\t... 23 more")
    assert not scripts.JAVA_FRAME.match('  File "wordfreq.py", line 35, in main')
    assert not scripts.JAVA_FRAME.match("at home (not a frame)")


def test_arguments_that_name_host_paths_are_found(tmp_path):
    (tmp_path / "corpus.txt").write_text("a b\n")
    positions, paths = scripts.cluster_arguments(["--input", "corpus.txt", "hello world", "3"], tmp_path)
    assert (positions, paths) == ([1], [str(tmp_path / "corpus.txt")])


def test_an_input_past_the_size_limit_is_refused_with_how_to_mount_it(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "SIZE_LIMIT", 10)
    big = tmp_path / "big.txt"
    big.write_text("x" * 11)
    with (
        pytest.raises(ClusterError) as error,
        inputs.staged(ComposeProject.of_checkout(), [str(big)], "run-1"),
    ):
        pass
    assert str(error.value) == (
        f"{big}: more than the 1 GB that is copied to the cluster for one run; "
        f"mount its directory instead: SPARKLAB_DATA_DIR={tmp_path} ./lab up"
    )


def test_mounted_inputs_are_mapped_without_a_copy(monkeypatch):
    monkeypatch.delenv("SPARKLAB_WINE_CSV", raising=False)
    monkeypatch.delenv("SPARKLAB_DATA_DIR", raising=False)
    with inputs.staged(
        ComposeProject.of_checkout(), [str(ROOT / "data" / "peter_piper.txt")], "run-1"
    ) as paths:
        assert paths == ["/sparklab/data/peter_piper.txt"]


def test_the_words_after_the_dashes_keep_their_quoting(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["invoke", "submit", "x.py", "--", "hello world", "--n", "3"])
    assert task_parser.after_dashes(Context(remainder="hello world --n 3")) == ["hello world", "--n", "3"]
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert task_parser.after_dashes(Context(remainder="'a b' c")) == ["a b", "c"]
    assert task_parser.after_dashes(Context()) == []


def test_a_missing_script_ends_lab_submit_with_one_line_and_exit_2():
    done = subprocess.run([str(ROOT / "lab"), "submit", "nowhere/mine.py"], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "submit: nowhere/mine.py: no such file"
