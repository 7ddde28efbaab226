"""Runs the user's script for `./lab submit PATH.py`; spark-submit's primary
resource, copied beside the code zip (never imported by the host).

    spark-submit ... script_launcher.py SCRIPT [ARGS...]

Why a launcher rather than the script itself:
- spark-submit reads its primary resource as a URI: a `#` anywhere in the
  script's path would start a fragment. The launcher's path is SparkLab's;
  the script's is an ordinary argument.
- The host must know how the script ended: by its own `sys.exit(N)` (its
  business: no Spark log shown, 130 and 143 are not interrupts), by an
  exception (its traceback said why), or not at all (Spark failed before it,
  or the driver was lost: then Spark's log says why). The launcher writes
  that as a small JSON record to $SPARKLAB_SCRIPT_END, with the master of
  every SparkContext the script made (the host warns when the script's own
  `.master(...)` won over the one it was submitted to).

The script runs as `__main__` with its own path as sys.argv[0] and its own
directory first on sys.path, exactly as `python SCRIPT` would; its traceback
shows its frames only. Standard library and pyspark only.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import traceback

END_ENV = "SPARKLAB_SCRIPT_END"


def record_masters(masters: list[str]) -> None:
    """Note the master of every SparkContext the script starts (the builder,
    SparkContext(...) and SparkConf().setMaster all end in its __init__)."""
    try:
        from pyspark import SparkContext  # lazy: pyspark, loaded only when used
    except ImportError:  # not under spark-submit: nothing to note
        return
    started = SparkContext.__init__

    def init(self, *args, **kwargs):
        started(self, *args, **kwargs)
        masters.append(self.master)

    SparkContext.__init__ = init


def write_end(record: dict) -> None:
    path = os.environ.get(END_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(record, handle)


def exit_code(status: object) -> int:
    """The process exit code of `sys.exit(status)`, as Python computes it."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status & 0xFF
    return 1  # a message: printed to stderr, exit 1


def main() -> None:
    script = os.path.abspath(sys.argv[1])
    sys.argv = [script, *sys.argv[2:]]
    sys.path[0] = os.path.dirname(script)  # not the launcher's directory
    masters: list[str] = []
    record_masters(masters)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        write_end({"end": "exit", "code": exit_code(stop.code), "masters": masters})
        raise
    except BaseException as error:
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next  # the launcher's and runpy's frames are not the script's
        traceback.print_exception(type(error), error, tb or error.__traceback__)
        interrupted = isinstance(error, KeyboardInterrupt)
        write_end({"end": "exception", "code": 130 if interrupted else 1, "masters": masters})
        sys.stdout.flush()
        sys.stderr.flush()
        if interrupted:  # as Python itself ends on one: by SIGINT
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)  # as an uncaught exception would (SystemExit prints nothing more)
    write_end({"end": "exit", "code": 0, "masters": masters})


if __name__ == "__main__":
    main()
