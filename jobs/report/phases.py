"""Timing the phases of a long command (set-up, image build, cluster up, the
jobs on each runtime, the report), said as each ends and kept for the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class PhaseClock:
    """`with clock.phase("cluster up"): ...` records and prints how long it took;
    `clock.part(...)` adds a share of the phase before it (not counted twice)."""

    def __init__(self, prefix: str, earlier: list[tuple[str, float]] | None = None):
        self.prefix = prefix
        # (name, seconds, a part of the phase above it?)
        self.rows: list[tuple[str, float, bool]] = [(name, seconds, False) for name, seconds in earlier or []]

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.rows.append((name, seconds, False))
            print(f"{self.prefix}: {name} took {seconds:.1f} s", file=sys.stderr, flush=True)

    def part(self, name: str, seconds: float) -> None:
        """A share of the last phase, measured inside it (a job's own time in its application)."""
        self.rows.append((name, seconds, True))
        print(f"{self.prefix}:   of which {name}: {seconds:.1f} s", file=sys.stderr, flush=True)

    def total(self) -> float:
        return sum(seconds for _, seconds, part in self.rows if not part)

    def markdown(self) -> list[str]:
        lines = ["| phase | seconds |", "|---|---|"]
        for name, seconds, part in self.rows:
            label = f"&nbsp;&nbsp;of which: {name}" if part else name
            lines.append(f"| {label} | {seconds:.1f} |")
        return [*lines, f"| **total** | **{self.total():.1f}** |", ""]
