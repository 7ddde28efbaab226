"""The one way to wait for a condition: a deadline, an interval, and the last
reason it was not ready (as pyspark's tests' `eventually` and docker-stacks'
`wait_until`). Standard library only: it runs on the host, in the driver and
on executors alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotReady:
    """A condition's answer when it is not ready yet: falsy, with why."""

    reason: str = ""
    value: Any = None

    def __bool__(self) -> bool:
        return False


def wait_until(condition: Callable[[], Any], *, timeout: float, interval: float = 0.5) -> Any:
    """Ask `condition` every `interval` seconds until it answers something
    truthy (returned) or `timeout` seconds have passed: then its last answer,
    as a NotReady (falsy; its `reason` says why, its `value` what it was)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() >= deadline:
            return answer if isinstance(answer, NotReady) else NotReady(value=answer)
        time.sleep(interval)
