"""How a command that failed ended: its one line on stderr (what the user
reads), or, when whoever started it asks for one (SPARKLAB_ERROR_RECORD, a
path), a small JSON record there instead: kind, message, file and line where
the error names them, exit code. The host asks for it for every run in the
driver container and reads it (cluster.driver.read_error_record) instead of
matching the run's text. Host and driver only (jobs.report)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from jobs.errors import JobError
from jobs.report.files import write_json_atomic

ERROR_RECORD_ENV = "SPARKLAB_ERROR_RECORD"
# The kinds: a JobError (bad input, a bad setup: exit 2); Spark's own failure
# (exit 1); a run ended by Ctrl-C or SIGTERM (130, 143).
ERROR, FAILED, INTERRUPTED = "error", "failed", "interrupted"


def said_or_recorded(said: str, kind: str, message: str, exit_code: int, **where) -> int:
    """A failed run's last word: the line `said` on stderr, or, when whoever
    started the run asked for a record (SPARKLAB_ERROR_RECORD), the record
    instead, and that caller says it once in its own words. `where`: path
    and line, when the error names a place in a file. Returns `exit_code`."""
    target = os.environ.get(ERROR_RECORD_ENV)
    if target:
        record = {"kind": kind, "message": message, "path": None, "line": None, "exit_code": exit_code}
        try:
            write_json_atomic(Path(target), record | where)
            return exit_code
        except OSError:  # a full or read-only disk: the line, as without a record
            pass
    print(said, file=sys.stderr)
    return exit_code


def ended_by(prog: str, error: JobError) -> int:
    """A command ended by a JobError: `PROG: error: MESSAGE` (or its record),
    and the exit code for the command to return."""
    return said_or_recorded(
        f"{prog}: {ERROR}: {error}", ERROR, str(error), error.exit_code, path=error.path, line=error.line
    )


def read_record(text: str) -> dict | None:
    """A record as written above, or None when `text` is none (cut short as
    the run died, or never written)."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
