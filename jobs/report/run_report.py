"""The run report: results side by side per runtime, timings, and plots."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from jobs.report import charts
from jobs.report.equality import difference
from jobs.report.files import write_text_atomic
from jobs.runtime.metrics import SUMMARY_KEYS

Runs = dict[str, dict[str, dict]]  # runtime label -> job name -> the job's JSON


def _headline(job: str, payload: dict) -> str:
    if job == "wordcount":
        word, count = payload["top"][0] if payload["top"] else ("-", 0)
        return f"{payload['distinct_words']} distinct words; top: {word!r} x{count}"
    if job == "gd":
        return f"test MSE {payload['final_test_mse']:.6f} after {payload['iterations']} iterations"
    return f"mean validation MSE {payload['final_mean_val_mse']:.6f} ({payload['k']} folds)"


def _number(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _timing_table(runs: Runs) -> list[str]:
    """Where a regression job's time went: load apart from the fit, and the fit's
    time per iteration beside an empty job's on the same runtime (the floor)."""
    rows = [
        [
            job,
            label,
            f"{t['load_seconds']:.2f}",
            f"{t['warm_up_seconds']:.2f}" if "warm_up_seconds" in t else "-",
            f"{t['fit_seconds']:.2f}",
            f"{t['fit_per_iteration_seconds'] * 1000:.1f}",
            f"{t['empty_job_seconds'] * 1000:.1f}",
            f"{t['fit_per_iteration_seconds'] / t['empty_job_seconds']:.2f}",
        ]
        for label, jobs in runs.items()
        for job, payload in jobs.items()
        if (t := payload.get("timing"))
    ]
    if not rows:
        return []
    header = [
        "job",
        "runtime",
        "load s",
        "warm-up s",
        "fit s",
        "fit ms/iteration",
        "empty job ms",
        "iteration / empty job",
    ]
    return [
        "## Where the time went",
        "",
        "Load (read, check, split, fill the cache) apart from the fit; so is the warm-up, "
        "empty jobs that compile the scheduler's per-job code in the young JVMs "
        "before the fit. Each iteration is one Spark job, so its floor is an empty job on the same "
        "runtime, measured in the same session. "
        "On the cluster every job pays authenticated, encrypted RPC to executors in other "
        "containers; `./lab bench` measures the same fit without the UI and progress lines.",
        "",
        *_table(header, rows),
    ]


def write_report(
    out_dir: Path, runs: Runs, notes: list[str] | None = None, phases: list[str] | None = None
) -> Path:
    """Write plots and `report.md` into `out_dir`; the first runtime is the reference.

    `phases`: a markdown table of how long each phase of the command took."""
    out_dir = Path(out_dir)
    reference = runs[next(iter(runs))]
    draw_charts(reference, out_dir)
    return write_text_atomic(out_dir / "report.md", "\n".join(report_lines(runs, notes, phases)) + "\n")


def draw_charts(reference: dict[str, dict], out_dir: Path) -> None:
    """The reference run's charts: GD's loss and the data, CV's loss."""
    if "gd" in reference:
        charts.plot_gd(reference["gd"], out_dir / "gd_loss.png")
        charts.plot_eda(reference["gd"]["data"], out_dir)
    if "cv" in reference:
        charts.plot_cv(reference["cv"], out_dir / "cv_loss.png")


def report_lines(runs: Runs, notes: list[str] | None, phases: list[str] | None) -> list[str]:
    """report.md's lines: the runs side by side, then each job's own section."""
    labels = list(runs)
    reference = runs[labels[0]]
    lines = [
        "# SparkLab run report",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M:%S')} on {platform.node()}, Python {platform.python_version()}, "
        f"runtimes: {', '.join(labels)}.",
        "",
        *(f"> {note}" for note in notes or []),
        "",
        *(["## Time to this report", "", *phases] if phases else []),
        "## Results side by side",
        "",
    ]
    lines += _results_table(runs)
    lines += _timing_table(runs)
    lines += _spark_section(runs)
    if "wordcount" in reference:
        lines += _wordcount_section(reference["wordcount"])
    if "gd" in reference:
        lines += _gd_section(reference["gd"])
    if "cv" in reference:
        lines += _cv_section(reference["cv"])
    return lines


def _results_table(runs: Runs) -> list[str]:
    labels = list(runs)
    reference = runs[labels[0]]
    rows = []
    for label, jobs in runs.items():
        for job, payload in jobs.items():
            if label == labels[0] or job not in reference:
                same = "reference"
            else:
                diff = difference(job, reference[job], payload)
                same = "yes" if diff is None else f"**no**: {diff}"
            rows.append(
                [job, label, payload["master"], f"{payload['seconds']:.2f}", _headline(job, payload), same]
            )
    return _table(["job", "runtime", "master", "seconds", "result", f"equal to {labels[0]}"], rows)


def _spark_section(runs: Runs) -> list[str]:
    source = "From the application's monitoring API (each job's own Spark jobs), read before it stopped."
    lines = ["## What Spark did", "", source, ""]
    lines += _table(
        [
            "job",
            "runtime",
            "Spark jobs",
            "stages",
            "tasks",
            "failed tasks",
            "Spark job s",
            "input bytes",
            "shuffle read",
            "shuffle write",
            "executors",
            "executors lost",
        ],
        [
            [
                job,
                label,
                *(_number(payload.get("metrics", {}).get(key, "-")) for key in SUMMARY_KEYS),
            ]
            for label, jobs in runs.items()
            for job, payload in jobs.items()
        ],
    )
    lines += [
        "Word count is one job of two stages (map side, shuffle, reduce side); every gradient descent "
        "or cross-validation iteration is one job of one stage over the cached blocks, without a shuffle.",
        "",
    ]
    return lines


def _wordcount_section(wc: dict) -> list[str]:
    lines = [
        "## Word count",
        "",
        f"{wc['total_words']} words in {len(wc['files'])} file(s), "
        f"{wc['distinct_words']} distinct. Most frequent:",
        "",
    ]
    return lines + _table(["word", "count"], [[f"`{w}`", str(c)] for w, c in wc["top"]])


def _gd_section(gd: dict) -> list[str]:
    lines = [
        "## Linear regression by gradient descent",
        "",
        f"{gd['n_train']} train and {gd['n_test']} test rows, {gd['iterations']} iterations at "
        f"lr {gd['lr']}: train MSE {gd['train_mse'][0]:.4f} -> {gd['final_train_mse']:.4f}, "
        f"test MSE {gd['test_mse'][0]:.4f} -> {gd['final_test_mse']:.4f}.",
        "",
        "![GD loss](gd_loss.png)",
        "",
    ]
    names = ["(intercept)", *gd["feature_names"]]
    lines += _table(
        ["term", "weight (standardized)", "weight (raw units)"],
        [
            [n, f"{w:.5f}", f"{r:.6g}"]
            for n, w, r in zip(names, gd["weights"], gd["raw_weights"], strict=True)
        ],
    )
    if gd["skipped_lines"]:
        lines += [
            f"Skipped {gd['skipped_lines']} bad lines, for example: "
            + "; ".join(f"line {n}: {what}" for n, what in gd["skipped_examples"][:3]),
            "",
        ]
    lines += [
        "## The data",
        "",
        "![histograms](eda_histograms.png)",
        "",
        "![box plots](eda_boxplots.png)",
        "",
        "![correlations](eda_correlations.png)",
        "",
    ]
    return lines


def _cv_section(cv: dict) -> list[str]:
    lines = [
        f"## {cv['k']}-fold cross-validation, the k models in one pass",
        "",
        f"Mean validation MSE {cv['mean_val_mse'][0]:.4f} -> {cv['final_mean_val_mse']:.4f}.",
        "",
        "![CV loss](cv_loss.png)",
        "",
    ]
    return lines + _table(
        ["fold", "train rows", "validation rows", "final train MSE", "final validation MSE"],
        [
            [
                str(f["fold"]),
                str(f["n_train"]),
                str(f["n_val"]),
                f"{f['train_mse'][-1]:.5f}",
                f"{f['val_mse'][-1]:.5f}",
            ]
            for f in cv["folds"]
        ],
    )
