"""Running a job as a child process of the host's command line, with Ctrl-C
and SIGTERM passed on to it exactly once, so that the job itself ends
cleanly (its own one line, its Spark application stopped, its temporary
files removed) and its exit code (130, 143) becomes ours."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable

from jobs.errors import Terminated


def run_child(command: list[str], *, on_interrupt: Callable[[int], None] | None = None, **popen) -> int:
    """Run `command` to its end and return its exit code.

    The child runs in its own session, so a terminal's Ctrl-C reaches this
    process alone; it is passed on once (SIGINT or SIGTERM, as received),
    or handed to `on_interrupt(signal)` instead, and the child is waited for.
    """
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, **popen)
    return wait_passing_signals(process, on_interrupt)


def wait_passing_signals(process: subprocess.Popen, on_interrupt: Callable[[int], None] | None = None) -> int:
    passed = False
    while True:
        try:
            return process.wait()
        except (KeyboardInterrupt, Terminated) as stop:
            if passed:  # a second interrupt: stop waiting politely
                process.kill()
                raise
            passed = True
            signum = signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT
            if on_interrupt:
                on_interrupt(signum)
            else:
                process.send_signal(signum)
