"""tasks.py's job tasks, made from the jobs' argparse parsers (no job is run)."""

import copy
from pathlib import Path

import pytest
from invoke import Exit, MockContext

import tasks
from jobs.options import JOBS, job_parsers

GD_OPTIONS = {
    "on",
    "data",
    "iterations",
    "lr",
    "one_job",
    "on_bad_lines",
    "test_fraction",
    "seed",
    "no_standardize",
    "master",
    "out",
    "partitions",
    "quiet",
}


def flags(parser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings if s.startswith("--")} - {"--help"}


def arguments(job: str) -> dict:
    """The task's invoke arguments, by name. From a copy: invoke's get_arguments
    pops each help text out of the task, so a second call would see none."""
    return {argument.name: argument for argument in copy.deepcopy(getattr(tasks, job)).get_arguments()}


def test_the_gd_task_has_the_gd_options_and_on():
    assert set(arguments("gd")) == GD_OPTIONS
    assert set(arguments("cv")) == GD_OPTIONS | {"folds"}


@pytest.mark.parametrize("job", JOBS)
def test_a_job_task_has_exactly_its_parsers_flags_plus_on(job):
    task_flags = {"--" + argument.names[0] for argument in arguments(job).values()}
    assert task_flags == flags(job_parsers()[job]) | {"--on"}


@pytest.mark.parametrize("job", JOBS)
def test_a_job_tasks_help_is_its_parsers_help(job):
    task = arguments(job)
    assert task["on"].help == tasks.ON_HELP
    for action in job_parsers()[job]._actions:
        if action.dest != "help":
            assert task[action.dest].help.startswith(action.help), action.dest
    assert getattr(tasks, job).__doc__ == job_parsers()[job].description


def test_a_task_help_shows_the_parsers_default():
    assert arguments("gd")["iterations"].help == "gradient steps (default 50)"
    assert arguments("cv")["folds"].help == "k, the number of folds and models (default 6)"
    assert arguments("gd")["one_job"].help.endswith("TCP all-reduce)")  # a flag shows no default


@pytest.mark.parametrize("job", JOBS)
def test_a_job_tasks_flags_are_booleans_and_the_rest_default_to_unset(job):
    parser = job_parsers()[job]
    kind = {action.dest: action.nargs for action in parser._actions if action.dest != "help"}
    for name, argument in arguments(job).items():
        if name == "on":
            assert argument.default == "local"
        elif kind[name] == 0:
            assert (argument.kind, argument.default) == (bool, False), name
        elif kind[name] == "+":
            assert (argument.kind, argument.default) == (list, []), name
        else:
            # Unset: the job's parser applies its own default (to_argv leaves None, [] out).
            assert argument.default is None, name
    assert arguments("wordcount")["input"].kind is list


def test_from_caller_resolves_relative_paths_against_the_callers_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "CALLER_DIR", tmp_path)
    options = {
        "input": ["notes.txt", "corpus/*.txt", "/abs/book.txt"],
        "data": "wine.csv",
        "out": "results/mine",
        "iterations": 10,
        "master": "local[2]",
    }
    assert tasks._from_caller(options) == {
        "input": [str(tmp_path / "notes.txt"), str(tmp_path / "corpus" / "*.txt"), "/abs/book.txt"],
        "data": str(tmp_path / "wine.csv"),
        "out": str(tmp_path / "results" / "mine"),
        "iterations": 10,
        "master": "local[2]",
    }


def test_from_caller_leaves_absolute_and_unset_paths_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "CALLER_DIR", tmp_path)
    options = {"data": "/data/wine.csv", "out": Path("/tmp/out"), "input": None, "seed": 7}
    assert tasks._from_caller(options) == options


def test_an_unknown_runtime_is_refused():
    with pytest.raises(Exit) as exit_:
        tasks.run_job(MockContext(), "gd", "mars", {})
    assert exit_.value.code == 2
    assert exit_.value.message == "--on must be local, cluster or connect, not 'mars'"


@pytest.mark.parametrize(
    ("codes", "combined"),
    [
        ((0, 0), 0),
        ((1, 0), 1),
        ((0, 1), 1),
        ((2, 1), 2),  # the first failure's code
        ((5, 0), 0),  # `-k` matched tests on one side only
        ((0, 5), 0),
        ((5, 1), 1),
        ((5, 5), 5),  # nothing matched anywhere
    ],
)
def test_the_two_test_runs_give_one_exit_code(codes, combined):
    assert tasks.combined_exit_code(*codes) == combined
