"""jobs.runtime.standalone's pure parts: the master's UI address and its live workers."""

import pytest

from jobs.runtime.standalone import alive_workers, master_web_url


@pytest.fixture(autouse=True)
def no_webui_override(monkeypatch):
    monkeypatch.delenv("SPARKLAB_MASTER_WEBUI", raising=False)


@pytest.mark.parametrize(
    ("master", "url"),
    [
        ("spark://master:7077", "http://master:8080"),
        ("spark://10.0.0.5:7077", "http://10.0.0.5:8080"),
        ("spark://m1:7077,m2:7077", "http://m1:8080"),  # the first of an HA list
        ("spark://master", "http://master:8080"),
    ],
)
def test_master_web_url_is_port_8080_on_the_masters_host(master, url):
    assert master_web_url(master) == url


def test_master_web_url_takes_the_environments_address_first(monkeypatch):
    monkeypatch.setenv("SPARKLAB_MASTER_WEBUI", "http://127.0.0.1:49153")
    assert master_web_url("spark://master:7077") == "http://127.0.0.1:49153"


def test_alive_workers_leaves_out_dead_and_unknown_workers():
    state = {
        "status": "ALIVE",
        "workers": [
            {"id": "w1", "state": "ALIVE", "cores": 1},
            {"id": "w2", "state": "DEAD", "cores": 1},
            {"id": "w3", "state": "ALIVE", "cores": 2},
            {"id": "w4", "state": "DECOMMISSIONED"},
            {"id": "w5"},
        ],
    }
    assert [w["id"] for w in alive_workers(state)] == ["w1", "w3"]


def test_a_master_without_workers_has_no_live_ones():
    assert alive_workers({"status": "ALIVE", "workers": []}) == []
    assert alive_workers({"status": "STANDBY"}) == []
