"""Blocks resident in the executors' memory for the length of a fit with one
Spark job per iteration.

Every job over a cached RDD ships each cached partition from the JVM to a
Python worker, which unpickles it: at 4 million rows 0.73 to 0.86 s an
iteration on 2 cores, where one read pass over the same rows takes about
26 ms. So for the length of a fit each block is written once into shared
memory on its executor's host (`/dev/shm`), and the fit's jobs run over an
RDD that caches only a small `Segment` naming it (the blocks' own cache
stays as it was); each iteration's task maps the segment (a Python worker keeps
its mappings between tasks, and Spark reuses its workers) and runs the
kernel over the block in place.

Linux maps shared memory in 4 KB pages (its huge pages for shared memory
are off by default), and the GD kernel over 4 KB pages took 1.3x as long
here as over numpy's own memory, which numpy asks in 2 MB pages: every 4 KB
is a TLB miss, dear in a virtual machine. So the writer puts a segment in
2 MB pages (MADV_COLLAPSE, Linux 6.1: 0.3 ms a MB here, whatever that
setting), and every mapping of it starts at a 2 MB boundary, so that it
maps them whole. Where that cannot be done, the segment is used as it is.

Failures: a lost executor loses its cached segments' names with it, and
Spark recomputes them from the blocks' lineage, writing new segments where
the tasks run again. A task run on another executor than its segment's
(Spark's locality wait ran out) fails with LOST, and the fit's remaining
steps copy the blocks (jobs.fit.loop). A block that cannot be written (no
`/dev/shm`, or too small: Docker gives a container 64 MB unless told) is
cached inline instead of its Segment: the fit is as fast as without this
module, and that block is cached twice.

Clean-up: `resident_blocks` removes its segments when the fit ends or
fails, by a job over them (not after an interrupt: no more jobs then).
Whatever that cannot reach (a segment written by a retried task, a fit
interrupted) is removed by a janitor process per executor, started with its
first segment, which waits for the executor's JVM to end and then removes
every segment written under it; and a janitor also removes
what a dead JVM's own janitor left."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import mmap
import os
import subprocess
import sys
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from jobs.errors import JobError

if TYPE_CHECKING:
    from pyspark import RDD

SHM_DIR = "/dev/shm"
PREFIX = "sparklab-blocks"

# Below this size of cached blocks a fit copies them every iteration faster
# than it would run the two jobs that write and remove their segments: the
# copy costs about 1 ms per MB here, a job about 20 to 40 ms.
RESIDENT_MIN_BYTES = 64 * 2**20


# The jobs' --resident, as the fits take it: None for auto (by size).
RESIDENT = {"auto": None, "always": True, "never": False}
RESIDENT_CHOICES = tuple(RESIDENT)


def worth_resident(rows: int, columns: int) -> bool:
    """Whether blocks of `rows` x `columns` float64 are worth keeping resident."""
    return rows * columns * 8 >= RESIDENT_MIN_BYTES


def resident_choice(choice: str) -> bool | None:
    """--resident's value as the fits take it."""
    return RESIDENT[choice]


# In the error a task raises when its resident block is not on its host (a
# task run on another executor than the one that cached its handle): the
# fit then goes on copying its blocks (jobs.fit.loop).
LOST = "sparklab: a resident block is not on this executor"


@dataclass(frozen=True)
class Segment:
    """A block written into shared memory: its file and how to read it back."""

    path: str
    kind: type  # the block's dataclass
    fields: tuple[tuple[str, tuple[int, ...], str], ...]  # name, shape, dtype

    def open(self) -> Any:
        """The block, its arrays read-only views of the file mapped (at a 2 MB
        boundary); unmapped once the last of them is gone."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            address = map_aligned(fd, size) if size else None
        finally:
            os.close(fd)
        memory: Any = b""
        if address is not None:
            memory = type("Mapping", (ctypes.c_char * size,), {}).from_address(address)
            weakref.finalize(memory, _libc.munmap, address, size)  # after the block's last array
        arrays, offset = {}, 0
        for name, shape, dtype in self.fields:
            array = np.frombuffer(memory, dtype=dtype, count=int(np.prod(shape)), offset=offset).reshape(
                shape
            )
            array.flags.writeable = False  # the pages are mapped read-only
            arrays[name] = array
            offset += array.nbytes
        return self.kind(**arrays)


@contextlib.contextmanager
def resident_blocks(blocks: RDD) -> Iterator[RDD]:
    """`blocks` as an RDD of Segments (or, where one could not be written, the
    block itself) cached for the `with` body; map each item with `attach`."""
    handles = blocks.mapPartitions(_write_segments).setName(f"{blocks.name() or 'blocks'} (resident)").cache()
    try:
        yield handles
    except JobError:  # the driver's own (a diverging fit): the executors are as they were
        remove_segments(handles)
        raise
    except BaseException:
        # Spark failed or the user interrupted: a job now could wait for
        # executors that are gone. The janitors remove them with their JVMs.
        with contextlib.suppress(Exception):
            handles.unpersist()
        raise
    else:
        removed, blocks_in_all = remove_segments(handles), handles.getNumPartitions()
        print(f"fit: {removed} of {blocks_in_all} blocks were resident in shared memory", file=sys.stderr)


def remove_segments(handles: RDD) -> int:
    """The segments removed by a job over their handles, the handles
    unpersisted: how many it removed (a task run away from its segment's host
    removes none; the janitor does, later)."""
    removed = 0
    with contextlib.suppress(Exception):
        removed = handles.mapPartitions(_remove_segments).sum()
    with contextlib.suppress(Exception):
        handles.unpersist()
    return removed


# Per Python worker process: the blocks it has mapped, by segment path.
# Workers are reused between tasks, so each maps a block once per fit.
_attached: dict[str, Any] = {}


def attach(handle: Any) -> Any:
    """The block behind `handle` (a Segment, mapped once per worker; or a block)."""
    _let_go_of_removed()
    if not isinstance(handle, Segment):
        return handle
    block = _attached.get(handle.path)
    if block is None:
        try:
            block = _attached[handle.path] = handle.open()
        except FileNotFoundError:
            raise RuntimeError(f"{LOST}: {handle.path}") from None
    return block


def _let_go_of_removed() -> None:
    """This worker's mappings of removed segments dropped: their pages are
    freed once nothing maps them (a stat per mapping, a few per worker)."""
    for path in [path for path in _attached if not os.path.exists(path)]:
        del _attached[path]  # unmapped with its arrays


def _write_segments(items):
    owner = executor_jvm()
    if owner is not None:
        start_janitor(owner)
    for item in items:
        yield _to_segment(item, owner) if owner is not None else item


def _to_segment(item: Any, owner: tuple[int, str]) -> Any:
    if not dataclasses.is_dataclass(item) or not all(
        isinstance(getattr(item, f.name), np.ndarray) for f in dataclasses.fields(item)
    ):
        return item
    arrays = [(f.name, np.ascontiguousarray(getattr(item, f.name))) for f in dataclasses.fields(item)]
    path = f"{segment_prefix(*owner)}{uuid.uuid4().hex}"
    partial = path + ".partial"
    try:
        fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)  # read: to map it
        with os.fdopen(fd, "r+b") as out:
            for _, array in arrays:
                out.write(memoryview(array).cast("B"))
            out.flush()
            with contextlib.suppress(OSError):  # in 4 KB pages then
                collapse_into_huge_pages(out.fileno(), out.tell())
        os.rename(partial, path)  # whole, or not there
    except OSError:  # no /dev/shm, or it is full: the block stays inline
        with contextlib.suppress(OSError):
            os.unlink(partial)
        return item
    return Segment(path, type(item), tuple((name, array.shape, array.dtype.str) for name, array in arrays))


def _remove_segments(handles):
    removed = 0
    for handle in handles:
        if isinstance(handle, Segment):
            with contextlib.suppress(OSError):
                os.unlink(handle.path)
                removed += 1
    _let_go_of_removed()
    yield removed


# mmap and madvise through libc: Python's mmap module can neither place a
# mapping nor name MADV_COLLAPSE.
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
HUGE_PAGE = 2 << 20
MADV_COLLAPSE = 25
MAP_FIXED, MAP_NORESERVE = 0x10, 0x4000
MAP_FAILED = ctypes.c_void_p(-1).value


def _checked(result: int | None, call: str) -> int:
    if result is None or result == MAP_FAILED:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{call}: {os.strerror(errno)}")
    return result


def map_aligned(fd: int, size: int, prot: int = mmap.PROT_READ) -> int:
    """The file's first `size` bytes mapped shared at a 2 MB boundary: its
    address. A reservation of `size` + 2 MB, the mapping placed in it, the
    rest given back."""
    reserved = _checked(
        _libc.mmap(None, size + HUGE_PAGE, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
        "mmap",
    )
    aligned = -(-reserved // HUGE_PAGE) * HUGE_PAGE
    mapped = _libc.mmap(aligned, size, prot, mmap.MAP_SHARED | MAP_FIXED, fd, 0)
    if mapped != aligned:
        _libc.munmap(reserved, size + HUGE_PAGE)
        _checked(None, "mmap")
    end = aligned + -(-size // mmap.PAGESIZE) * mmap.PAGESIZE
    if aligned > reserved:
        _libc.munmap(reserved, aligned - reserved)
    if reserved + size + HUGE_PAGE > end:
        _libc.munmap(end, reserved + size + HUGE_PAGE - end)
    return aligned


def collapse_into_huge_pages(fd: int, size: int) -> None:
    """The file's pages in shared memory moved into 2 MB pages where whole."""
    if size < HUGE_PAGE:
        return
    address = map_aligned(fd, size)
    try:
        if _libc.madvise(address, size, MADV_COLLAPSE) != 0:
            _checked(None, "madvise(MADV_COLLAPSE)")
    finally:
        _libc.munmap(address, size)


def segment_prefix(pid: int, start: str) -> str:
    return f"{SHM_DIR}/{PREFIX}-{pid}-{start}-"


def _process_stat(pid: int) -> tuple[str, int, str] | None:
    """(command name, parent pid, start time in clock ticks) from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
    return name, int(rest[1]), rest[19]


def executor_jvm() -> tuple[int, str] | None:
    """(pid, start time) of the JVM this Python worker serves: the nearest
    ancestor named java (a worker is forked by pyspark's daemon, a child of
    the executor's JVM); None where /proc cannot tell."""
    pid = os.getpid()
    for _ in range(6):
        stat = _process_stat(pid)
        if stat is None:
            return None
        name, parent, start = stat
        if name == "java":
            return pid, start
        pid = parent
    return None


# The janitor runs on its own interpreter with nothing of SparkLab's
# imported (an executor has its code only inside its tasks). Arguments: the
# owner's pid and start time, the shared-memory directory, the prefix (so
# `pgrep -f 'sparklab-blocks$'` finds it). It ends a second after its JVM.
JANITOR = r"""
import fcntl, glob, os, sys, time
pid, start, shm, prefix = sys.argv[1:5]

def alive(pid, start):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z" and fields[19] == start  # a zombie has ended
    except (OSError, IndexError):
        return False

def holds(lock):
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except OSError:
        os.close(fd)
        return None

def clear(pid, start):
    for path in glob.glob(f"{shm}/{prefix}-{pid}-{start}-*"):
        try:
            os.unlink(path)
        except OSError:
            pass
    try:
        os.unlink(f"{shm}/{prefix}-{pid}-{start}.lock")
    except OSError:
        pass

if holds(f"{shm}/{prefix}-{pid}-{start}.lock") is None:
    sys.exit(0)  # another janitor has this JVM
for lock in glob.glob(f"{shm}/{prefix}-*.lock"):  # what dead JVMs' janitors left
    try:
        other_pid, other_start = lock[len(f"{shm}/{prefix}-") : -len(".lock")].split("-")
    except ValueError:
        continue  # not a lock of ours
    if (other_pid, other_start) == (pid, start) or alive(other_pid, other_start):
        continue
    if holds(lock) is not None:
        clear(other_pid, other_start)
while alive(pid, start):
    time.sleep(1)
clear(pid, start)
"""


def start_janitor(owner: tuple[int, str]) -> None:
    """A janitor for the JVM `owner`, unless one already holds its lock."""
    pid, start = owner
    lock = f"{SHM_DIR}/{PREFIX}-{pid}-{start}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # held: a janitor runs
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):  # no janitor: the segments live as long as the host's memory
        _start_janitor_process(pid, start)


def _start_janitor_process(pid: int, start: str) -> None:
    subprocess.Popen(
        [sys.executable, "-c", JANITOR, str(pid), start, SHM_DIR, PREFIX],
        executable=sys.executable,
        start_new_session=True,  # not stopped with the worker's process group
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
