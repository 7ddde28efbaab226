"""The one error type a job raises for bad input or a bad setup.

Its message is a single line that names the file (and line) and says what is
wrong or what to run; the command that ran the job says it in one line and
exits 2 (`jobs.report.failure.ended_by`), so the user never has to read a Java stack trace to
learn that a field is not a number.
"""

from __future__ import annotations

import re
import signal


class JobError(Exception):
    """A user-facing failure: bad input, bad option, missing data or cluster.
    `path` and `line` say where, when the error is about a place in a file
    (the record of jobs.report.failure carries them)."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line

    @classmethod
    def at(cls, path: str, line: int | None, what: str) -> JobError:
        """`PATH:LINE: WHAT` (or `PATH: WHAT`), with the place kept as data."""
        return cls(f"{path}:{line}: {what}" if line else f"{path}: {what}", path=path, line=line)


class Terminated(BaseException):
    """SIGTERM as an exception (like KeyboardInterrupt for SIGINT), so that
    `finally` blocks, `spark.stop()` and atexit clean-ups run before exit 143."""

    exit_code = 143
    # Set by the handler: when the same SIGTERM also ended the JVM (a whole
    # process group stopped), py4j's own error may surface first.
    received = False


def raise_on_sigterm() -> None:
    """From now on SIGTERM raises Terminated in the main thread."""

    def handler(signum, frame):
        Terminated.received = True
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)


def interrupt_exit_code(stop: BaseException) -> int:
    """130 for Ctrl-C (SIGINT), 143 for SIGTERM: the shell's own codes."""
    return Terminated.exit_code if isinstance(stop, Terminated) else 130


# A line that names an exception: Java's (`java.io.IOException: ...`, also as
# py4j's `: X: ...` and `Caused by: X: ...`) or Python's (`ValueError: ...`).
_EXCEPTION_LINE = re.compile(
    r"^(?:Caused by: |: )?(?:[A-Za-z_$][\w$]*\.)*([A-Za-z_$][\w$]*(?:Error|Exception))(?::\s*(.*))?$"
)


def one_line(error: BaseException) -> str:
    """A Java or Python error squeezed to its most telling line: the deepest
    cause, as `ShortClassName: message`.

    py4j's first line (`An error occurred while calling o40.partitions.`) says
    only where; the Java exception follows it, then its `Caused by:` chain.
    Of the exceptions that carry the deepest cause's message, the outermost
    names it (InvalidInputException, not the IOException inside it).
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes: list[tuple[str, str]] = []
    for line in lines:
        match = _EXCEPTION_LINE.match(line)
        while match:  # `X: Y: message` is X wrapping Y
            name, message = match.group(1), (match.group(2) or "").strip()
            inner = _EXCEPTION_LINE.match(message)
            causes.append((name, message if not inner else ""))
            match = inner
    causes = [(name, message) for name, message in causes if message] or causes
    if not causes:
        return lines[0] if lines else type(error).__name__
    deepest = causes[-1][1]
    name = next(name for name, message in causes if message == deepest)
    return f"{name}: {deepest}" if deepest else name


def last_line(said: str | bytes | None, default: str = "?") -> str:
    """The last line of a failed command's output that is not blank, stripped
    (bytes decoded, what is not UTF-8 replaced), or `default` when it said nothing."""
    if isinstance(said, bytes):
        said = said.decode(errors="replace")
    lines = [line.strip() for line in (said or "").splitlines() if line.strip()]
    return lines[-1] if lines else default
