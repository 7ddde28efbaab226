"""Every experiment at its smallest size on the cluster, in ONE spark-submit
(one application where the experiments can share it); each page's numbers
checked against the history server's monitoring API, not fixed values."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from cluster import lifecycle, submit
from jobs.experiments import monitoring, worker_loss
from jobs.experiments.page import write_page
from jobs.experiments.registry import EXPERIMENTS
from jobs.report.files import new_run_id

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def pages(cluster, tmp_path_factory):
    """name -> (the driver's JSON, the page's summary, the page's text), and the history server's URL."""
    out = tmp_path_factory.mktemp("experiments")
    # data-size last and on its own: after its local[*] session, a cluster session
    # in the same driver JVM cannot register with the master; worker-loss last
    # of the first run, which shares one application: its killed worker comes
    # back (resize) before data-size needs every worker again.
    first = [name for name in EXPERIMENTS if name != "data-size"]
    on_line, killed = submit.kill_a_worker_on(cluster.project, worker_loss.KILL_CUE)
    try:
        paths = submit.experiments(cluster.project, first, ["--smallest"], new_run_id(), out, on_line=on_line)
    finally:
        lifecycle.resize(cluster.project, cluster.workers)  # the worker worker-loss killed
    assert killed, "worker-loss never gave its cue"
    paths += submit.experiments(cluster.project, ["data-size"], ["--smallest"], new_run_id(), out)
    names = [*first, "data-size"]
    history = lifecycle.service_url(cluster.project, "history", 18080)
    made = {}
    for name, path in zip(names, paths, strict=True):
        result = json.loads(path.read_text())
        page = write_page(result, out, history)
        made[name] = (result, EXPERIMENTS[name].summarize(result), page.read_text())
    return made, history


def history_numbers(history: str, app_id: str, groups: list[str]) -> dict:
    """The application's numbers as the history server has them, once it has
    read the finished event log (before, it may serve a partial snapshot)."""
    api = f"{history}/api/v1/applications/{app_id}"
    deadline = time.monotonic() + 120
    while not _completed(api):
        assert time.monotonic() < deadline, f"the history server never listed {app_id} as completed"
        time.sleep(2)  # polling the history server's own state, bounded
    return monitoring.application_numbers(api, groups)


def _completed(api: str) -> bool:
    try:
        with urllib.request.urlopen(api, timeout=30) as response:
            attempts = json.load(response).get("attempts", [])
    except urllib.error.HTTPError:  # 404 until the history server has read the log
        return False
    return bool(attempts) and all(attempt.get("completed") for attempt in attempts)


def picked(numbers: dict, group: str) -> dict:
    return monitoring.select_group(numbers["jobs"], numbers["stages"], numbers["tasks"], group)


def test_every_page_has_its_question_answer_plot_and_history_link(pages):
    made, history = pages
    for name, (result, summary, text) in made.items():
        assert EXPERIMENTS[name].question in text, name
        assert summary["answer"] in text, name
        assert f"![{name}]({name}.png)" in text, name
        for app in result["apps"]:
            assert f"({history}/history/{app['app_id']}/jobs/)" in text, (name, text)


def test_partitions_page_counts_what_the_history_server_counts(pages):
    made, history = pages
    result, summary, _ = made["partitions"]
    groups = [run["group"] for run in result["runs"]]
    numbers = history_numbers(history, result["apps"][0]["app_id"], groups)
    for run, row in zip(result["runs"], summary["rows"], strict=True):
        seen = picked(numbers, run["group"])
        done = [t for t in seen["tasks"] if t["status"] == "SUCCESS"]
        assert row["jobs"] == len(seen["jobs"]) == result["plan"]["iterations"], (row, seen["jobs"])
        assert row["tasks"] == len(done), row
        assert row["tasks_per_iteration"] == run["partitions"]  # one task per partition per iteration
        assert row["task_max_seconds"] == max(t["seconds"] for t in done)
        assert row["iteration_seconds"] == monitoring.percentile([j["seconds"] for j in seen["jobs"]], 50)


def test_skew_page_finds_the_longest_task_the_history_server_shows(pages):
    made, history = pages
    result, summary, _ = made["skew"]
    assert result["same_counts"], "the three ways of counting disagree"
    numbers = history_numbers(history, result["apps"][0]["app_id"], list(result["groups"].values()))
    for row in summary["rows"]:
        seen = picked(numbers, result["groups"][row["key"]])
        word_stage = max(seen["stages"], key=lambda s: s["shuffle_read_bytes"])
        times = [
            t["seconds"]
            for t in seen["tasks"]
            if t["stage"] == word_stage["stage"] and t["status"] == "SUCCESS"
        ]
        assert row["task_max_seconds"] == max(times), row
        assert row["tasks"] == len(times) == result["plan"]["reduce_tasks"], row
        assert row["shuffle_bytes"] == sum(s["shuffle_read_bytes"] for s in seen["stages"]), row


def test_one_pass_cv_runs_one_job_per_iteration_and_k_fits_k_times_as_many(pages):
    made, history = pages
    result, summary, _ = made["one-pass-cv"]
    iterations = result["plan"]["iterations"]
    groups = [run[way] for run in result["runs"] for way in ("one_fit", "one_pass", "sequential")]
    numbers = history_numbers(history, result["apps"][0]["app_id"], groups)
    for run, row in zip(result["runs"], summary["rows"], strict=True):
        one_fit = sum(job["seconds"] for job in picked(numbers, run["one_fit"])["jobs"])
        one_pass = picked(numbers, run["one_pass"])
        sequential = picked(numbers, run["sequential"])
        assert row["one_pass_jobs"] == len(one_pass["jobs"]) == iterations, row
        assert row["sequential_jobs"] == len(sequential["jobs"]) == run["k"] * iterations, row
        ratio = sum(job["seconds"] for job in one_pass["jobs"]) / one_fit
        assert row["one_pass_ratio"] == pytest.approx(ratio, rel=1e-9), row
    assert result["max_relative_difference"] < 1e-6  # the same k models either way


def test_data_size_page_times_each_runtimes_iterations_as_the_history_server_does(pages):
    made, history = pages
    result, summary, _ = made["data-size"]
    runtimes = {run["runtime"] for run in result["runs"]}
    assert runtimes == set(result["plan"]["runtimes"]), runtimes
    for run, row in zip(result["runs"], summary["rows"], strict=True):
        seen = picked(history_numbers(history, run["app_id"], [run["group"]]), run["group"])
        assert row["jobs"] == len(seen["jobs"]) == result["plan"]["iterations"], row
        assert row["tasks"] == sum(1 for t in seen["tasks"] if t["status"] == "SUCCESS"), row
        assert row["iteration_seconds"] == monitoring.percentile([j["seconds"] for j in seen["jobs"]], 50)
    apps = {run["app_id"] for run in result["runs"]}
    assert len(apps) == len(runtimes)  # one application per runtime


def test_worker_loss_page_shows_the_lost_executor_and_the_undisturbed_result(pages):
    made, history = pages
    result, summary, text = made["worker-loss"]
    numbers = history_numbers(history, result["apps"][0]["app_id"], [result["disturbed"]])
    lost = [e for e in numbers["executors"] if e["executor"] != "driver" and not e["active"]]
    assert len(lost) >= 1, numbers["executors"]
    assert [e["executor"] for e in summary["lost"]] == [e["executor"] for e in lost]
    assert result["executors_after"] < result["executors_before"], result
    seen = picked(numbers, result["disturbed"])
    assert len(summary["rows"]) == len(seen["jobs"]) == result["plan"]["iterations"]
    assert sum(row["failed"] for row in summary["rows"]) == sum(
        1 for t in seen["tasks"] if t["status"] == "FAILED"
    )
    assert result["equal_bit_for_bit"], result["max_abs_difference"]
    assert "bit for bit" in text
