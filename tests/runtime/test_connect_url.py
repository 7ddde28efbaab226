"""Spark Connect URLs and which jobs can run over Connect (no Spark, no Docker)."""

import pytest

from jobs.checks import check_arguments
from jobs.errors import JobError
from jobs.options import build_parser
from jobs.runtime.connect import is_connect_url, redact


@pytest.mark.parametrize(
    "url",
    [
        "sc://localhost",
        "sc://localhost:15002",
        "sc://localhost:15002/;token=abc",
        "sc://[::1]:1/;a=b;token=c",
    ],
)
def test_connect_urls_are_recognised(url):
    assert is_connect_url(url)


@pytest.mark.parametrize(
    "url", ["sc://", "sc://host:0", "sc://host:70000", "spark://master:7077", "local[2]"]
)
def test_other_strings_are_not_connect_urls(url):
    assert not is_connect_url(url)


def test_the_token_never_reaches_a_result_or_a_log():
    assert (
        redact("sc://localhost:15002/;token=s3cret;user_id=me")
        == "sc://localhost:15002/;token=***;user_id=me"
    )


@pytest.mark.parametrize("job", ["gd", "cv"])
def test_an_rdd_job_over_connect_is_refused_before_any_work(job, tmp_path):
    args = build_parser().parse_args([job, "--master", "sc://localhost:15002", "--out", str(tmp_path)])
    with pytest.raises(JobError, match=rf"^{job} runs on RDDs, which Spark Connect does not have"):
        check_arguments(args)


def test_connect_jobs_take_the_servers_paths_unchecked(tmp_path):
    args = build_parser().parse_args(
        [
            "wordcount",
            "--master",
            "sc://localhost:1",
            "--input",
            "/sparklab/data/x.txt",
            "--out",
            str(tmp_path),
        ]
    )
    check_arguments(args)
    assert args.input == ["/sparklab/data/x.txt"]
