"""Every experiment by name: `./lab experiment --list` prints this."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from jobs.experiments import data_size, one_pass_cv, partitions, skew, worker_loss


@dataclass(frozen=True)
class Experiment:
    name: str
    question: str
    what: str  # what is done, for the page (the module's docstring)
    measure: Callable[..., dict]  # (Context) -> the JSON the driver writes
    summarize: Callable[[dict], dict]  # pure: that JSON -> rows and the answer
    table: tuple[tuple[str, str, str], ...]  # (row key, column title, format)
    plot: Callable[..., None]  # host only: (result, summary, path)


COLUMN = re.compile(r"(.+) (\{[^{}]*\})")  # "column title {format}"


def columns(table: dict[str, str]) -> tuple[tuple[str, str, str], ...]:
    """An experiment's TABLE, {row key: "column title {format}"}, as its
    columns; a spec of another form fails at import, not when a page is drawn."""
    found = []
    for key, spec in table.items():
        column = COLUMN.fullmatch(spec)
        if column is None:
            raise ValueError(f"TABLE[{key!r}] = {spec!r}: write it as 'column title {{format}}'")
        found.append((key, *column.groups()))
    return tuple(found)


def _from(module: ModuleType) -> Experiment:
    return Experiment(
        name=module.NAME,
        question=module.QUESTION,
        what=(module.__doc__ or "").split("\n\n", 1)[-1].strip(),
        measure=module.measure,
        summarize=module.summarize,
        table=columns(module.TABLE),
        plot=module.plot,
    )


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in map(_from, (partitions, skew, one_pass_cv, data_size, worker_loss))
}


def listing() -> str:
    """One line per experiment: its name and its question."""
    width = max(map(len, EXPERIMENTS))
    return "\n".join(f"{name:<{width}}  {e.question}" for name, e in EXPERIMENTS.items())
