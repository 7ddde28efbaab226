"""tasks.py's job tasks, made from the jobs' argparse parsers (no job is run)."""

import contextlib
import copy
import io
import re
import subprocess
from pathlib import Path

import pytest
from invoke import Exit, MockContext, Program
from invoke.parser import Parser

import tasks
from cluster import lifecycle, runs, settings, suite, task_parser
from jobs.options import JOBS, job_parsers

GD_OPTIONS = {
    "on",
    "data",
    "iterations",
    "lr",
    "one_job",
    "resident",
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
    assert task["on"].help == runs.on_help(job)
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
    monkeypatch.setattr(runs, "CALLER_DIR", tmp_path)
    options = {
        "input": ["notes.txt", "corpus/*.txt", "/abs/book.txt"],
        "data": "wine.csv",
        "out": "results/mine",
        "iterations": 10,
        "master": "local[2]",
    }
    assert runs.from_caller(options) == {
        "input": [str(tmp_path / "notes.txt"), str(tmp_path / "corpus" / "*.txt"), "/abs/book.txt"],
        "data": str(tmp_path / "wine.csv"),
        "out": str(tmp_path / "results" / "mine"),
        "iterations": 10,
        "master": "local[2]",
    }


def test_from_caller_leaves_absolute_and_unset_paths_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "CALLER_DIR", tmp_path)
    options = {"data": "/data/wine.csv", "out": Path("/tmp/out"), "input": None, "seed": 7}
    assert runs.from_caller(options) == options


def test_an_unknown_runtime_is_refused():
    with pytest.raises(Exit) as exit_:
        runs.run_job("wordcount", "mars", {})
    assert exit_.value.code == 2
    assert exit_.value.message == "wordcount: --on must be local or cluster or connect, not 'mars'"


def test_gd_and_cv_offer_no_spark_connect_and_refuse_it_in_one_line():
    for job in ("gd", "cv"):
        assert "connect" not in arguments(job)["on"].help
        assert "sc://" not in arguments(job)["master"].help
        with pytest.raises(Exit) as exit_:
            runs.run_job(job, "connect", {})
        assert (exit_.value.code, exit_.value.message) == (
            2,
            f"{job}: --on must be local or cluster, not 'connect'; Spark Connect runs wordcount and mllib",
        )
    assert "connect" in arguments("mllib")["on"].help


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
def test_the_streams_give_one_exit_code(codes, combined):
    assert suite.combined_exit_code(*codes) == combined


def test_every_cluster_test_module_is_in_one_cluster_stream():
    modules = {path.relative_to(tasks.ROOT).as_posix() for path in (tasks.ROOT / "tests").rglob("test_*.py")}
    assert set(suite.FIRST_HALF) <= modules, "a module of the first half is gone"
    first, second, hosts = suite.CLUSTER_STREAMS
    ignored = {arg.removeprefix("--ignore=") for arg in second.args if arg.startswith("--ignore=")}
    assert ignored == set(suite.FIRST_HALF) == {arg for arg in first.args if arg.endswith(".py")}
    assert first.args[:2] == second.args[:2] == ("-m", "cluster and not hosts")
    assert hosts.args == ("-m", "hosts", suite.CLUSTER_TESTS)
    assert suite.CLUSTER_TESTS in second.args


CLUSTER_MARK = re.compile(r"^(pytestmark = .*|@)pytest\.mark\.cluster\b", re.MULTILINE)


def test_every_test_marked_cluster_lives_where_the_cluster_streams_collect():
    """The cluster streams collect tests/cluster alone; the rest runs "not
    cluster": a cluster test elsewhere would run nowhere."""
    outside = [
        path
        for path in (tasks.ROOT / "tests").rglob("test_*.py")
        if CLUSTER_MARK.search(path.read_text()) and not path.is_relative_to(tasks.ROOT / suite.CLUSTER_TESTS)
    ]
    assert outside == []


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.03 -XX:+UseSerialGC",
         "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"),
        ("-XX:+UseSerialGC -XX:CompileThresholdScaling=0.1", "-XX:+UseSerialGC"),
        ("-XX:+UseSerialGC", "-XX:+UseSerialGC"),
        ("", ""),
    ],
)  # fmt: skip
def test_the_suites_jvms_keep_every_option_but_the_compile_threshold(configured, expected):
    assert suite.suite_jvm_options(configured) == expected


def test_the_streams_take_the_callers_jvm_options_when_given(monkeypatch):
    monkeypatch.setenv("SPARKLAB_JVM_OPTS", "-Xint")
    assert suite.suite_env()["SPARKLAB_JVM_OPTS"] == "-Xint"
    monkeypatch.delenv("SPARKLAB_JVM_OPTS")
    env = suite.suite_env()
    assert env["SPARKLAB_JVM_OPTS"] == suite.suite_jvm_options(settings.dotenv()["SPARKLAB_JVM_OPTS"])
    assert "-XX:+UseSerialGC" in env["SPARKLAB_JVM_OPTS"].split()
    assert suite.streams(cluster=False, no_cluster=True) == (suite.REST,)
    assert suite.REST not in suite.streams(cluster=True, no_cluster=False)


# --- The command line as invoke parses it (cluster.task_parser) -------------


def parse(*words: str):
    """The parse of `./lab WORDS`, in-process: invoke's parser fed the real tasks."""
    contexts = copy.deepcopy(tasks.ns).to_contexts()
    return Parser(initial=Program().initial_context, contexts=contexts).parse_argv(list(words))


def parsed_task(*words: str) -> dict:
    """The first task's arguments after parsing `./lab WORDS`, by name."""
    return {argument.name.replace("-", "_"): argument.value for argument in parse(*words)[1].args.values()}


def refusal(*words: str) -> str:
    with pytest.raises(Exit) as exit_:
        parse(*words)
    assert exit_.value.code == 2
    return exit_.value.message


def test_stop_all_parses_without_an_application_id():
    assert parsed_task("stop", "--all") == {"all_": True, "app": None}
    assert parsed_task("stop", "app-20261206-0001") == {"all_": False, "app": "app-20261206-0001"}


@pytest.mark.parametrize("help_flag", ["--help", "-h"])
@pytest.mark.parametrize("name", sorted(tasks.ns.tasks))
def test_every_task_takes_help_and_h_as_a_request_for_its_help(name, help_flag):
    # Not as a positional's value: `./lab stop --help` once meant an application named --help.
    assert parse(name, help_flag)[0].args.help.value == name


def test_logs_takes_several_service_names():
    assert parsed_task("logs", "master", "worker", "--follow") == {
        "services": ["master", "worker"],
        "follow": True,
    }
    assert parsed_task("logs") == {"services": [], "follow": False}


def test_input_takes_several_files_after_one_flag_or_one_after_each():
    assert parsed_task("wordcount", "--input", "a.txt", "b.txt", "--top", "3")["input"] == ["a.txt", "b.txt"]
    assert parsed_task("wordcount", "--input", "a.txt", "--input", "b.txt")["input"] == ["a.txt", "b.txt"]
    assert refusal("wordcount", "--input", "--top", "3") == (
        "wordcount: --input needs at least one value (`./lab wordcount --help` shows its options)"
    )


def test_numbers_are_typed_and_anything_else_is_refused_in_one_line():
    options = parsed_task("gd", "--iterations", "20", "--lr", "0.05", "--test-fraction=0.3")
    assert (options["iterations"], options["lr"], options["test_fraction"]) == (20, 0.05, 0.3)
    assert parsed_task("up", "--workers", "3")["workers"] == 3
    assert refusal("up", "--workers", "abc") == (
        "up: --workers takes a whole number, not 'abc' (`./lab up --help` shows its options)"
    )
    assert refusal("gd", "--lr", "fast").startswith("gd: --lr takes a number, not 'fast'")
    assert refusal("demo", "--workers", "2.5").startswith("demo: --workers takes a whole number")


def test_an_unknown_word_is_refused_in_one_line_naming_the_task():
    assert refusal("gd", "--nosuch") == "gd: No idea what '--nosuch' is (`./lab gd --help` shows its options)"
    assert refusal("nosuch") == "lab: No idea what 'nosuch' is (`./lab --list` shows the tasks)"


def test_no_task_has_one_letter_flags_but_test_k():
    short = {
        (context.name, flag)
        for context in copy.deepcopy(tasks.ns).to_contexts()
        for flag in context.flags
        if not flag.startswith("--")
    }
    assert short == {("test", "-k")}


def test_the_help_shows_ints_and_floats_as_such():
    contexts = {context.name: context for context in copy.deepcopy(tasks.ns).to_contexts()}
    gd_rows = dict(contexts["gd"].help_tuples())
    assert "--iterations=INT" in gd_rows
    assert "--lr=FLOAT" in gd_rows
    assert "--input=STRING ..." in dict(contexts["wordcount"].help_tuples())


def test_every_task_is_listed_once_in_a_group_and_the_list_prints_the_groups():
    listed = [name for _, names in tasks.GROUPS for name in names]
    assert sorted(listed) == sorted(tasks.ns.tasks)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        Program(namespace=copy.deepcopy(tasks.ns), binary="lab").run(["lab", "--list"], exit=False)
    titles = [
        line[:-1] for line in printed.getvalue().splitlines() if line.endswith(":") and not line[0].isspace()
    ]
    assert titles == [title for title, _ in tasks.GROUPS]


def test_the_lab_launcher_prints_help_for_a_task_with_a_positional_and_exits_0():
    done = subprocess.run(
        [str(Path(tasks.ROOT) / "lab"), "stop", "--help"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ./lab stop [APP] [--options]")


def test_logs_knows_every_compose_service_and_refuses_others(monkeypatch):
    compose_file = (Path(tasks.ROOT) / "docker-compose.yml").read_text()
    services = compose_file.split("\nservices:\n", 1)[1].split("\nsecrets:", 1)[0]
    assert sorted(re.findall(r"^  ([a-z]+):$", services, re.M)) == sorted(lifecycle.SERVICES)
    with pytest.raises(Exit) as exit_:
        tasks.logs(MockContext(), services=["master", "nosuch"])
    assert exit_.value.code == 2
    assert exit_.value.message.startswith("logs: no service 'nosuch'; the services: master, worker")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": "abc"}, "compare: --workers 'abc': give sizes, comma-separated: --workers 1,2,3"),
        ({"workers": "0"}, "compare: --workers '0': give sizes, comma-separated: --workers 1,2,3"),
        ({"jobs": "nosuch"}, "compare: --jobs 'nosuch': no job 'nosuch'; choose among wordcount,gd,cv,mllib"),
        ({"jobs": ""}, "compare: --jobs '': no job named; choose among wordcount,gd,cv,mllib"),
    ],
)
def test_compare_refuses_bad_sizes_and_jobs_in_one_line(options, message):
    with pytest.raises(Exit) as exit_:
        tasks.compare(MockContext(), **options)
    assert (exit_.value.code, exit_.value.message) == (2, message)


def test_submit_refuses_args_it_would_ignore_and_an_unclosed_quote(monkeypatch):
    def refused(**kwargs) -> str:
        with pytest.raises(Exit) as exit_:
            tasks.submit(MockContext(), **kwargs)
        assert exit_.value.code == 2
        return exit_.value.message

    monkeypatch.setattr(task_parser, "after_dashes", lambda c: [])
    assert refused(script="gd", args="--iterations '10") == (
        'submit: --args "--iterations \'10": No closing quotation; quote the options as one word'
    )
    assert refused(script="mine.py", args="--top 5") == (
        "submit: --args is for the jobs (wordcount, gd, cv, mllib); a script's arguments go after --: "
        "./lab submit mine.py -- --top 5"
    )
    assert refused() == "submit: name a script or a job: ./lab submit my.py -- ARGS, or ./lab submit gd"
    monkeypatch.setattr(task_parser, "after_dashes", lambda c: ["--top", "3"])
    assert refused(script="wordcount") == (
        "submit: wordcount's options go in --args, not after --: "
        "./lab submit wordcount --args '--iterations 10'"
    )


def test_join_without_its_master_or_address_is_refused_in_one_line():
    with pytest.raises(Exit) as exit_:
        tasks.join(MockContext(), master="spark://192.168.1.10:7077")
    assert exit_.value.code == 2
    assert exit_.value.message.startswith("join: give host A's master and this host's address")


def test_stop_all_asks_for_every_application(monkeypatch):
    from cluster import applications

    asked = []
    monkeypatch.setattr(
        applications, "stop_applications", lambda project, ids, every: asked.append((ids, every)) or ["app-1"]
    )
    tasks.stop(MockContext(), all_=True)
    assert asked == [([], True)]


def test_a_permission_error_becomes_one_line_and_exit_2(tmp_path):
    locked = tmp_path / "results"

    @task_parser.one_line_errors
    def write_result(c):  # as `results/` not writable during `submit` ends (root writes anywhere)
        raise PermissionError(13, "Permission denied", str(locked / "run"))

    with pytest.raises(Exit) as exit_:
        write_result(MockContext())
    assert (exit_.value.code, exit_.value.message) == (
        2,
        f"write_result: Permission denied: {locked / 'run'}; make it writable",
    )


def test_words_after_dashes_are_refused_by_every_task_but_submit(monkeypatch):
    monkeypatch.setattr(task_parser, "after_dashes", lambda c: ["--top", "3"])
    with pytest.raises(Exit) as exit_:
        tasks.gd(MockContext())
    assert (exit_.value.code, exit_.value.message) == (
        2,
        "gd: takes nothing after --, not '--top 3' (`./lab gd --help`)",
    )
    with pytest.raises(Exit) as exit_:
        tasks.up(MockContext())
    assert exit_.value.message.startswith("up: takes nothing after --")


def test_status_names_every_running_service_and_ui_addresses_connect_by_localhost(monkeypatch):
    from cluster.project import ComposeProject

    project = ComposeProject.of_checkout()
    state = {"url": "spark://master:7077", "status": "ALIVE", "aliveworkers": 2, "workers": []}
    monkeypatch.setattr(lifecycle, "master_state", lambda project: state)
    counts = {"master": 1, "worker": 2, "driver": 1, "history": 1, "notebook": 1, "connect": 1}
    seen_profiles = []

    def running(project):
        seen_profiles.append(project.environment()["COMPOSE_PROFILES"])
        return counts

    monkeypatch.setattr(lifecycle, "running_services", running)
    assert (
        lifecycle.describe(project).splitlines()[0]
        == "services connect, driver, history, master, notebook, worker x2"
    )
    assert seen_profiles == ["*"]  # notebook and connect are in Compose profiles

    published = subprocess.CompletedProcess([], 0, stdout="127.0.0.1:15002\n")
    monkeypatch.setattr(ComposeProject, "run", lambda self, *args, **kwargs: published)
    assert lifecycle.service_url(project, "connect", 15002, scheme="sc") == "sc://localhost:15002"
    assert lifecycle.service_url(project, "notebook", 8888) == "http://127.0.0.1:15002"


def test_images_that_cannot_be_built_leave_the_tests_to_say_why(monkeypatch, capsys):
    def cannot_build():
        raise suite.images.ImageError("no base image here: sudo ./lab image")

    monkeypatch.setattr(suite, "engine_problem", lambda: None)
    monkeypatch.setattr(suite.images, "build_notebook", cannot_build)
    suite.build_images_first()  # no traceback: the streams still run
    said = capsys.readouterr().out
    assert said == "test: the images could not be built: no base image here: sudo ./lab image\n"


def test_status_shows_each_running_applications_run_id_owner_and_age():
    from cluster.applications import Application, application_lines

    job = Application("app-1", "wordcount [run r1]", 2, 1_000_000, "20261206-172432-6031", "job", "driver", 7)
    shell = Application("app-2", "a shell", 1, 1_005_000)  # not started by SparkLab
    assert application_lines([job, shell], now=1_030.0) == [
        "  running   app-1  run 20261206-172432-6031     job            30 s  2 cores  wordcount [run r1]",
        "  running   app-2  run -                        other          25 s  1 cores  a shell",
    ]


@pytest.mark.parametrize(
    ("ran", "one"),
    [
        (
            {"m": ("master", "sha256:a"), "w1": ("worker", "sha256:a"), "d": ("driver", "sha256:a")},
            "sha256:a",
        ),
        ({"m": ("master", "sha256:a"), "w1": ("worker", "sha256:b"), "d": ("driver", "sha256:a")}, None),
        (
            {"m": ("master", "sha256:a"), "w1": ("worker", "sha256:a"), "n": ("notebook", "sha256:n")},
            "sha256:a",
        ),
        ({}, None),
    ],
    ids=["one image", "a worker of another build", "the notebook on its own image", "nothing running"],
)
def test_up_probes_unless_every_spark_container_runs_one_image(ran, one):
    """`up` skips the probe job only where the versions are equal by construction."""
    assert lifecycle.one_image(ran) == one
