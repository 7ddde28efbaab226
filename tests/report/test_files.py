"""jobs.report.files: results written whole or not at all, run ids that sort by time."""

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from jobs.report import files


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_write_json_atomic_writes_numpy_and_paths_as_plain_json(tmp_path):
    payload = {
        "weights": np.array([0.5, -1.25]),
        "folds": [{"val_mse": np.array([[1.0], [2.0]])}],
        "count": np.int64(7),
        "share": np.float32(0.25),
        "data": Path("/data/wine.csv"),
        "name": "gd",
    }
    path = files.write_json_atomic(tmp_path / "out" / "gd.json", payload)
    assert path == tmp_path / "out" / "gd.json"
    text = path.read_text()
    assert text.endswith("}\n")
    assert json.loads(text) == {
        "weights": [0.5, -1.25],
        "folds": [{"val_mse": [[1.0], [2.0]]}],
        "count": 7,
        "share": 0.25,
        "data": "/data/wine.csv",
        "name": "gd",
    }
    assert leftovers(path.parent) == []


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        ({"train_mse": [1.0, float("nan")]}, ValueError, "Out of range float values"),
        ({"test_mse": np.float64("inf")}, ValueError, "Out of range float values"),
        ({"weights": np.array([1.0, np.nan])}, ValueError, "Out of range float values"),
        ({"what": object()}, TypeError, "cannot write object as JSON"),
        ({"what": {1, 2}}, TypeError, "cannot write set as JSON"),
    ],
)
def test_a_payload_json_cannot_hold_leaves_the_old_file_and_no_temp_file(tmp_path, payload, error, message):
    target = tmp_path / "gd.json"
    target.write_text('{"old": true}\n')
    with pytest.raises(error, match=message):
        files.write_json_atomic(target, payload)
    assert target.read_text() == '{"old": true}\n'
    assert leftovers(tmp_path) == []


def test_a_write_that_fails_at_the_rename_removes_its_temp_file(tmp_path):
    target = tmp_path / "gd.json"
    target.mkdir()  # a directory where the file should go: os.replace fails
    with pytest.raises(IsADirectoryError):
        files.write_json_atomic(target, {"weights": [1.0]})
    assert leftovers(tmp_path) == []


def test_new_run_id_is_local_time_and_four_hex_digits():
    before = datetime.now().replace(microsecond=0)
    run_id = files.new_run_id()
    after = datetime.now()
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_id), run_id
    # A second either way: time.strftime and datetime.now may read the clock
    # through different calls (C's time() is the kernel's coarse clock); the
    # point is local time, not UTC, which would be hours off.
    slack = timedelta(seconds=1)
    assert before - slack <= datetime.strptime(run_id[:15], "%Y%m%d-%H%M%S") <= after + slack


def test_new_run_ids_sort_in_time_order(monkeypatch):
    moments = [  # in time order, across digit carries a non-padded format would sort wrongly
        (2026, 1, 9, 9, 59, 59),
        (2026, 1, 9, 10, 0, 0),
        (2026, 1, 10, 0, 0, 0),
        (2026, 9, 30, 23, 59, 59),
        (2026, 10, 1, 0, 0, 0),
        (2027, 1, 1, 0, 0, 0),
    ]
    ids = []
    for moment in moments:
        frozen = time.struct_time((*moment, 0, 1, -1))
        monkeypatch.setattr(
            files, "time", SimpleNamespace(strftime=lambda fmt, t=frozen: time.strftime(fmt, t))
        )
        ids.append(files.new_run_id())
    assert ids[0].startswith("20260109-095959-")
    assert sorted(ids) == ids
