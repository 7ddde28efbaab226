"""Running a job as a child process of the host's command line, with Ctrl-C
and SIGTERM passed on to it exactly once, so that the job itself ends
cleanly (its own one line, its Spark application stopped, its temporary
files removed) and its exit code (130, 143) becomes ours.

Every such child runs under `watchdog.py`: when `./lab` dies without a
chance to pass anything on (SIGKILL, SIGHUP, a closed terminal), or the
child exits leaving processes behind, the watchdog ends the whole tree.
"""

from __future__ import annotations

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
    return wait_passing_signals(start_watched(command, signal_group=False, **popen), on_interrupt)


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
