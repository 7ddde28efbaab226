"""jobs.runtime.child's stderr filter (no Spark): pyspark's worker shutdown
noise is left out, every other line and traceback passes whole."""

from jobs.runtime.child import ShutdownNoise

DAEMON = "/work/.venv/lib/python3.11/site-packages/pyspark/daemon.py"
WORKER_SHUTDOWN = [
    "Traceback (most recent call last):\n",
    f'  File "{DAEMON}", line 251, in manager\n',
    "    code = worker(sock, authenticated)\n",
    f'  File "{DAEMON}", line 95, in worker\n',
    "    outfile.flush()\n",
    "BrokenPipeError: [Errno 32] Broken pipe\n",
]


def passed(lines: list[str]) -> list[str]:
    noise = ShutdownNoise()
    out = [kept for line in lines for kept in noise.feed(line)]
    return out + noise.close()


def test_the_workers_broken_pipe_at_shutdown_is_left_out():
    result = ['{"job": "gd"}\n', *WORKER_SHUTDOWN, "after\n"]
    assert passed(result) == ['{"job": "gd"}\n', "after\n"]


def test_a_traceback_cut_short_at_the_end_is_left_out_and_one_in_the_middle_is_not():
    assert passed(["done\n", "Traceback (most recent call last):\n"]) == ["done\n"]
    cut = ["Traceback (most recent call last):\n", "26/12/06 WARN something\n"]
    assert passed(cut) == cut


def test_a_broken_pipe_with_a_frame_outside_pyspark_passes():
    mine = [*WORKER_SHUTDOWN[:3], '  File "/work/jobs/gd.py", line 9, in step\n', *WORKER_SHUTDOWN[3:]]
    assert passed(mine) == mine


def test_another_error_in_pyspark_passes():
    other = [*WORKER_SHUTDOWN[:-1], "MemoryError\n"]
    assert passed(other) == other


def test_ordinary_lines_pass_as_they_come():
    noise = ShutdownNoise()
    assert noise.feed("[gd] step 1/2\n") == ["[gd] step 1/2\n"]
    assert noise.feed("  indented, but no traceback\n") == ["  indented, but no traceback\n"]
    assert noise.close() == []
