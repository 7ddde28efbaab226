"""cluster.images.runtime_requirements: the executors' pins, taken from the lock (no Docker)."""

import time
import tomllib

import pytest

from cluster import images
from cluster.settings import ROOT
from jobs.runtime.run_tags import CONNECT, NOTEBOOK, OWNER_CONF, RUN_CONF

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


def _start_stand_in_base_build(tmp_path, seconds: float):
    """A real process named build-base.sh, started as ./lab starts the real one."""
    import subprocess

    script = tmp_path / "build-base.sh"
    # Not its last command: a shell may exec that, and lose the script's name.
    script.write_text(f"#!/bin/sh\nsleep {seconds}\nexit 0\n")
    script.chmod(0o755)
    build = subprocess.Popen([str(script)])
    # Between fork and exec the child still shows the parent's command line;
    # ./lab's build has run for minutes when the image build looks for it.
    deadline = time.monotonic() + 5
    while seconds and not images._is_base_build(build.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return build


def test_the_base_build_beside_the_set_up_is_waited_for(tmp_path, monkeypatch, capsys):
    build = _start_stand_in_base_build(tmp_path, 1.5)
    pid_file = tmp_path / "base-build.pid"
    pid_file.write_text(f"{build.pid}\n")
    monkeypatch.setattr(images, "BASE_BUILD_PID", pid_file)
    ended_when_the_image_was_looked_for = []
    monkeypatch.setattr(
        images,
        "image_exists",
        lambda tag: ended_when_the_image_was_looked_for.append(build.poll() == 0) or True,
    )

    images._wait_for_base_build_beside_setup()

    assert ended_when_the_image_was_looked_for == [True]  # not looked for while it still ran
    assert not pid_file.exists()
    assert "waiting for the build ./lab started beside the set-up" in capsys.readouterr().err


def test_a_failed_or_absent_base_build_beside_the_set_up_is_said_and_not_waited_for(
    tmp_path, monkeypatch, capsys
):
    pid_file = tmp_path / "base-build.pid"
    monkeypatch.setattr(images, "BASE_BUILD_PID", pid_file)
    monkeypatch.setattr(images, "image_exists", lambda tag: False)
    images._wait_for_base_build_beside_setup()  # none started: nothing said
    assert capsys.readouterr().err == ""

    ended = _start_stand_in_base_build(tmp_path, 0)
    ended.wait()
    pid_file.write_text(f"{ended.pid}\n")
    images._wait_for_base_build_beside_setup()
    assert "the build beside the set-up made no image" in capsys.readouterr().err
    assert not pid_file.exists()


def test_the_connect_server_and_notebook_kernels_carry_the_run_tags_by_their_one_name():
    """entrypoint.sh and kernel.sh are shell: they spell the confs of
    jobs/runtime/run_tags.py, which `./lab status` and `./lab stop` read."""
    entrypoint = (images.HERE / "entrypoint.sh").read_text()
    kernel = (images.HERE / "kernel.sh").read_text()
    assert f'--conf "{RUN_CONF}=connect-' in entrypoint
    assert f"--conf {OWNER_CONF}={CONNECT}" in entrypoint
    assert f"--conf {RUN_CONF}=$run --conf {OWNER_CONF}={NOTEBOOK}" in kernel
    assert "kernel.sh" in images.APP_FILES  # in the image's content hash
