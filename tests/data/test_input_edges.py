"""Data that is valid text but not usable numbers, odd encodings, odd sizes:
refused up front with file and line, or adjusted with a note."""

import os
import re
import subprocess
import sys

import pytest

from jobs.data.table import load_table, read_header
from jobs.errors import JobError
from jobs.report.files import write_json_atomic

GOOD = [f"{i};{i % 3};{i % 5};{i % 7 + 0.5 * i}" for i in range(300)]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("1;2;3;1e200", r"data\.csv:5: column 4 \('y'\): '1e200' is too large"),
        ("1e200;2;3;4", r"data\.csv:5: column 1 \('a'\): '1e200' is too large"),
        ("1;-1e101;3;4", r"data\.csv:5: column 2 \('b'\): '-1e101' is too large"),
    ],
)
def test_huge_finite_values_are_refused_before_the_fit(spark, write_csv, bad_row, message):
    with pytest.raises(JobError, match=message):
        load_table(spark, write_csv([*GOOD[:3], bad_row, *GOOD[3:]]))


def test_the_cli_refuses_a_huge_target_in_one_line_and_writes_nothing(write_csv, tmp_path):
    path = write_csv([*GOOD[:3], "1;2;3;1e200", *GOOD[3:]])
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "jobs", "gd", "--data", path, "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"sparklab gd: error: {path}:5: column 4 ('y'): '1e200' is too large (beyond ±1e+100, "
        "its square and sums would overflow); pass --on-bad-lines skip to skip bad rows"
    )
    assert not out.exists()


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes('\ufeff"fixed acidity";"quality"\n1;2\n'.encode())
    assert read_header(str(path)) == ["fixed acidity", "quality"]


def test_a_header_that_is_not_utf8_is_refused_with_what_to_run(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes('"teneur en sucre résiduel";"qualité"\n1;2\n'.encode("latin-1"))
    with pytest.raises(JobError, match=r"latin\.csv:1: the header is not UTF-8 \(byte 0xe9 at column 19\); "):
        read_header(str(path))


def test_far_too_many_partitions_are_reduced_with_a_note(spark, write_csv):
    data = load_table(spark, write_csv(GOOD), partitions=50)
    try:
        assert data.blocks.getNumPartitions() == 3  # 300 rows, at least 100 each
        (note,) = data.notes
        assert re.fullmatch(
            r"5\d partitions for 300 rows: using 3 \(at least 100 rows each; "
            r"every partition is a task in every iteration\)",
            note,
        ), note
    finally:
        data.blocks.unpersist()


def test_result_files_get_the_users_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_a_directory_given_as_data_is_called_a_directory(tmp_path):
    from jobs.data.paths import wine_csv

    with pytest.raises(
        JobError, match=rf"^{re.escape(str(tmp_path))}: is a directory; --data takes one CSV file$"
    ):
        wine_csv(str(tmp_path))


def test_text_that_is_not_utf8_is_counted_and_said_so(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café café naïve\n".encode("latin-1"))
    done = subprocess.run(
        [sys.executable, "-m", "jobs", "wordcount", "--input", str(path), "--out", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "sparklab wordcount: note: 2 distinct words hold bytes that are not UTF-8 (shown as U+FFFD); "
        "convert the files, e.g. `iconv -f latin1 -t utf-8`"
    ) in done.stderr.splitlines()
