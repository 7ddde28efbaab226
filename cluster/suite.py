"""`./lab test`: the suite in concurrent streams of pytest, each its own
process. Part of a cluster test's time is spent waiting on containers
(executors registering, a killed worker noticed, a health check's interval),
so streams with clusters of their own, and the tests that need none, overlap
on 2 cores: 17m51s in four streams against 37m29s in two here, until both
cores are busy throughout (docs/measurements/2026-12-06.md). The images are built first, once, so that
no two streams build the same image.

Each stream's report is printed whole when it ends, the first one's as it
runs; the exit code is the first failing stream's.

The suite's JVMs compile at the JVM's own threshold, not at .env's 30x lower
one (`suite_jvm_options`): its applications are short, and there the early
compiling costs more than it gives back. Measured here: a word count on the
cluster took 17 CPU-s instead of 22 from `./lab` to its end, in 14.3 s
instead of 16.2; a 50-iteration fit 27 CPU-s instead of 29 (its fit 8.4 s
instead of 7.0, the application as long). The options decide no result."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass

from cluster import images, settings
from cluster.engine import engine_problem
from jobs.runtime.session import JVM_OPTIONS_ENV

NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


@dataclass(frozen=True)
class Stream:
    name: str
    args: tuple[str, ...]  # pytest's selection


# The shared-cluster tests in two halves of about equal time (each half
# starts a cluster of its own: the `cluster` fixture is per process), the
# tests that start hosts and clusters of their own, and the rest. A new
# cluster test module lands in the second half by itself. The cluster
# streams collect tests/cluster alone (every cluster test lives there), not
# the whole suite: 2 CPU-s a stream instead of 6.
CLUSTER_TESTS = "tests/cluster"
FIRST_HALF = (
    "tests/cluster/test_runtimes.py",
    "tests/cluster/test_shared_service.py",
    "tests/cluster/test_two_checkouts.py",
    "tests/cluster/test_ui_browser.py",
)
CLUSTER_STREAMS = (
    Stream("cluster tests (first half)", ("-m", "cluster and not hosts", *FIRST_HALF)),
    Stream(
        "cluster tests (second half)",
        ("-m", "cluster and not hosts", CLUSTER_TESTS, *(f"--ignore={path}" for path in FIRST_HALF)),
    ),
    Stream("tests with hosts of their own", ("-m", "hosts", CLUSTER_TESTS)),
)
REST = Stream("tests without the cluster", ("-m", "not cluster"))


def streams(cluster: bool, no_cluster: bool) -> tuple[Stream, ...]:
    if cluster:
        return CLUSTER_STREAMS
    if no_cluster:
        return (REST,)
    return (*CLUSTER_STREAMS, REST)


def build_images_first() -> None:
    """The Spark and notebook images for this content, before any stream
    starts (a no-op when they exist). Without Docker, nothing: the cluster
    tests then say why themselves (and fail where they are required)."""
    if engine_problem():
        return
    started = time.monotonic()
    try:
        images.build_notebook()  # and the Spark image under it
    except images.ImageError as error:  # the cluster tests then fail, each saying why
        print(f"test: the images could not be built: {error}", flush=True)
        return
    print(f"test: the images are ready ({time.monotonic() - started:.0f} s)", flush=True)


COMPILE_THRESHOLD = re.compile(r"\s*-XX:CompileThresholdScaling=\S+")


def suite_jvm_options(configured: str) -> str:
    """The JVM options `configured` (.env's) at the JVM's own compile threshold."""
    return COMPILE_THRESHOLD.sub("", configured).strip()


def suite_env() -> dict[str, str]:
    """The streams' environment: the suite's JVM options, unless the caller set some."""
    if os.environ.get(JVM_OPTIONS_ENV):
        return dict(os.environ)
    return os.environ | {JVM_OPTIONS_ENV: suite_jvm_options(settings.setting(JVM_OPTIONS_ENV))}


def run(pytest: list[str], selected: tuple[Stream, ...]) -> int:
    """Run the streams side by side; print each report; one exit code."""
    if any(stream in CLUSTER_STREAMS for stream in selected):
        build_images_first()
    env = suite_env()
    if len(selected) == 1:
        return subprocess.run([*pytest, *selected[0].args], check=False, env=env).returncode
    first, *others = selected
    print(f"test: {len(selected)} streams side by side: " + "; ".join(s.name for s in selected), flush=True)
    with contextlib.ExitStack() as stack:
        outputs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in others]
        running = [
            subprocess.Popen(
                [*pytest, *stream.args, "-p", "no:cacheprovider"],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=settings.ROOT,
                env=env,
            )
            for stream, output in zip(others, outputs, strict=True)
        ]
        try:
            print(f"\n--- {first.name} ---", flush=True)
            first_run = subprocess.run([*pytest, *first.args], check=False, cwd=settings.ROOT, env=env)
            codes = [first_run.returncode]
            codes += [process.wait() for process in running]
        finally:
            for process in running:
                if process.poll() is None:
                    process.kill()
        for stream, output in zip(others, outputs, strict=True):
            output.seek(0)
            print(f"\n--- {stream.name} ---\n" + output.read(), flush=True)
    return combined_exit_code(*codes)


def combined_exit_code(*codes: int) -> int:
    """One exit code for several pytest runs: the first failure's; pytest's 5
    ("no tests collected", e.g. `-k` matched only one side) only if all said it."""
    failed = [code for code in codes if code not in (0, NO_TESTS_COLLECTED)]
    if failed:
        return failed[0]
    return NO_TESTS_COLLECTED if all(code == NO_TESTS_COLLECTED for code in codes) else 0
