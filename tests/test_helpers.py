"""The host side's one-idiom helpers: waiting with a deadline, the last line of
a failed command, a path made atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.errors import JobError, last_line
from jobs.report.failure import ERROR_RECORD_ENV, ended_by
from jobs.report.files import written_atomically
from jobs.waiting import NotReady, wait_until


def test_wait_until_returns_the_first_truthy_answer():
    answers = iter([NotReady("1 of 2"), 0, "ready"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_wait_until_gives_the_last_reason_when_time_runs_out():
    asked = []

    def never() -> NotReady:
        asked.append(len(asked))
        return NotReady(f"asked {len(asked)} times", value=len(asked))

    waited = wait_until(never, timeout=0.05, interval=0.01)
    assert not waited
    assert waited.reason == f"asked {len(asked)} times"
    assert waited.value == len(asked) >= 2


def test_wait_until_with_no_time_asks_once():
    waited = wait_until(lambda: False, timeout=0)
    assert (bool(waited), waited.value, waited.reason) == (False, False, "")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("first\nlast line  \n\n", "last line"),
        (b"x\n\xffbad\n", "\ufffdbad"),
        ("", "?"),
        (None, "?"),
        ("  \n", "?"),
    ],
)
def test_last_line_is_the_last_line_that_is_not_blank(said, expected):
    assert last_line(said) == expected


def test_last_line_has_a_default_of_the_callers_choosing():
    assert last_line("", "no answer") == "no answer"


def test_a_command_ended_by_a_job_error_says_its_one_line_and_returns_2(capsys, monkeypatch):
    monkeypatch.delenv(ERROR_RECORD_ENV, raising=False)
    assert ended_by("bench", JobError("data/wine.csv: no such file")) == 2
    assert capsys.readouterr().err == "bench: error: data/wine.csv: no such file\n"


def test_a_job_error_leaves_its_record_instead_of_its_line_where_one_is_asked_for(
    tmp_path, monkeypatch, capsys
):
    record = tmp_path / "run" / "error.json"
    monkeypatch.setenv(ERROR_RECORD_ENV, str(record))
    error = JobError.at("data/w.csv", 3, "expected 4 fields, found 5")
    assert ended_by("sparklab gd", error) == 2
    assert capsys.readouterr().err == ""  # whoever asked says it, once
    assert json.loads(record.read_text()) == {
        "kind": "error",
        "message": "data/w.csv:3: expected 4 fields, found 5",
        "path": "data/w.csv",
        "line": 3,
        "exit_code": 2,
    }


def test_a_path_written_atomically_appears_whole(tmp_path):
    target = tmp_path / "out"
    with written_atomically(target) as staged:
        assert staged.name == ".out.partial"
        staged.mkdir()
        (staged / "a.json").write_text("{}")
        assert not target.exists()
    assert (target / "a.json").read_text() == "{}"
    assert not staged.exists()


def test_a_failed_atomic_write_leaves_nothing(tmp_path):
    target = tmp_path / "archive.tar"

    def half_written() -> Path:
        with written_atomically(target) as staged:
            staged.write_text("half")
            raise RuntimeError(staged)

    with pytest.raises(RuntimeError) as failed:
        half_written()
    assert not target.exists()
    assert not Path(str(failed.value)).exists()
