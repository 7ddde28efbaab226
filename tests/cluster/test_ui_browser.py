"""The Spark UIs in a real browser (headless Chromium, JavaScript run): the
master with its workers, worker and application pages through the master's
reverse proxy, the history server. Screenshots land in results/ui-test/."""

from __future__ import annotations

import re
import threading
import time

import pytest

from cluster import applications, browser, lifecycle, settings, submit

pytestmark = pytest.mark.cluster
SHOTS = settings.ROOT / "results" / "ui-test"


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


def test_a_running_application_and_its_executors_open_through_the_proxy(chromium, cluster):
    started = threading.Event()
    ended: dict[str, BaseException] = {}

    def long_job() -> None:
        try:
            submit.submit(
                cluster.project,
                "gd",
                {"iterations": 100000, "partitions": 2},
                echo=False,
                on_line=lambda line: " step 2/" in " ".join(line.split()) and started.set(),
            )
        except BaseException as error:  # it is stopped below: Terminated
            ended["error"] = error

    thread = threading.Thread(target=long_job, daemon=True)
    thread.start()
    try:
        assert started.wait(180), "the job did not start"
        apps = lifecycle.master_state(cluster.project)["activeapps"]
        (app,) = [a["id"] for a in apps if "sparklab-gd" in a["name"]]
        ui = lifecycle.master_ui(cluster.project)
        dom = browser.rendered_dom(f"{ui}/proxy/{app}/executors/", wait_ms=15000)
        ids = sorted(row[0] for row in table_rows(dom, "active-executors-table"))
        assert ids == sorted([*map(str, range(cluster.workers)), "driver"]), ids
        browser.screenshot(f"{ui}/proxy/{app}/executors/", SHOTS / "executors.png", wait_ms=15000)
    finally:
        applications.stop_applications(cluster.project, [], every=True)
        thread.join(120)
    history = lifecycle.service_url(cluster.project, "history", 18080)
    deadline = time.monotonic() + 60
    while app not in browser.rendered_dom(history + "/", wait_ms=10000):
        assert time.monotonic() < deadline, "the history server does not list the application"
        time.sleep(2)
    jobs = browser.rendered_dom(f"{history}/history/{app}/jobs/")
    assert re.search(r"<title>sparklab-gd[^<]* - Spark Jobs</title>", jobs), jobs[:500]
    assert "Completed Jobs" in jobs
    browser.screenshot(history + "/", SHOTS / "history.png")
