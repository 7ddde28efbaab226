"""The containers' healthcheck (cluster/images/healthcheck.sh), run by bash
here against a local HTTP server that answers as Spark does (no Docker)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster.settings import ROOT

HEALTHCHECK = ROOT / "cluster" / "images" / "healthcheck.sh"


def spark_json(payload: dict) -> bytes:
    """JSON as Spark's UI writes it: pretty, with " : " between key and value."""
    return json.dumps(payload, indent=2).replace('": ', '" : ').encode()


# Past one read of 64 KB: the whole answer is read.
PADDING = "x" * 200_000
ANSWERS = {
    "/json/": spark_json({"padding": PADDING, "url": "spark://master:7077", "status": "ALIVE"}),
    # Only the master's own status counts, not one nested deeper.
    "/standby/json/": spark_json({"status": "STANDBY", "workers": [{"state": "ALIVE", "status": "ALIVE"}]}),
    "/worker/json/": spark_json({"id": "worker-1", "masterurl": "spark://master:7077"}),
    "/unregistered/json/": spark_json({"id": "worker-1", "masterurl": ""}),
}


class Spark(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/api/v1/applications"):
            body = b"[]"
        else:  # the server's prefix picks which Spark it plays
            body = ANSWERS.get(self.server.prefix + self.path)  # type: ignore[attr-defined]
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(prefix: str = "") -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Spark)
        server.prefix = prefix  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()


def check(role: str, port: int | None = None) -> subprocess.CompletedProcess:
    args = [role] if port is None else [role, str(port)]
    return subprocess.run(["bash", str(HEALTHCHECK), *args], capture_output=True, text=True, timeout=10)


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_alive_master_is_ready_whatever_the_size_of_its_answer(serve):
    assert check("master", serve()).returncode == 0


def test_a_master_in_standby_is_not_ready_though_its_workers_are_alive(serve):
    done = check("master", serve("/standby"))
    assert done.returncode == 1
    assert done.stdout.startswith("not ready: GET /json/ lacks"), done.stdout


def test_a_worker_is_ready_once_it_names_its_master(serve):
    assert check("worker", serve("/worker")).returncode == 0
    done = check("worker", serve("/unregistered"))
    assert (done.returncode, done.stdout.split(":")[0]) == (1, "not ready")


def test_the_history_server_is_ready_when_its_api_answers(serve):
    assert check("history", serve()).returncode == 0


def test_an_error_status_is_not_ready_and_says_it(serve):
    done = check("notebook", serve())  # no /login here: 404
    assert done.returncode == 1
    assert "answered HTTP/1.0 404" in done.stdout, done.stdout


def test_nothing_listening_is_not_ready(serve):
    port = free_port()
    for role in ("master", "connect"):
        done = check(role, port)
        assert done.returncode == 1, role
        assert done.stdout.strip() == f"not ready: nothing listens on port {port}", done.stdout


def test_a_server_that_accepts_and_never_answers_is_not_ready_within_seconds():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        done = check("history", silent.getsockname()[1])  # its own timeout, not check()'s 10 s
    assert done.returncode == 1
    assert done.stdout.startswith("not ready: GET /api/v1/applications?limit=1 answered"), done.stdout


def test_a_listening_connect_port_is_ready(serve):
    assert check("connect", serve()).returncode == 0


def test_the_driver_is_ready_once_its_conf_is_written(tmp_path):
    env = {"SPARK_CONF_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = ["bash", str(HEALTHCHECK), "driver"]
    assert subprocess.run(run, env=env, capture_output=True).returncode == 1
    (tmp_path / "spark-defaults.conf").write_text("spark.authenticate true\n")
    assert subprocess.run(run, env=env, capture_output=True).returncode == 0


def test_an_unknown_role_is_a_usage_error():
    done = check("pilot")
    assert done.returncode == 2
    assert "no role 'pilot'" in done.stdout
