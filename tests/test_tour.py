"""notebooks/tour.ipynb, run headless on local[2] with nbclient: it runs
through, draws the loss curve, and gives the jobs' own numbers."""

from __future__ import annotations

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

pytestmark = pytest.mark.slow


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
