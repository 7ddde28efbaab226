"""An experiment's plot: the one owner of making its figure and saving it.

Shipped to executors with the experiments that import it, so matplotlib (by
jobs.report.charts) is imported only when a plot is drawn, on the host.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def drawn(path: Path, *grid: int, **figure_options: Any) -> Iterator[tuple[Any, Any]]:
    """Host only: (figure, axes) to draw on, `grid` and `figure_options` as
    `plt.subplots` takes them; written as a PNG at `path` when the block ends."""
    from jobs.report.charts import figure, save_png  # lazy: host only (matplotlib), not on executors

    plt, fig, axes = figure(*grid, **figure_options)
    yield fig, axes
    save_png(plt, fig, path)
