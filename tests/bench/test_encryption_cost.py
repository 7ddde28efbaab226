"""The encryption and cluster-vs-local rows of `./lab bench --on cluster`
(jobs.bench.suite.encryption_ratios, cluster_vs_local_ratios and their sentences
in bench.md), without Spark: the measured numbers are given."""

import pytest

from jobs.bench.bench_report import write_bench_report
from jobs.bench.suite import ENCRYPTION_OFF, ENCRYPTION_ON, encryption_ratios
from tests.bench.test_round_trip import bench_json


def timing(fit: float, empty: float, load: float = 1.0) -> dict:
    return {"fit_per_iteration_seconds": fit, "empty_job_seconds": empty, "load_seconds": load}


def test_the_ratios_set_encrypted_against_plain():
    cost = {"on": timing(0.060, 0.050), "off": timing(0.040, 0.025)}
    ratios = encryption_ratios(cost)
    assert ratios["encrypted_vs_plain_fit"] == pytest.approx(1.5, rel=1e-12)
    assert ratios["encrypted_vs_plain_empty_job"] == pytest.approx(2.0, rel=1e-12)


def test_the_report_states_both_runs_and_the_ratios(tmp_path):
    result = bench_json(iterations=10)
    result["encryption_cost"] = {"on": timing(0.060, 0.050, 2.5), "off": timing(0.040, 0.025, 2.0)}
    result["ratios"] |= encryption_ratios(result["encryption_cost"])
    text = write_bench_report(result, tmp_path).read_text()
    assert "| `encrypted_vs_plain_fit` | 1.500 | The same for the GD fit's time per iteration" in text
    assert "| `encrypted_vs_plain_empty_job` | 2.000 | On the cluster, one empty job" in text
    assert "60.0 / 40.0 ms per fit iteration, 50.0 / 25.0 ms per empty job, 2.50 / 2.00 s to load" in text


def test_off_turns_off_exactly_what_on_turns_on():
    # The cipher needs no "off": without crypto it is unused.
    assert set(ENCRYPTION_OFF) == set(ENCRYPTION_ON) - {"spark.network.crypto.cipher"}
    assert set(ENCRYPTION_OFF.values()) == {"false"}
    assert ENCRYPTION_ON["spark.network.crypto.cipher"] == "AES/GCM/NoPadding"


def test_on_is_what_the_images_turn_on_for_every_daemon():
    from cluster.settings import ROOT

    entrypoint = (ROOT / "cluster" / "images" / "entrypoint.sh").read_text()
    for key, value in ENCRYPTION_ON.items():
        assert f'echo "{key} {value}"' in entrypoint, key


def test_the_cluster_is_set_against_local_with_the_same_slots(tmp_path):
    from jobs.bench.suite import cluster_vs_local_ratios

    ratios = cluster_vs_local_ratios(timing(0.060, 0.048), timing(0.040, 0.032))
    assert ratios["cluster_vs_local_fit"] == pytest.approx(1.5, rel=1e-12)
    assert ratios["cluster_vs_local_empty_job"] == pytest.approx(1.5, rel=1e-12)
    result = bench_json(iterations=10)
    result["ratios"] |= ratios
    text = write_bench_report(result, tmp_path).read_text()
    assert "| `cluster_vs_local_empty_job` | 1.500 | The scheduling floor" in text


def test_the_command_lines_runs_are_combined_by_each_times_median():
    from jobs.bench.suite import median_timing

    runs = [timing(0.050, 0.040, 2.0), timing(0.070, 0.030, 1.0), timing(0.055, 0.090, 3.0)]
    for run in runs:
        run["rpc_encrypted"] = True
    combined = median_timing(runs)
    assert combined["fit_per_iteration_seconds"] == pytest.approx(0.055, rel=1e-12)
    assert combined["empty_job_seconds"] == pytest.approx(0.040, rel=1e-12)
    assert combined["load_seconds"] == pytest.approx(2.0, rel=1e-12)
    assert combined["rpc_encrypted"] is True  # not a time: taken as it is
    assert combined["runs"] == 3


def test_the_report_states_the_command_lines_medians_on_both_runtimes(tmp_path):
    result = bench_json(iterations=10)
    result["cli_gd_timing"] = timing(0.0452, 0.0381) | {"runs": 3}
    result["cli_gd_timing_local"] = timing(0.0350, 0.0290) | {"runs": 3}
    text = write_bench_report(result, tmp_path).read_text()
    expected = "The command line's gd (median of 3 runs): 45.2 ms per fit iteration, 38.1 ms per empty job"
    assert expected in text
    assert f"on local[{result['partitions']}] in the driver's container: 35.0 and 29.0 ms" in text
