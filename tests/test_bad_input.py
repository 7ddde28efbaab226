"""Bad input: one line that names the file (and line) and what is wrong."""

import json
import subprocess
import sys

import pytest

from jobs.data.table import load_table
from jobs.errors import JobError


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
    ],
)
def test_cli_refuses_bad_options_before_starting_spark(args, message, wine_csv):
    done = _cli(*args, "--quiet")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0], done.stderr


def test_cli_writes_result_json_and_reports_its_path(tmp_path):
    out = tmp_path / "out"
    done = _cli("wordcount", "--input", "data/peter_piper.txt", "--out", str(out), "--top", "1")
    assert done.returncode == 0, done.stderr
    reported = json.loads(done.stdout.strip().splitlines()[-1])
    result = json.loads((out / "wordcount.json").read_text())
    assert reported == {"job": "wordcount", "result": str(out / "wordcount.json")}
    assert result["top"] == [["peck", 5]]
