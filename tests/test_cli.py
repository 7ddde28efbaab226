"""jobs.cli's parsers and to_argv, their inverse (no Spark: parsing only)."""

from pathlib import Path

import pytest

from jobs.options import JOBS, build_parser, job_parsers, to_argv

# Every option of each job, set to a value that is not its default.
NON_DEFAULT = {
    "wordcount": {
        "input": ["a.txt", "corpus/*.txt"],
        "top": 3,
        "lower": True,
        "strip_punct": True,
        "master": "local[2]",
        "out": Path("results/x"),
        "partitions": 5,
        "quiet": True,
    },
    "gd": {
        "data": "wine.csv",
        "iterations": 7,
        "lr": 0.05,
        "one_job": True,
        "resident": "never",
        "on_bad_lines": "skip",
        "test_fraction": 0.25,
        "seed": 11,
        "no_standardize": True,
        "master": "spark://master:7077",
        "out": Path("/tmp/out"),
        "partitions": 2,
        "quiet": True,
    },
}
NON_DEFAULT["cv"] = {**NON_DEFAULT["gd"], "folds": 4}
NON_DEFAULT["mllib"] = {
    "data": "wine.csv",
    "folds": 3,
    "max_iter": 20,
    "test_fraction": 0.25,
    "seed": 11,
    "master": "sc://localhost:15002",
    "out": Path("/tmp/out"),
    "partitions": 2,
    "quiet": True,
}


def test_to_argv_leaves_out_unset_options_and_writes_flags_bare():
    options = {
        "iterations": 10,
        "lr": 1e-05,
        "one_job": True,
        "quiet": False,
        "data": None,
        "input": [],
        "on_bad_lines": "skip",
        "seed": 0,
    }
    assert to_argv(options) == [
        "--iterations",
        "10",
        "--lr",
        "1e-05",
        "--one-job",
        "--on-bad-lines",
        "skip",
        "--seed",
        "0",
    ]


def test_to_argv_gives_a_list_option_all_its_values():
    assert to_argv({"input": ["a.txt", "b dir/*.txt"]}) == ["--input", "a.txt", "b dir/*.txt"]
    assert to_argv({"input": ("a.txt",)}) == ["--input", "a.txt"]


@pytest.mark.parametrize("job", JOBS)
def test_parsing_to_argv_gives_every_non_default_option_back(job):
    options = NON_DEFAULT[job]
    parsed = vars(build_parser().parse_args([job, *to_argv(options)]))
    assert parsed == {"job": job, **options}


@pytest.mark.parametrize("job", JOBS)
def test_parsing_to_argv_of_the_defaults_gives_the_defaults_back(job):
    defaults = vars(build_parser().parse_args([job]))
    defaults.pop("job")
    assert vars(build_parser().parse_args([job, *to_argv(defaults)])) == {"job": job, **defaults}


def test_the_non_default_values_cover_every_option_of_every_job():
    for job, parser in job_parsers().items():
        dests = {action.dest for action in parser._actions} - {"help"}
        assert dests == set(NON_DEFAULT[job]), job


def test_job_parsers_are_the_jobs_subcommands():
    parsers = job_parsers()
    assert list(parsers) == ["wordcount", "gd", "cv", "mllib"]
    assert [parser.prog for parser in parsers.values()] == [f"python -m jobs {job}" for job in JOBS]
    options = {job: {a.dest for a in parser._actions} for job, parser in parsers.items()}
    assert options["cv"] - options["gd"] == {"folds"}
    assert "input" in options["wordcount"]
    assert "data" not in options["wordcount"]


@pytest.mark.parametrize("job", JOBS)
def test_a_job_parser_parses_like_the_whole_command_line(job):
    argv = to_argv(NON_DEFAULT[job])
    whole = vars(build_parser().parse_args([job, *argv]))
    whole.pop("job")
    assert vars(job_parsers()[job].parse_args(argv)) == whole


def test_a_bad_choice_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["gd", "--on-bad-lines", "ignore"])
    assert exit_.value.code == 2
    assert "invalid choice: 'ignore'" in capsys.readouterr().err


# --- Several jobs, one application: `python -m jobs A ... --then B ...` ------


def test_then_cuts_the_command_line_into_one_job_each():
    from jobs.cli import split_runs

    argv = ["wordcount", "--top", "3", "--then", "gd", "--iterations", "2", "--then", "cv"]
    assert split_runs(argv) == [["wordcount", "--top", "3"], ["gd", "--iterations", "2"], ["cv"]]
    assert split_runs(["gd"]) == [["gd"]]


def test_jobs_in_one_application_share_one_master(monkeypatch):
    from jobs.cli import one_master
    from jobs.errors import JobError

    monkeypatch.delenv("SPARKLAB_MASTER", raising=False)
    parse = build_parser().parse_args
    given_once = [parse(["wordcount", "--master", "local[2]"]), parse(["gd"])]
    assert one_master(given_once) == "local[2]"
    assert one_master([parse(["wordcount"]), parse(["gd"])]) is None  # the environment's, checked per job
    with pytest.raises(JobError, match="give one --master"):
        one_master([parse(["wordcount", "--master", "local[2]"]), parse(["gd", "--master", "local[1]"])])


def test_join_runs_is_the_inverse_of_split_runs():
    from jobs.options import join_runs, split_runs

    runs = [["wordcount", "--top", "3"], ["gd", "--iterations", "2"], ["cv"]]
    assert join_runs(runs) == ["wordcount", "--top", "3", "--then", "gd", "--iterations", "2", "--then", "cv"]
    assert split_runs(join_runs(runs)) == runs
