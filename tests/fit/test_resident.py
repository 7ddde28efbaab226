"""Blocks resident in shared memory between a fit's jobs (jobs.fit.resident):
written and read back whole, inline where they cannot be written, removed
when the fit ends or, failing that, by the janitor once their JVM is gone
(a process in its place of a JVM here: killing the test's own JVM would
cost an application);
and a resident fit equal bit for bit to one that copies its blocks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from jobs.cv import cross_validate
from jobs.data.table import Block, load_table
from jobs.errors import JobError
from jobs.fit import resident
from jobs.gd import fit_gd


@dataclass(frozen=True)
class Labelled:
    values: np.ndarray
    label: str


def a_block(rows: int = 5) -> Block:
    rng = np.random.default_rng(rows)
    x = rng.normal(size=(rows, 3))
    return Block(np.arange(rows), x, x[:, 0].copy(), x[: rows // 2] * 2, np.zeros(0))


def start_time(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


@pytest.fixture
def shm(tmp_path, monkeypatch):
    """A shared-memory directory of the test's own."""
    monkeypatch.setattr(resident, "SHM_DIR", str(tmp_path))
    return tmp_path


def test_a_block_written_is_read_back_equal_read_only_and_mapped_once_per_worker(shm):
    block = a_block()
    segment = resident._to_segment(block, (os.getpid(), start_time(os.getpid())))
    assert isinstance(segment, resident.Segment)
    assert [p.name for p in shm.iterdir()] == [Path(segment.path).name]  # no partial file left
    read = resident.attach(segment)
    assert type(read) is Block
    for name in ("train_index", "x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(read, name), getattr(block, name))
        assert getattr(read, name).dtype == getattr(block, name).dtype
        assert not getattr(read, name).flags.writeable
    assert resident.attach(segment) is read  # mapped once per worker
    os.unlink(segment.path)
    other = resident._to_segment(a_block(7), (os.getpid(), start_time(os.getpid())))
    resident.attach(other)
    assert segment.path not in resident._attached  # a removed segment's block is let go
    os.unlink(other.path)


def test_what_cannot_be_written_stays_inline(shm, monkeypatch):
    owner = (os.getpid(), start_time(os.getpid()))
    labelled = Labelled(np.ones(3), "not an array")
    assert resident._to_segment(labelled, owner) is labelled
    pair = (np.ones(3), np.zeros(2))
    assert resident._to_segment(pair, owner) is pair
    monkeypatch.setattr(resident, "SHM_DIR", str(shm / "missing"))
    block = a_block()
    assert resident._to_segment(block, owner) is block
    assert resident.attach(block) is block
    assert list(shm.iterdir()) == []


def test_a_process_with_no_java_above_it_keeps_its_blocks_inline(shm):
    block = a_block()
    assert resident.executor_jvm() is None  # pytest's process
    assert list(resident._write_segments(iter([block]))) == [block]


def test_resident_from_64_mb_of_blocks():
    assert resident.RESIDENT_MIN_BYTES == 64 * 2**20
    assert not resident.worth_resident(4898, 13)  # the wine data
    assert resident.worth_resident(2**20, 8)
    assert not resident.worth_resident(2**20 - 1, 8)
    assert [resident.resident_choice(c) for c in resident.RESIDENT_CHOICES] == [None, True, False]


def janitors(shm: Path | str, owner: int | None = None) -> list[list[str]]:
    """The janitors working in `shm` (for `owner`): their arguments name both."""
    found = subprocess.run(["pgrep", "-f", f"{resident.PREFIX}$"], capture_output=True, text=True).stdout
    arguments = []
    for pid in found.split():
        with contextlib.suppress(OSError):
            arguments.append(Path(f"/proc/{pid}/cmdline").read_text().split("\0")[-5:-1])
    return [args for args in arguments if args[2] == str(shm) and owner in (None, int(args[0]))]


def wait_until(condition, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_janitor_removes_its_jvms_segments_once_it_ends_and_a_dead_jvms_leftovers_at_once(shm):
    owner = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        mine = (owner.pid, start_time(owner.pid))
        left = (dead.pid, "1")  # a JVM gone, whose janitor was killed: its lock and a segment remain
        Path(f"{shm}/{resident.PREFIX}-{left[0]}-{left[1]}.lock").touch()
        leftover = resident._to_segment(a_block(), left)
        segment = resident._to_segment(a_block(), mine)
        resident.start_janitor(mine)
        assert wait_until(lambda: not Path(leftover.path).exists())
        assert not Path(f"{shm}/{resident.PREFIX}-{left[0]}-{left[1]}.lock").exists()
        assert len(janitors(shm)) == 1
        resident.start_janitor(mine)  # its lock is held: no second janitor
        time.sleep(0.5)
        assert len(janitors(shm)) == 1
        assert Path(segment.path).exists()  # its JVM still runs
    finally:
        owner.kill()
        owner.wait()
    assert wait_until(lambda: list(shm.iterdir()) == [] and not janitors(shm))


def jvm_pid(spark) -> int:
    return int(spark.sparkContext._jvm.ProcessHandle.current().pid())


def the_jvms_segments(spark) -> list[Path]:
    """The segments written under this local session's JVM (its executor)."""
    pid = jvm_pid(spark)
    prefix = resident.segment_prefix(pid, start_time(pid))
    return [path for path in Path(resident.SHM_DIR).glob(Path(prefix).name + "*")]


def test_a_resident_fit_equals_a_copying_one_bit_for_bit_and_removes_its_segments(spark, wine_csv):
    sc = spark.sparkContext
    data = load_table(spark, wine_csv, partitions=3)
    try:
        seen_during: list[int] = []
        copied = fit_gd(sc, data, iterations=8, resident=False)
        sc.setJobGroup("resident-gd", "resident")
        kept = fit_gd(
            sc,
            data,
            iterations=8,
            resident=True,
            on_step=lambda *_: seen_during.append(len(the_jvms_segments(spark))),
        )
        # Each iteration one job; one more removes the segments.
        assert len(sc.statusTracker().getJobIdsForGroup("resident-gd")) == 8 + 1
        assert seen_during == [3] * 8  # one segment per partition, through the whole fit
        assert the_jvms_segments(spark) == []
        # ... and whatever that job misses, the janitor removes once the JVM ends.
        assert len(janitors(resident.SHM_DIR, owner=jvm_pid(spark))) == 1
        np.testing.assert_array_equal(kept.weights, copied.weights)
        assert kept.train_mse == copied.train_mse
        assert kept.test_mse == copied.test_mse
        cv_copied = cross_validate(sc, data, folds=3, iterations=4, resident=False)
        cv_kept = cross_validate(sc, data, folds=3, iterations=4, resident=True)
        for a, b in zip(cv_copied.folds, cv_kept.folds, strict=True):
            np.testing.assert_array_equal(a.weights, b.weights)
            assert a.val_mse == b.val_mse
        assert the_jvms_segments(spark) == []
        with pytest.raises(JobError, match="diverges"):  # a fit that fails removes them too
            fit_gd(sc, data, iterations=8, lr=50.0, resident=True)
        assert the_jvms_segments(spark) == []
    finally:
        data.blocks.unpersist()


def test_a_block_missing_where_its_task_runs_leaves_the_fit_to_copy_its_blocks(spark, wine_csv, capsys):
    """As when a task runs on another executor than the one that holds its
    block: the job fails, and the fit's remaining steps copy the blocks."""
    sc = spark.sparkContext
    data = load_table(spark, wine_csv, partitions=2)

    def remove_at_step_3(step, *_):
        if step == 3:
            for path in the_jvms_segments(spark):
                path.unlink()

    try:
        kept = fit_gd(sc, data, iterations=6, resident=True, on_step=remove_at_step_3)
        copied = fit_gd(sc, data, iterations=6, resident=False)
    finally:
        data.blocks.unpersist()
    np.testing.assert_array_equal(kept.weights, copied.weights)
    assert kept.train_mse == copied.train_mse
    assert f"fit: {resident.LOST} at step 4; the fit goes on copying its blocks" in capsys.readouterr().err
