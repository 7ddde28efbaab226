"""notebooks/tour.ipynb, run headless on local[2] with nbclient: it runs
through, draws the loss curve, and gives the jobs' own numbers."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jobs import gd
from jobs.data.table import Split, load_table
from jobs.wordcount import Tokenizer, counter_reference
from tests.conftest import ROOT

TOUR = ROOT / "notebooks" / "tour.ipynb"


def tour_function(name: str):
    """A function defined in one of the tour's code cells, compiled alone (no kernel, no Spark)."""
    for cell in json.loads(TOUR.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and f"def {name}(" in source:
            tree = ast.parse(source)
            definition = next(node for node in tree.body if getattr(node, "name", None) == name)
            namespace: dict = {}
            exec(compile(ast.Module([definition], type_ignores=[]), str(TOUR), "exec"), namespace)
            return namespace[name]
    raise AssertionError(f"no cell of {TOUR} defines {name}")


def test_the_tours_ui_links_on_the_cluster_go_through_the_master_uis_proxy():
    ui_link = tour_function("ui_link")
    app = "app-20261206073000-0004"
    assert ui_link("spark://master:7077", app, "jobs/", master_ui="http://127.0.0.1:8080", local_ui=None) == (
        f"http://127.0.0.1:8080/proxy/{app}/jobs/"
    )
    # The containers' server-relative SPARKLAB_PROXY_URL (`/`) once made `//proxy/...`.
    assert ui_link("spark://master:7077", app, "", master_ui="http://127.0.0.1:18081/", local_ui=None) == (
        f"http://127.0.0.1:18081/proxy/{app}/"
    )
    assert ui_link(
        "local[2]", app, "storage/", master_ui="http://127.0.0.1:8080", local_ui="http://host:4041"
    ) == ("http://host:4041/storage/")


def test_the_tour_reads_no_server_relative_proxy_url():
    assert "SPARKLAB_PROXY_URL" not in TOUR.read_text()


@pytest.mark.slow
def test_the_tour_runs_headless_on_local_with_the_jobs_numbers(spark, wine_csv):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPARKLAB_DATA": str(ROOT / "data")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "tour_runner.py"), str(ROOT / "notebooks" / "tour.ipynb"),
         json.dumps({"MASTER": "local[2]", "ITERATIONS": 20})],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    assert numbers["figures"] == 1
    peter = (ROOT / "data" / "peter_piper.txt").read_text()
    assert numbers["wordcount_counts"] == counter_reference([peter], Tokenizer())
    fit = gd.fit_gd(
        spark.sparkContext, load_table(spark, wine_csv, split=Split(), partitions=2), iterations=20
    )
    np.testing.assert_allclose(numbers["gd_weights"], fit.weights, rtol=1e-9, atol=1e-12)
    assert (numbers["gd_jobs"], numbers["cv_jobs"]) == (20, 20)
