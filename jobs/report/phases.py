"""Timing the phases of a long command (set-up, image build, cluster up, each
job on each runtime, the report), said as each ends and kept for the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseClock:
    """`with clock.phase("cluster up"): ...` records and prints how long it took."""

    def __init__(self, prefix: str, earlier: list[tuple[str, float]] | None = None):
        self.prefix = prefix
        self.phases: list[tuple[str, float]] = list(earlier or [])

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.phases.append((name, seconds))
            print(f"{self.prefix}: {name} took {seconds:.1f} s", file=sys.stderr, flush=True)

    def total(self) -> float:
        return sum(seconds for _, seconds in self.phases)

    def markdown(self) -> list[str]:
        lines = ["| phase | seconds |", "|---|---|"]
        lines += [f"| {name} | {seconds:.1f} |" for name, seconds in self.phases]
        return [*lines, f"| **total** | **{self.total():.1f}** |", ""]
