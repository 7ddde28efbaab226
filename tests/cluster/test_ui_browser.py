"""The Spark UIs in a real browser (headless Chromium, JavaScript run): the
master with its workers, worker and application pages through the master's
reverse proxy, the history server. Screenshots land in results/ui-test/."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request

import pytest

from cluster import applications, browser, lifecycle, scripts, settings
from jobs.waiting import NotReady, wait_until
from tests.cluster_fixture import apps_named

pytestmark = pytest.mark.cluster
SHOTS = settings.ROOT / "results" / "ui-test"
IDLE_SCRIPT = settings.ROOT / "tests" / "cluster" / "scripts" / "idle.py"
IDLE_APP = "an idle script of its own"  # the name it gives its application


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.ensure_chromium()
    except Exception as error:  # the test must say what to run, not skip
        pytest.fail(str(error))


def table_rows(dom: str, table_id: str) -> list[list[str]]:
    """The text of each row of an HTML table, as the browser left it."""
    start = dom.find(f'id="{table_id}"')
    assert start >= 0, f"no table {table_id!r} in the page"
    body = dom[start : dom.find("</table>", start)]
    rows = [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in rows if row]


def test_the_master_lists_every_worker_and_each_link_opens_its_page(chromium, cluster):
    ui = lifecycle.master_ui(cluster.project)
    dom = browser.rendered_dom(ui + "/")
    alive = [w for w in lifecycle.master_state(cluster.project)["workers"] if w["state"] == "ALIVE"]
    links = dict(re.findall(r'href="(/proxy/(worker-[^"/]+))/?"', dom)[::-1])
    for worker in alive:
        href = next((link for link, wid in links.items() if wid == worker["id"]), None)
        assert href, f"no link to {worker['id']} on the master page: {sorted(links.values())}"
        page = browser.rendered_dom(ui + href)
        assert f"<title>Spark Worker at {worker['host']}:{worker['port']}</title>" in page
    browser.screenshot(ui + "/", SHOTS / "master.png")


def executor_ids(ui: str, app: str) -> list[str] | NotReady:
    """The application's executors, as its UI's REST API lists them through the master's proxy."""
    url = f"{ui}/proxy/{app}/api/v1/applications/{app}/executors"
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            return sorted(executor["id"] for executor in json.load(page))
    except (OSError, ValueError) as error:  # not up yet: the proxy's error page is no JSON
        return NotReady(f"the application's UI: {error}")


def test_a_running_application_and_its_executors_open_through_the_proxy(chromium, cluster):
    """A script that holds an executor on every worker and waits (a running
    application costs its starts, not a busy loop): its pages through the
    master's proxy; stopped, its jobs on the history server."""
    script = (cluster.project, IDLE_SCRIPT, [])
    thread = threading.Thread(target=scripts.run_on_cluster, args=script, daemon=True)
    thread.start()
    ui = lifecycle.master_ui(cluster.project)
    expected = sorted([*map(str, range(cluster.workers)), "driver"])
    try:
        listed = wait_until(lambda: apps_named(cluster.project, IDLE_APP), timeout=180)
        assert listed, "the script's application never showed on the master"
        [app] = listed
        assert wait_until(lambda: executor_ids(ui, app) == expected, timeout=120), executor_ids(ui, app)
        dom = browser.rendered_dom(f"{ui}/proxy/{app}/executors/", wait_ms=15000)
        ids = sorted(row[0] for row in table_rows(dom, "active-executors-table"))
        assert ids == expected, ids
        browser.screenshot(f"{ui}/proxy/{app}/executors/", SHOTS / "executors.png", wait_ms=15000)
    finally:
        applications.stop_applications(cluster.project, [], every=True)
        thread.join(120)
    history = lifecycle.service_url(cluster.project, "history", 18080)
    deadline = time.monotonic() + 60
    while app not in browser.rendered_dom(history + "/", wait_ms=10000):
        assert time.monotonic() < deadline, "the history server does not list the application"
        time.sleep(2)
    # It may list the application from its log in progress, before the stopped
    # driver's last events reach the file; the jobs page catches up on its rescan.
    while "Completed Jobs" not in (jobs := browser.rendered_dom(f"{history}/history/{app}/jobs/")):
        assert time.monotonic() < deadline, f"the history server shows no completed job: {jobs[-1500:]}"
        time.sleep(2)
    assert f"<title>{IDLE_APP} - Spark Jobs</title>" in jobs, jobs[:500]
    browser.screenshot(history + "/", SHOTS / "history.png")
