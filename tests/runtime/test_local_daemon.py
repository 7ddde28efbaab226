"""The local sessions' Python worker daemon (jobs/runtime/daemon/sparklab_daemon.py),
run on pyspark's own worker code and a real socket whose other end is
closed, as the stopping JVM leaves it; no JVM."""

import importlib.util
import socket

import pytest

from jobs.runtime.session import LOCAL_DAEMON_DIR, _local_settings


@pytest.fixture
def sparklab_daemon(monkeypatch):
    # The JVM sets this for its daemon (spark.python.daemon.killWorkerOnFlushFailure).
    monkeypatch.setenv("PYTHON_DAEMON_KILL_WORKER_ON_FLUSH_FAILURE", "true")
    spec = importlib.util.spec_from_file_location("sparklab_daemon", LOCAL_DAEMON_DIR / "sparklab_daemon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def a_socket_the_jvm_closed() -> socket.socket:
    ours, jvms = socket.socketpair()
    jvms.close()
    return ours


def test_pysparks_worker_raises_on_a_socket_the_jvm_closed(sparklab_daemon):
    # The traceback pyspark's daemon prints after about one local run in four.
    import pyspark.daemon

    with pytest.raises(BrokenPipeError):
        pyspark.daemon.worker(a_socket_the_jvm_closed(), True)


def test_sparklab_daemons_worker_ends_quietly_with_a_code(sparklab_daemon, capfd):
    assert sparklab_daemon.worker(a_socket_the_jvm_closed(), True) == 1
    assert "Traceback" not in capfd.readouterr().err


def test_local_sessions_start_their_python_workers_from_it():
    settings = _local_settings()
    assert settings["spark.python.daemon.module"] == "sparklab_daemon"
    assert (LOCAL_DAEMON_DIR / "sparklab_daemon.py").is_file()
    assert settings["spark.executorEnv.PYTHONPATH"] == str(LOCAL_DAEMON_DIR)
