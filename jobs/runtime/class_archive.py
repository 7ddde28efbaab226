"""A JVM class archive (AppCDS) of Spark's classes: JVMs that map it start
without parsing and verifying some ten thousand classes from the jars again.

Measured here: a local[2] application took 7.5 s and 7.4 CPU-seconds from
spark-submit to its end, 5.1 s and 4.7 with the archive. Spark's JVMs are
short-lived in this lab (every job, every executor), so that is most of what
a short job costs.

`python -m jobs.runtime.class_archive OUT.jsa` writes the archive: a
spark-submit of this file (the JVM is the parent, so the archive is whole
when it returns) runs `warm_up` on local[2] and dumps the classes it loaded
at exit; beside it, OUT.path holds the class path it was written with. The
image build writes one for the containers' JVMs (cluster/images/install-runtime.sh;
entrypoint.sh uses it) and `./lab` one for the local driver (`.venv/sparklab-classes.jsa`).

The JVM checks an archive against its own version and against its class path
up to the last entry the archived classes came from (each jar's name, size
and time). Spark's own class path is its conf dir, then `jars/*`, which the
JVM expands in the file system's order, and that differs between containers:
so the jars come first, explicitly and sorted (`spark.driver.extraClassPath`,
`spark.executor.extraClassPath`), and everything after them is never
checked. When anything differs, the JVM silently loads classes from the jars
as before: an archive can only make a start faster, never break it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Quiet: a stale archive is skipped with a warning on stdout otherwise.
ARCHIVE_OPTIONS = "-XX:SharedArchiveFile={path} -Xlog:cds*=off"
HOST_ARCHIVE = Path(sys.prefix) / "sparklab-classes.jsa"  # per venv: its jars' paths are in it


def class_path_file(archive: Path) -> Path:
    return archive.with_suffix(".path")


def archive_options(archive: Path) -> str:
    """The JVM options that use the archive ("" without one, or without its class path)."""
    usable = archive.is_file() and class_path_file(archive).is_file()
    return ARCHIVE_OPTIONS.format(path=archive) if usable else ""


def archive_class_path(archive: Path) -> str | None:
    """The class path to put first (extraClassPath) for the archive, if there is one."""
    return class_path_file(archive).read_text().strip() if archive_options(archive) else None


def jars_class_path(spark_home: Path) -> str:
    """Spark's jars, sorted by name: the same order wherever the same jars are."""
    return ":".join(str(jar) for jar in sorted((spark_home / "jars").glob("*.jar")))


def maps_archive(pid: int, path: Path) -> bool:
    """Whether the process `pid` has the archive at `path` mapped (Linux's /proc)."""
    return str(path.resolve()) in Path(f"/proc/{pid}/maps").read_text()


def warm_up(spark) -> None:
    """What the jobs do, in small: text, Python RDD stages, a shuffle, a
    broadcast, a cached RDD, DataFrames (the classes a job's JVM loads)."""
    sc = spark.sparkContext
    with tempfile.TemporaryDirectory() as directory:
        text = Path(directory) / "words.txt"
        text.write_text("peter piper picked a peck\nof pickled peppers\n" * 50)
        words = sc.textFile(str(text), 2).flatMap(str.split).map(lambda word: (word, 1))
        words.reduceByKey(lambda a, b: a + b).collect()
    weights = sc.broadcast([0.5] * 12)
    rows = sc.parallelize(range(2000), 2).map(lambda i: (i % 7, float(i))).cache()
    rows.map(lambda row: row[1] * weights.value[0]).reduce(lambda a, b: a + b)
    rows.unpersist()
    frame = spark.createDataFrame([(i % 5, float(i)) for i in range(200)], ["key", "value"])
    frame.groupBy("key").sum("value").collect()


def write_archive(out: Path, spark_submit: str = "spark-submit", timeout: float | None = None) -> Path:
    """Run `warm_up` under spark-submit on local[2] and dump its classes to `out`,
    its class path to `out`.path (each written beside itself first, then
    renamed: the archive is whole or absent)."""
    import pyspark

    class_path = jars_class_path(Path(pyspark.__file__).parent)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    options = f"-XX:ArchiveClassesAtExit={partial} -Xlog:cds*=off"
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    command = [
        spark_submit,
        *("--master", "local[2]", "--conf", "spark.ui.enabled=false"),
        *("--conf", "spark.driver.host=127.0.0.1", "--conf", f"spark.driver.extraClassPath={class_path}"),
        *("--driver-java-options", options, __file__, "--warm-up"),
    ]
    try:
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the class archive was not written in {timeout:.0f} s") from None
        if done.returncode != 0 or not partial.is_file():
            raise RuntimeError(f"the class archive was not written: {done.stderr.strip()[-2000:]}")
        path_partial = partial.with_suffix(".path")
        path_partial.write_text(class_path + "\n")
        path_partial.rename(class_path_file(out))
        partial.rename(out)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_suffix(".path").unlink(missing_ok=True)
    return out


def main(argv: list[str]) -> int:
    if argv == ["--warm-up"]:  # under spark-submit (write_archive)
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        warm_up(spark)
        spark.stop()
        return 0
    # --timeout SECONDS: ./lab's, for the host's archive (an archive only saves
    # start-up time: a machine too busy to write it goes on without one); the
    # image build waits as long as it takes.
    timeout = float(argv[argv.index("--timeout") + 1]) if argv[:1] == ["--timeout"] else None
    argv = argv[2:] if timeout is not None else argv
    if len(argv) != 1:
        print("usage: python -m jobs.runtime.class_archive [--timeout SECONDS] OUT.jsa", file=sys.stderr)
        return 2
    spark_submit = Path(sys.prefix, "bin", "spark-submit")
    write_archive(Path(argv[0]), str(spark_submit) if spark_submit.exists() else "spark-submit", timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
