"""The local sessions' Python worker daemon (jobs/runtime/daemon/sparklab_daemon.py),
run on pyspark's own worker code and a real socket whose other end is
closed, as the stopping JVM leaves it; no JVM."""

import importlib.util
import os
import signal
import socket

import pytest

from jobs.runtime.session import LOCAL_DAEMON_DIR, WORKER_PYTHONPATH, session_settings

# pyspark's worker() resets these for the forked worker it expects to be.
WORKER_SIGNALS = (signal.SIGHUP, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT)


@pytest.fixture
def sparklab_daemon(monkeypatch):
    # The JVM sets this for its daemon (spark.python.daemon.killWorkerOnFlushFailure).
    monkeypatch.setenv("PYTHON_DAEMON_KILL_WORKER_ON_FLUSH_FAILURE", "true")
    handlers = {signum: signal.getsignal(signum) for signum in WORKER_SIGNALS}
    spec = importlib.util.spec_from_file_location("sparklab_daemon", LOCAL_DAEMON_DIR / "sparklab_daemon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.fixture
def a_socket_the_jvm_closed():
    ours, jvms = socket.socketpair()
    jvms.close()
    with ours:
        yield ours


def test_pysparks_worker_raises_on_a_socket_the_jvm_closed(sparklab_daemon, a_socket_the_jvm_closed):
    # The traceback pyspark's daemon prints after about one local run in four.
    import pyspark.daemon

    with pytest.raises(BrokenPipeError):
        pyspark.daemon.worker(a_socket_the_jvm_closed, True)


def test_sparklab_daemons_worker_ends_quietly_with_a_code(sparklab_daemon, a_socket_the_jvm_closed, capfd):
    assert sparklab_daemon.worker(a_socket_the_jvm_closed, True) == 1
    assert "Traceback" not in capfd.readouterr().err


@pytest.fixture
def local_environment(monkeypatch):
    # A local session's settings set these for the JVM it starts: kept to this test.
    for name in ("PYSPARK_PYTHON", "SPARK_LOCAL_IP"):
        monkeypatch.delenv(name, raising=False)


def test_local_sessions_start_their_workers_from_it_a_callers_pythonpath_after_it(local_environment):
    settings = session_settings("local[2]", {WORKER_PYTHONPATH: "/theirs"})
    assert settings["spark.python.daemon.module"] == "sparklab_daemon"
    assert (LOCAL_DAEMON_DIR / "sparklab_daemon.py").is_file()
    assert settings[WORKER_PYTHONPATH] == os.pathsep.join([str(LOCAL_DAEMON_DIR), "/theirs"])


def test_cluster_sessions_keep_pysparks_daemon_and_the_callers_pythonpath():
    settings = session_settings("spark://master:7077", {WORKER_PYTHONPATH: "/theirs"})
    assert "spark.python.daemon.module" not in settings
    assert settings[WORKER_PYTHONPATH] == "/theirs"
