"""An experiment's page (host only): markdown with the question, what was
done, the answer computed from Spark's numbers, the plot, the numbers
themselves and links to the applications in the history server."""

from __future__ import annotations

import math
from pathlib import Path

from jobs.experiments.registry import EXPERIMENTS
from jobs.report.files import write_text_atomic


def cell(value, form: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return form.format(value)


def table(rows: list[dict], columns) -> list[str]:
    lines = ["| " + " | ".join(title for _, title, _ in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(cell(row.get(key), form) for key, _, form in columns) + " |" for row in rows]
    return lines


def history_link(history: str | None, app_id: str) -> str:
    return f"[{app_id}]({history}/history/{app_id}/jobs/)" if history else f"`{app_id}`"


def render(result: dict, summary: dict, history: str | None, plot_name: str) -> str:
    """The page's markdown (pure)."""
    experiment = EXPERIMENTS[result["experiment"]]
    every = (
        [result["numbers"]] if "numbers" in result else list(result.get("numbers_by_runtime", {}).values())
    )
    executors = [e for numbers in every for e in numbers.get("executors", []) if e["executor"] != "driver"]
    lines = [
        f"# Experiment: {experiment.name}",
        "",
        f"**Question.** {experiment.question}",
        "",
        f"**What was done.** {' '.join(experiment.what.split())}",
        f"Plan: {', '.join(f'{key} {value}' for key, value in result.get('plan', {}).items())}. "
        f"Size: {'smallest (the test suite)' if result['smallest'] else 'full'}; "
        f"master `{result['master']}`; {result['seconds']:.1f} s in all.",
        "",
        f"**Answer** (computed from the numbers below). {summary['answer']}",
        "",
        f"![{experiment.name}]({plot_name})",
        "",
        "## Spark's numbers (monitoring API)",
        "",
        *table(summary["rows"], experiment.table),
        "",
    ]
    if executors:
        lost = [e for e in executors if not e["active"]]
        lines += [f"Executors: {len(executors)}, lost: {len(lost)}."]
        lines += [f"- executor {e['executor']} on {e['host']}: {e['removed_because']}" for e in lost]
        lines += [""]
    lines += ["## Applications (history server)", ""]
    lines += [
        f"- {app['label']}: {history_link(history, app['app_id'])} on `{app['master']}`"
        for app in result["apps"]
    ]
    return "\n".join(lines) + "\n"


def write_page(result: dict, out_dir: Path, history: str | None) -> Path:
    """NAME.md and NAME.png into `out_dir`."""
    experiment = EXPERIMENTS[result["experiment"]]
    summary = experiment.summarize(result)
    plot_path = Path(out_dir) / f"{experiment.name}.png"
    experiment.plot(result, summary, plot_path)
    return write_text_atomic(
        Path(out_dir) / f"{experiment.name}.md", render(result, summary, history, plot_path.name)
    )
