"""jobs.runtime.class_archive: the JVM class archive of Spark's classes (real JVMs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from jobs.runtime import class_archive
from jobs.runtime.class_archive import (
    HOST_ARCHIVE,
    archive_class_path,
    archive_options,
    jars_class_path,
    maps_archive,
)


def test_an_archive_is_used_only_with_the_class_path_it_was_written_with(tmp_path):
    archive = tmp_path / "some.jsa"
    assert archive_options(archive) == ""
    archive.write_bytes(b"x")
    assert archive_options(archive) == ""  # no class path beside it: not used
    assert archive_class_path(archive) is None
    (tmp_path / "some.path").write_text("/a.jar:/b.jar\n")
    assert archive_options(archive).split() == [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds*=off"]
    assert archive_class_path(archive) == "/a.jar:/b.jar"


def test_the_jars_come_sorted_by_name(tmp_path):
    (tmp_path / "jars").mkdir()
    for name in ("zstd.jar", "Alpha.jar", "spark-core.jar", "notes.txt"):
        (tmp_path / "jars" / name).write_bytes(b"")
    jars = tmp_path / "jars"
    assert jars_class_path(tmp_path) == f"{jars}/Alpha.jar:{jars}/spark-core.jar:{jars}/zstd.jar"


def test_an_archive_that_does_not_fit_is_skipped_silently(tmp_path):
    """A stale or broken archive must never stop a JVM or print into a job's output."""
    broken = tmp_path / "broken.jsa"
    broken.write_bytes(b"not an archive" * 100)
    java = shutil.which("java")
    done = subprocess.run(
        [java, *archive_options(broken).split(), "-version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "archive" not in done.stderr.lower(), done.stderr


def test_the_local_driver_jvm_maps_the_venvs_archive(spark):
    if not HOST_ARCHIVE.is_file():
        pytest.fail(f"no class archive at {HOST_ARCHIVE}: run `./lab --list` (it writes it once)")
    jvm = spark.sparkContext._gateway.proc  # pyspark's child JVM (spark-submit execs java)
    assert maps_archive(jvm.pid, HOST_ARCHIVE), f"the JVM {jvm.pid} did not map {HOST_ARCHIVE}"


def test_the_venvs_archive_holds_sparks_classes(tmp_path):
    """The archive `./lab` wrote: a JVM that must use it (-Xshare:on fails
    otherwise) runs the warm-up again, Spark's classes coming from the archive."""
    if not HOST_ARCHIVE.is_file():
        pytest.fail(f"no class archive at {HOST_ARCHIVE}: run `./lab --list` (it writes it once)")
    log = tmp_path / "loaded.txt"
    options = f"-Xshare:on -XX:SharedArchiveFile={HOST_ARCHIVE} -Xlog:class+load=info:file={log}"
    first = f"spark.driver.extraClassPath={archive_class_path(HOST_ARCHIVE)}"
    done = subprocess.run(
        [
            str(HOST_ARCHIVE.parent / "bin" / "spark-submit"),
            *("--master", "local[2]", "--conf", "spark.ui.enabled=false", "--conf", first),
            *("--driver-java-options", options, class_archive.__file__, "--warm-up"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ | {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = [line for line in log.read_text().splitlines() if " org.apache.spark." in line]
    shared = [line for line in loaded if "shared objects file" in line]
    # Not all: classes made at run time (lambdas, proxies) and pre-Java-6 ones are never archived.
    assert len(shared) > 0.5 * len(loaded) > 1000, (len(shared), len(loaded))
