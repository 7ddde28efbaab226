"""The watchdog between `./lab` and a process tree it starts here (a local
spark-submit, `python -m jobs`): it ends the whole tree when the run ends or
when `./lab` dies, however it dies.

    python -I watchdog.py {group|child} -- COMMAND...

It runs as the leader of a session of its own (the parent starts it with
`start_new_session`), starts COMMAND in it and waits for it. Its stdin is a
pipe from the parent that is never written: end of file means the parent is
gone (SIGKILL, SIGHUP, a closed terminal), and the whole tree is ended.
When COMMAND exits, whatever it left (a script that ignores SIGINT, a JVM
still shutting down, pyspark's daemons, which make process groups of their
own) gets a moment to leave, then SIGINT, SIGTERM and SIGKILL, each after a
bounded wait. On Linux the watchdog is the tree's subreaper (prctl through
ctypes), so orphans become its children: it knows exactly when none is
left, and reaps them; elsewhere, the parent's death ends the process group.

Signals: in `child` mode a SIGINT or SIGTERM sent to the watchdog is passed
on to COMMAND alone (it ends itself cleanly, as `python -m jobs` does); in
`group` mode the parent signals the whole group and the watchdog ignores its
own copy. Its exit code is COMMAND's (128+N when a signal N ended it).

Standard library only, and run with -I: it must start from any directory,
with nothing of the project's on its path (this file is copied nowhere).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

GRACE_SECONDS = 3.0  # for what COMMAND leaves behind to exit on its own (a JVM's shutdown)
ESCALATION = ((signal.SIGINT, 3.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0))
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def become_subreaper() -> bool:
    """Orphans of the tree become our children (Linux only); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap() -> bool:
    """Reap what has exited; True while any child (any descendant, as subreaper) is left."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def descendants() -> list[int]:
    """Every process below this one (from /proc): the tree this watchdog started,
    pyspark's daemons included (they make process groups of their own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def end_tree(subreaper: bool, grace: float) -> None:
    """End every process this watchdog started and their descendants: `grace`
    seconds to leave on their own, then SIGINT, SIGTERM, SIGKILL, each with a
    bounded wait. Without a subreaper (not Linux), the process group instead."""
    if not subreaper:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # our own copy of the group's signal
        with contextlib.suppress(ProcessLookupError):
            os.killpg(0, signal.SIGTERM)
        return
    for signum, wait in ((None, grace), *ESCALATION):
        if signum is not None:
            for pid in descendants():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
        deadline = time.monotonic() + wait
        while reap():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            return


def main(argv: list[str]) -> int:
    mode, dashes, *command = argv
    if mode not in ("group", "child") or dashes != "--" or not command:
        print("usage: watchdog.py {group|child} -- COMMAND...", file=sys.stderr)
        return 2
    subreaper = become_subreaper()
    process: subprocess.Popen | None = None

    def pass_on(signum, frame):
        if mode == "child" and process is not None and process.poll() is None:
            process.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, pass_on)
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)

    def watch_parent() -> None:
        while os.read(0, 4096):
            pass
        # The parent is gone: nobody will read an exit code; end everything now.
        end_tree(subreaper, grace=0)
        os._exit(1)

    threading.Thread(target=watch_parent, daemon=True).start()
    while True:
        try:
            code = process.wait()
            break
        except InterruptedError:
            continue
    if subreaper:  # elsewhere the group is left as it was before the watchdog
        end_tree(subreaper, GRACE_SECONDS)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
