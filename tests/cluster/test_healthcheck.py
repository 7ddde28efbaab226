"""The containers' healthcheck reads Spark's JSON over a plain socket (no Docker)."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cluster.settings import ROOT

spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "cluster" / "images" / "healthcheck.py")
healthcheck = importlib.util.module_from_spec(spec)
spec.loader.exec_module(healthcheck)

MASTER = {"status": "ALIVE", "workers": [{"state": "ALIVE"}] * 3, "padding": "x" * 200_000}


class Spark(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/json/":
            body = json.dumps(MASTER).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Spark)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_a_json_answer_is_read_whole(port):
    assert healthcheck.get_json(port, "/json/") == MASTER  # past one recv's 64 KB


def test_an_error_status_is_not_ready(port):
    with pytest.raises(OSError, match="404"):
        healthcheck.get_json(port, "/missing")


def test_nothing_listening_is_not_ready(port):
    with pytest.raises(ConnectionRefusedError):
        healthcheck.get_json(1, "/json/")
