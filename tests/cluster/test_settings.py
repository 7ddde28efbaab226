"""cluster.settings: .env read like Compose reads it, the environment winning (no Docker)."""

import functools
import os
import re

import pytest

from cluster import settings
from cluster.project import ComposeProject

DOTENV = """\
# SparkLab cluster settings
SPARKLAB_WORKERS=2

   # an indented comment=not a setting
SPARKLAB_WORKER_MEMORY = 1g
SPARKLAB_OPTS=-Dspark.a=b -Dspark.c=d
SPARKLAB_EMPTY=
not a setting line
SPARKLAB_ONLY_IN_DOTENV=from-dotenv
"""


@pytest.fixture
def dotenv_file(tmp_path, monkeypatch):
    """A tmp .env that `settings.setting` reads instead of the project's."""
    path = tmp_path / ".env"
    path.write_text(DOTENV)
    monkeypatch.setattr(settings, "dotenv", functools.partial(settings.dotenv, path))
    return path


def test_dotenv_reads_settings_and_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / ".env"
    path.write_text(DOTENV)
    assert settings.dotenv(path) == {
        "SPARKLAB_WORKERS": "2",
        "SPARKLAB_WORKER_MEMORY": "1g",
        "SPARKLAB_OPTS": "-Dspark.a=b -Dspark.c=d",
        "SPARKLAB_EMPTY": "",
        "SPARKLAB_ONLY_IN_DOTENV": "from-dotenv",
    }


def test_the_projects_env_file_gives_every_setting_the_code_reads():
    values = settings.dotenv()
    for name in ("SPARKLAB_WORKERS", "SPARKLAB_WORKER_CORES", "SPARKLAB_DATA_DIR", "SPARKLAB_IMAGE"):
        assert values.get(name), name
    assert int(values["SPARKLAB_WORKERS"]) >= 1


def test_the_environment_wins_over_dotenv(dotenv_file, monkeypatch):
    monkeypatch.setenv("SPARKLAB_WORKERS", "3")
    assert settings.setting("SPARKLAB_WORKERS") == "3"
    assert settings.default_workers() == 3


def test_an_unset_or_empty_variable_falls_back_to_dotenv(dotenv_file, monkeypatch):
    monkeypatch.delenv("SPARKLAB_WORKERS", raising=False)
    assert settings.setting("SPARKLAB_WORKERS") == "2"
    monkeypatch.setenv("SPARKLAB_WORKER_MEMORY", "")
    assert settings.setting("SPARKLAB_WORKER_MEMORY") == "1g"


def test_a_setting_in_neither_place_is_empty(dotenv_file, monkeypatch):
    monkeypatch.delenv("SPARKLAB_NOWHERE", raising=False)
    assert settings.setting("SPARKLAB_NOWHERE") == ""


def test_compose_command_names_the_projects_compose_file():
    command = ComposeProject.of_checkout().command("exec", "-T", "driver", "true")
    assert command == [
        "docker",
        "compose",
        "-f",
        str(settings.ROOT / "docker-compose.yml"),
        "exec",
        "-T",
        "driver",
        "true",
    ]
    assert (settings.ROOT / "docker-compose.yml").is_file()


def test_compose_env_sets_workers_project_and_the_data_dir(monkeypatch):
    monkeypatch.delenv("SPARKLAB_WINE_CSV", raising=False)
    monkeypatch.delenv("SPARKLAB_DATA_DIR", raising=False)
    env = ComposeProject.of_checkout(3, name="sparklab-test-x").environment()
    assert env["SPARKLAB_WORKERS"] == "3"
    assert env["COMPOSE_PROJECT_NAME"] == "sparklab-test-x"
    assert env["SPARKLAB_DATA_DIR"] == str((settings.ROOT / "data").resolve())


def test_each_checkout_has_its_own_compose_project(monkeypatch, tmp_path):
    monkeypatch.delenv("COMPOSE_PROJECT_NAME", raising=False)
    first, second = tmp_path / "a" / "SparkLab", tmp_path / "b" / "SparkLab"
    names = {settings.checkout_project(first), settings.checkout_project(second)}
    assert len(names) == 2, names  # same folder name, other paths
    assert all(re.fullmatch(r"sparklab-sparklab-[0-9a-f]{6}", name) for name in names), names
    assert settings.checkout_project(tmp_path / "My Lab!").startswith("sparklab-my-lab-")
    assert ComposeProject.of_checkout().environment()["COMPOSE_PROJECT_NAME"] == settings.checkout_project()
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "mine")
    assert ComposeProject.of_checkout().environment()["COMPOSE_PROJECT_NAME"] == "mine"


def test_compose_runs_as_the_user_who_ran_lab(monkeypatch):
    monkeypatch.delenv("SPARKLAB_UID", raising=False)
    monkeypatch.delenv("SPARKLAB_GID", raising=False)
    env = ComposeProject.of_checkout().environment()
    assert (env["SPARKLAB_UID"], env["SPARKLAB_GID"]) == (str(os.getuid()), str(os.getgid()))
