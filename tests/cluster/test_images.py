"""cluster.images.runtime_requirements: the executors' pins, taken from the lock (no Docker)."""

import tomllib

import pytest

from cluster import images
from cluster.settings import ROOT

LOCK = """\
# The one pinned set (comment lines and blank lines are ignored)
certifi==2026.10.18

numpy-financial==1.0.0
NumPy==2.3.5
pandas==2.3.3 ; python_version >= "3.11"
py4j==0.10.9.9
py_spark_tools==0.1
pyarrow==22.0.0
pyspark==4.3.0
"""


def test_runtime_requirements_are_the_runtime_pins_in_runtime_order(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    assert images.runtime_requirements(lock) == [
        "pyspark==4.3.0",
        "py4j==0.10.9.9",
        "NumPy==2.3.5",  # the name as the lock spells it; matched case-insensitively
        "pandas==2.3.3",
        "pyarrow==22.0.0",
    ]


def test_a_lock_without_a_runtime_pin_is_an_error_naming_it(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.3.5\npandas>=2\nnumpy-financial==1.0.0\npyspark==4.3.0\n")
    with pytest.raises(images.ImageError, match=r"requirements.lock: no pin for py4j, pandas, pyarrow$"):
        images.runtime_requirements(lock)


def test_the_projects_lock_pins_what_pyproject_pins_for_the_executors():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(images.runtime_requirements()) == sorted(dependencies)
