"""The Compose project object and the engine's one runner (no Docker: the
command lines and environments they build, and how a failure reads)."""

from __future__ import annotations

import sys

import pytest

from cluster import across, engine
from cluster.project import ComposeProject
from cluster.settings import ADVERTISE_FILE, COMPOSE_FILE, ClusterError


def test_a_project_is_a_frozen_value_its_changes_are_new_projects():
    project = ComposeProject(name="sparklab-test")
    with pytest.raises(AttributeError):
        project.name = "other"  # type: ignore[misc]
    connect = project.with_profiles("connect").with_profiles("connect", "notebook")
    assert connect.profiles == ("connect", "notebook")
    assert project.profiles == ()
    assert connect.every_profile().profiles == ("*",)


def test_its_environment_names_the_project_its_profiles_and_its_values(monkeypatch):
    monkeypatch.delenv("SPARKLAB_IMAGE", raising=False)
    project = (
        ComposeProject(name="sparklab-test").with_profiles("connect").with_variables(SPARKLAB_IMAGE="x:1")
    )
    env = project.environment()
    assert (env["COMPOSE_PROJECT_NAME"], env["COMPOSE_PROFILES"], env["SPARKLAB_IMAGE"]) == (
        "sparklab-test",
        "connect",
        "x:1",
    )
    assert project.with_variables(SPARKLAB_IMAGE="y:2").value("SPARKLAB_IMAGE") == "y:2"


def test_a_default_never_overrides_what_the_environment_or_the_project_says(monkeypatch):
    monkeypatch.setenv("SPARKLAB_NOTEBOOK_IMAGE", "mine:1")
    project = ComposeProject(name="sparklab-test").with_variables(SPARKLAB_IMAGE="given:1")
    defaulted = project.with_defaults(SPARKLAB_IMAGE="built:2", SPARKLAB_NOTEBOOK_IMAGE="built:3")
    assert defaulted.value("SPARKLAB_IMAGE") == "given:1"
    assert defaulted.value("SPARKLAB_NOTEBOOK_IMAGE") == "mine:1"


def test_advertising_replaces_the_files_and_does_not_pile_them_up():
    project = ComposeProject(name="sparklab-test").with_variables(SPARKLAB_ENCRYPTION="true")
    once = across.advertised(project, "10.251.3.1", ["10.252.3.1"])
    twice = across.advertised(once, "10.251.3.1", ["10.252.3.1"])
    assert once.files[:2] == (COMPOSE_FILE, ADVERTISE_FILE)
    assert twice.files == once.files
    assert project.files == (COMPOSE_FILE,)


def test_a_failed_command_says_which_its_exit_code_and_its_own_last_line():
    said = "import sys; print('first', file=sys.stderr); print('why  ', file=sys.stderr); sys.exit(3)"
    with pytest.raises(ClusterError) as failed:
        engine.run([sys.executable, "-c", said], shown="the probe")
    assert str(failed.value) == "`the probe` failed (exit 3): why"


def test_a_failure_that_said_nothing_where_we_could_read_it_points_above():
    assert engine.failure("docker build", 1, None, kept=False) == "`docker build` failed (exit 1) (see above)"
    assert engine.failure("docker compose ps", 2, "\n\n") == "`docker compose ps` failed (exit 2)"


def test_unchecked_the_runner_hands_the_failure_back():
    done = engine.run([sys.executable, "-c", "import sys; sys.exit(4)"], check=False)
    assert done.returncode == 4
