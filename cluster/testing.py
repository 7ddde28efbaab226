"""`./lab test`: the whole suite, the cluster tests and the rest side by side."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile

NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


def run_tests(c, k: str | None, marker: str | None) -> int:
    """pytest (`-k k`) on the tests of `marker`, or on all of them side by side; its exit code."""
    pytest = [sys.executable, "-m", "pytest", *(["-k", k] if k else [])]
    if marker:
        return c.run(shlex.join([*pytest, "-m", marker]), warn=True, pty=False).exited
    return cluster_and_the_rest_side_by_side(pytest)


def cluster_and_the_rest_side_by_side(pytest: list[str]) -> int:
    """The cluster tests spend much of their time waiting on containers (JVMs
    starting, workers registering, a killed worker noticed): the rest of the
    suite runs beside them, its report printed when both are done."""
    with tempfile.TemporaryFile(mode="w+") as rest_output:
        rest = subprocess.Popen(
            [*pytest, "-m", "not cluster", "-p", "no:cacheprovider"],
            stdout=rest_output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            print("test: the cluster tests here; the rest beside them, reported after", flush=True)
            cluster_code = subprocess.run([*pytest, "-m", "cluster"], check=False).returncode
            rest_code = rest.wait()
        finally:
            if rest.poll() is None:
                rest.kill()
        rest_output.seek(0)
        print("\n--- the tests without the cluster ---\n" + rest_output.read(), flush=True)
    return combined_exit_code(cluster_code, rest_code)


def combined_exit_code(*codes: int) -> int:
    """One exit code for several pytest runs: the first failure's; pytest's 5
    ("no tests collected", e.g. `-k` matched only one side) only if all said it."""
    failed = [code for code in codes if code not in (0, NO_TESTS_COLLECTED)]
    if failed:
        return failed[0]
    return NO_TESTS_COLLECTED if all(code == NO_TESTS_COLLECTED for code in codes) else 0
