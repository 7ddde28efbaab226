"""jobs.report.run_report.write_report from small hand-made job payloads (no Spark)."""

import copy

import pytest

from jobs.report.run_report import write_report

PNG = b"\x89PNG\r\n\x1a\n"
LOCAL, CLUSTER = "local[*]", "cluster (2 workers)"


def wordcount_payload(master: str) -> dict:
    return {
        "job": "wordcount",
        "master": master,
        "seconds": 1.5,
        "files": ["/sparklab/data/peter_piper.txt"],
        "total_words": 10,
        "distinct_words": 3,
        "top": [["peck", 5], ["Peter", 4], ["Piper", 1]],
        "counts": {"Peter": 4, "Piper": 1, "peck": 5},
        "metrics": {"jobs": 1, "stages": 2, "tasks": 4, "job_seconds": 0.25, "executors": 2},
    }


def gd_payload(master: str, data: str) -> dict:
    return {
        "job": "gd",
        "master": master,
        "seconds": 3.25,
        "weights": [5.5, 0.25, -0.125, 0.5],
        "raw_weights": [4.0, 0.125, -0.0625, 0.25],
        "train_mse": [2.0, 1.0, 0.75],
        "test_mse": [2.5, 1.25, 0.875],
        "final_train_mse": 0.75,
        "final_test_mse": 0.875,
        "iterations": 3,
        "lr": 0.1,
        "data": data,
        "feature_names": ["a", "b", "c"],
        "target": "y",
        "n_train": 16,
        "n_test": 4,
        "skipped_lines": 0,
        "skipped_examples": [],
        "metrics": {"jobs": 3, "stages": 3, "tasks": 6},
    }


def cv_payload(master: str) -> dict:
    folds = [
        {
            "fold": j,
            "weights": [5.5, 0.25 + j, -0.125, 0.5],
            "train_mse": [2.0, 1.0 + j, 0.5 + j],
            "val_mse": [2.5, 1.5 + j, 1.0 + j],
            "n_train": 8,
            "n_val": 8,
        }
        for j in range(2)
    ]
    return {
        "job": "cv",
        "master": master,
        "seconds": 4.0,
        "folds": folds,
        "mean_train_mse": [2.0, 1.5, 1.0],
        "mean_val_mse": [2.5, 2.0, 1.5],
        "final_mean_val_mse": 1.5,
        "k": 2,
        "iterations": 3,
        "lr": 0.1,
    }


def make_runs(csv_path: str) -> dict:
    local = {
        "wordcount": wordcount_payload("local[*]"),
        "gd": gd_payload("local[*]", csv_path),
        "cv": cv_payload("local[*]"),
    }
    local["gd"] |= {"skipped_lines": 2, "skipped_examples": [[3, "expected 4 fields, found 3"]]}
    cluster = copy.deepcopy(local)
    for payload in cluster.values():
        payload["master"] = "spark://master:7077"
        payload["seconds"] = 9.0
    cluster["gd"]["weights"][2] *= 1 + 1e-10  # another summation order: still equal
    cluster["cv"]["folds"][1]["val_mse"][2] = 2.5  # really different
    return {LOCAL: local, CLUSTER: cluster}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One report for the module (the plots take a second or two): (its directory, its text)."""
    data = tmp_path_factory.mktemp("data") / "data.csv"
    rows = [f"{i};{i % 3};{(i * 7) % 5};{5 + i % 4}" for i in range(20)]
    data.write_text("\n".join(['"a";"b";"c";"y"', *rows]) + "\n")
    out = tmp_path_factory.mktemp("run")
    report = write_report(out, make_runs(str(data)), notes=["Cluster skipped (--local-only)."])
    assert report == out / "report.md"
    return out, report.read_text()


def table_rows(text: str, header_start: str) -> list[list[str]]:
    """The rows of the markdown table whose header starts with `header_start`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_results_table_has_one_row_per_job_and_runtime_with_equal_column(written):
    _, text = written
    assert "| job | runtime | master | seconds | result | equal to local[*] |" in text
    assert "> Cluster skipped (--local-only)." in text
    assert table_rows(text, "| job | runtime | master |") == [
        ["wordcount", LOCAL, "local[*]", "1.50", "3 distinct words; top: 'peck' x5", "reference"],
        ["gd", LOCAL, "local[*]", "3.25", "test MSE 0.875000 after 3 iterations", "reference"],
        ["cv", LOCAL, "local[*]", "4.00", "mean validation MSE 1.500000 (2 folds)", "reference"],
        ["wordcount", CLUSTER, "spark://master:7077", "9.00", "3 distinct words; top: 'peck' x5", "yes"],
        ["gd", CLUSTER, "spark://master:7077", "9.00", "test MSE 0.875000 after 3 iterations", "yes"],
        [
            "cv",
            CLUSTER,
            "spark://master:7077",
            "9.00",
            "mean validation MSE 1.500000 (2 folds)",
            "**no**: fold 1 val_mse: differs by 0.25 relative (allowed 1e-09)",
        ],
    ]


def test_spark_metrics_table_shows_dashes_for_what_was_not_measured(written):
    _, text = written
    rows = table_rows(text, "| job | runtime | Spark jobs |")
    assert rows[0] == ["wordcount", LOCAL, "1", "2", "4", "-", "0.25", "-", "-", "-", "2", "-"]
    assert rows[2] == ["cv", LOCAL, *["-"] * 10]


def test_word_count_gd_and_cv_sections_come_from_the_reference_runtime(written):
    _, text = written
    assert table_rows(text, "| word | count |") == [["`peck`", "5"], ["`Peter`", "4"], ["`Piper`", "1"]]
    assert "10 words in 1 file(s), 3 distinct." in text
    assert table_rows(text, "| term |") == [
        ["(intercept)", "5.50000", "4"],
        ["a", "0.25000", "0.125"],
        ["b", "-0.12500", "-0.0625"],
        ["c", "0.50000", "0.25"],
    ]
    assert "train MSE 2.0000 -> 0.7500, test MSE 2.5000 -> 0.8750." in text
    assert table_rows(text, "| fold |") == [
        ["0", "8", "8", "0.50000", "1.00000"],
        ["1", "8", "8", "1.50000", "2.00000"],
    ]


def test_skipped_lines_are_reported_with_examples(written):
    _, text = written
    assert "Skipped 2 bad lines, for example: line 3: expected 4 fields, found 3" in text


def test_every_plot_the_report_links_is_written_as_a_png(written):
    out, text = written
    linked = {part.split(")")[0] for part in text.split("](")[1:]}
    assert linked == {
        "gd_loss.png",
        "cv_loss.png",
        "eda_histograms.png",
        "eda_boxplots.png",
        "eda_correlations.png",
    }
    for name in linked:
        assert (out / name).read_bytes().startswith(PNG), name
    assert sorted(p.name for p in out.iterdir()) == sorted([*linked, "report.md"])


def test_a_wordcount_only_run_writes_no_plots(tmp_path):
    report = write_report(tmp_path, {LOCAL: {"wordcount": wordcount_payload("local[*]")}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]
    assert "## Word count" in report.read_text()


def test_the_time_table_puts_load_and_warm_up_apart_from_the_fit(tmp_path):
    data = tmp_path / "data.csv"
    rows = [f"{i};{i % 3};{(i * 7) % 5};{5 + i % 4}" for i in range(20)]
    data.write_text("\n".join(['"a";"b";"c";"y"', *rows]) + "\n")
    runs = make_runs(str(data))
    timing = {
        "load_seconds": 0.5,
        "warm_up_seconds": 0.75,
        "fit_seconds": 2.25,
        "fit_per_iteration_seconds": 0.045,
        "empty_job_seconds": 0.036,
    }
    runs[CLUSTER]["gd"]["timing"] = timing
    runs[LOCAL]["gd"]["timing"] = {k: v for k, v in timing.items() if k != "warm_up_seconds"}  # older JSON
    text = write_report(tmp_path / "run", runs).read_text()
    rows = {row[1]: row for row in table_rows(text, "| job | runtime | load s")}
    assert rows[CLUSTER] == ["gd", CLUSTER, "0.50", "0.75", "2.25", "45.0", "36.0", "1.25"]
    assert rows[LOCAL][3] == "-"
