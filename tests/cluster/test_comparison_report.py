"""cluster.comparison.report: the Connect rows beside the others (no Docker, no Spark)."""

from cluster.comparison import CONNECT_RUNTIME, report
from jobs.runtime.metrics import SUMMARY_KEYS


def entry(job: str, runtime: str, metrics: dict, equal: bool | None) -> dict:
    return {
        "job": job,
        "runtime": runtime,
        "workers": None,
        "seconds": 1.5,
        "submit_seconds": 4.0,
        "equal": equal,
        "difference": None,
        "metrics": metrics,
        "result": "x.json",
    }


def test_connect_metrics_that_could_not_be_read_are_shown_as_such_not_as_zeros():
    read = dict.fromkeys(SUMMARY_KEYS, 3) | {"job_seconds": 0.25}
    unread = dict.fromkeys(SUMMARY_KEYS)  # the row's metrics: {"error": ...} kept none of the keys
    result = {
        "entries": [entry("mllib", "local[*]", read, None), entry("mllib", CONNECT_RUNTIME, unread, True)],
        "notes": ["mllib over Spark Connect: Spark's metrics ... are not readable from the host (...)."],
        "all_equal": True,
    }
    text = report(result)
    assert "| mllib | local[*] | 1.50 | 4.0 | 3 | 3 | 3 | 3 | 0.25 | 3 | 3 | 3 | 3 | reference |" in text
    assert f"| mllib | {CONNECT_RUNTIME} | 1.50 | 4.0 |" + " n/a |" * 9 + " yes |" in text
    assert "> mllib over Spark Connect: Spark's metrics" in text
