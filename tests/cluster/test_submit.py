"""cluster.inputs.container_path: which host files the containers see, and where (no Docker)."""

import pytest

from cluster.inputs import container_path
from cluster.settings import ROOT, ClusterError


@pytest.fixture(autouse=True)
def no_data_settings(monkeypatch):
    """data_dir() from the project's .env (./data) unless a test says otherwise."""
    monkeypatch.delenv("SPARKLAB_WINE_CSV", raising=False)
    monkeypatch.delenv("SPARKLAB_DATA_DIR", raising=False)


def test_a_file_under_data_is_under_sparklab_data():
    assert container_path(str(ROOT / "data" / "peter_piper.txt")) == "/sparklab/data/peter_piper.txt"
    assert container_path(str(ROOT / "data" / "corpus" / "a b.txt")) == "/sparklab/data/corpus/a b.txt"


def test_a_relative_path_is_taken_from_the_current_directory(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert container_path("data/peter_piper.txt") == "/sparklab/data/peter_piper.txt"
    monkeypatch.chdir(ROOT / "data")
    assert container_path("peter_piper.txt") == "/sparklab/data/peter_piper.txt"


def test_the_wine_csvs_own_directory_is_under_sparklab_external(tmp_path, monkeypatch):
    wine = tmp_path / "wine" / "winequality-white.csv"
    wine.parent.mkdir()
    wine.write_text('"a";"quality"\n1;5\n')
    monkeypatch.setenv("SPARKLAB_WINE_CSV", str(wine))
    assert container_path(str(wine)) == "/sparklab/external/winequality-white.csv"


def test_the_data_dir_setting_is_under_sparklab_external(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKLAB_DATA_DIR", str(tmp_path))
    assert container_path(str(tmp_path / "sub" / "x.csv")) == "/sparklab/external/sub/x.csv"


@pytest.mark.parametrize(
    "where",
    [
        lambda tmp_path: tmp_path / "elsewhere.csv",
        lambda tmp_path: ROOT / "tasks.py",
        lambda tmp_path: ROOT / "data" / ".." / "tasks.py",  # no escaping data/ with ..
        lambda tmp_path: ROOT / "data-other" / "x.csv",  # a sibling sharing the prefix
    ],
)
def test_a_file_elsewhere_is_not_visible_and_the_error_says_what_to_do(tmp_path, where):
    path = str(where(tmp_path))
    with pytest.raises(ClusterError) as error:
        container_path(path)
    assert str(error.value) == (
        f"{path}: not visible to the cluster; put it under data/ or set "
        f"SPARKLAB_DATA_DIR to its directory and run `./lab up` again"
    )
