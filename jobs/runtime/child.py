"""Running a job as a child process of the host's command line, with Ctrl-C
and SIGTERM passed on to it exactly once, so that the job itself ends
cleanly (its own one line, its Spark application stopped, its temporary
files removed) and its exit code (130, 143) becomes ours.

Every such child runs under `watchdog.py`: when `./lab` dies without a
chance to pass anything on (SIGKILL, SIGHUP, a closed terminal), or the
child exits leaving processes behind, the watchdog ends the whole tree.

The child's stderr passes through `ShutdownNoise`: when a local session
stops, the JVM closes the sockets of its idle (reused) Python workers, and a
worker that notices before pyspark's daemon ends it prints a BrokenPipeError
traceback, which the JVM relays to our stderr (about one run in four, after
the result). That one traceback, and only it, is left out.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, NamedTuple

from jobs.errors import Terminated

WATCHDOG = Path(__file__).with_name("watchdog.py")


class ChildEnd(NamedTuple):
    """How a child ended: its exit code, and the signal THIS process received
    and passed on while waiting (None: the code is the child's own doing)."""

    code: int
    received: int | None


def start_watched(command: list[str], *, signal_group: bool, **popen) -> subprocess.Popen:
    """Start `command` under the watchdog, in a session of its own (a terminal's
    Ctrl-C reaches this process alone). `signal_group`: the caller signals the
    whole group (os.killpg on the returned pid); otherwise it signals the
    watchdog, which passes the signal on to `command` alone."""
    mode = "group" if signal_group else "child"
    return subprocess.Popen(
        [sys.executable, "-I", str(WATCHDOG), mode, "--", *command],
        stdin=subprocess.PIPE,  # never written: it closes when this process ends, however
        start_new_session=True,
        **popen,
    )


def run_child(command: list[str], *, on_interrupt: Callable[[int], None] | None = None, **popen) -> int:
    """Run `command` to its end and return its exit code.

    The child runs in its own session, so a terminal's Ctrl-C reaches this
    process alone; it is passed on once (SIGINT or SIGTERM, as received),
    or handed to `on_interrupt(signal)` instead, and the child is waited for.
    """
    if "stderr" in popen:
        process = start_watched(command, signal_group=False, **popen)
        return wait_passing_signals(process, on_interrupt)
    process = start_watched(command, signal_group=False, stderr=subprocess.PIPE, **popen)
    noise = ShutdownNoise()
    reader = read_lines(process.stderr, lambda line: _to_stderr(noise.feed(line)))
    try:
        return wait_passing_signals(process, on_interrupt)
    finally:
        reader.join(timeout=5)
        _to_stderr(noise.close())


def _to_stderr(lines: list[str]) -> None:
    if not lines:
        return
    sys.stderr.flush()
    buffer = getattr(sys.stderr, "buffer", None)
    if buffer is None:
        sys.stderr.write("".join(lines))
        sys.stderr.flush()
        return
    buffer.write(b"".join(encode_line(line) for line in lines))
    buffer.flush()


class ShutdownNoise:
    """Passes stderr lines on, except the traceback of a pyspark worker that
    found its socket closed by the JVM (BrokenPipeError or ConnectionResetError,
    every frame in pyspark itself), and a traceback's bare first line left by
    a worker killed while printing it (at the end of the stream). Every other
    traceback passes whole, once its last line has come."""

    HEADER = "Traceback (most recent call last):"
    CLOSED = re.compile(r"^(?:BrokenPipeError|ConnectionResetError)\b")
    FRAME = re.compile(r'^\s+File "([^"]*)"')

    def __init__(self) -> None:
        self.block: list[str] = []  # a traceback being read

    def feed(self, line: str) -> list[str]:
        """The lines to print now, given the next one."""
        if not self.block:
            if line.rstrip("\n") == self.HEADER:
                self.block = [line]
                return []
            return [line]
        if line[:1].isspace() or line.rstrip("\n") == self.HEADER:
            self.block.append(line)
            return []
        block, self.block = [*self.block, line], []
        return [] if self.is_noise(block) else block

    def close(self) -> list[str]:
        """The end of the stream: a traceback cut short there is a killed worker's."""
        block, self.block = self.block, []
        return [] if len(block) == 1 else block

    def is_noise(self, block: list[str]) -> bool:
        frames = [match.group(1) for line in block if (match := self.FRAME.match(line))]
        in_pyspark = bool(frames) and all("/pyspark/" in frame for frame in frames)
        return in_pyspark and bool(self.CLOSED.match(block[-1]))


def wait_passing_signals(process: subprocess.Popen, on_interrupt: Callable[[int], None] | None = None) -> int:
    return wait_for_child(process, on_interrupt).code


def wait_for_child(process: subprocess.Popen, on_interrupt: Callable[[int], None] | None = None) -> ChildEnd:
    """Wait for `process`, passing a Ctrl-C or SIGTERM on once (a second one
    kills it and is raised); returns its end and which signal was passed on."""
    received: int | None = None
    while True:
        try:
            return ChildEnd(process.wait(), received)
        except (KeyboardInterrupt, Terminated) as stop:
            if received is not None:  # a second interrupt: stop waiting politely
                process.kill()
                raise
            received = signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT
            if on_interrupt:
                on_interrupt(received)
            else:
                process.send_signal(received)


def decode(line: bytes) -> str:
    """A line of a child's output as text: bytes that are not UTF-8 kept as
    surrogates (`encode_line` gives them back), never an error that would stop
    the reader and leave the child blocked on a full pipe."""
    return line.decode("utf-8", errors="surrogateescape")


def encode_line(line: str) -> bytes:
    """The bytes of a line `decode` made, exactly as the child wrote them."""
    return line.encode("utf-8", errors="surrogateescape")


def read_lines(stream: IO[bytes], on_line: Callable[[str], None]) -> threading.Thread:
    """A started thread that hands every line of a binary `stream` to `on_line`, to its end."""

    def read() -> None:
        for line in stream:
            on_line(decode(line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader
