"""What an experiment's Spark part is given in the driver: the master, the
wine data, the size to run at, sessions, progress on stderr.

Sessions are shared: an experiment that asks for the master and settings of
the session already open gets that one (one application for several
experiments, as the tests run them); asking for others stops it and starts
a new application. `close()` stops whatever is open. Ask for local[*]
sessions last: after one, a cluster session in the same driver JVM failed to
register with the master here (data-size asks for its local[*] last; the
tests run data-size in a spark-submit of its own).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobs.runtime.session import build_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class Context:
    name: str  # the experiment running now
    master: str  # the cluster's (or local[*] when run here)
    data: str  # the wine CSV, as the driver sees it
    smallest: bool  # the test suite's size: seconds, not minutes
    apps: list[dict] = field(default_factory=list)  # the applications the current experiment used
    _open: tuple[tuple, Any] | None = None

    def progress(self, message: str) -> None:
        print(f"experiment {self.name}: {message}", file=sys.stderr, flush=True)

    @contextmanager
    def session(
        self, label: str, master: str | None = None, conf: Mapping[str, str] | None = None
    ) -> Iterator[SparkSession]:
        """A session on `master` (the context's by default) with `conf`: the open one when it matches."""

        master = master or self.master
        key = (master, tuple(sorted((conf or {}).items())))
        if self._open is None or self._open[0] != key:
            self.close()
            # The application's name says what it ran (the history server lists it by name).
            spark = build_session(master, f"sparklab-experiment-{self.name}", conf=conf)
            self._open = (key, spark)
            self.progress(f"application {spark.sparkContext.applicationId} on {master}")
        spark = self._open[1]
        self.apps.append({"label": label, "app_id": spark.sparkContext.applicationId, "master": master})
        yield spark

    def group(self, sc, group: str, description: str = "") -> str:
        """Label the jobs that follow `NAME/group` (the monitoring API lists them by
        group; the experiment's name keeps them apart in a shared application)."""
        labelled = f"{self.name}/{group}"
        sc.setJobGroup(labelled, description or labelled)
        return labelled

    def close(self) -> None:
        if self._open is not None:
            self._open[1].stop()
            self._open = None
