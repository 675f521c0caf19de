"""Job functions for the worker and child-process tests (importable by the child, so not in a
test module): each takes ``progress`` and ``should_stop`` as the desktop's jobs do."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from labelfix.core.progress import Cancelled

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class Unpicklable(RuntimeError):
    """An exception that cannot cross a process boundary (it holds a lambda)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.callback = lambda: None


def count(n: int, *, progress: Progress, should_stop: ShouldStop) -> int:
    """Report one progress step and return ``n``."""
    progress(1, 1)
    return n


def wait_for_stop(*, progress: Progress, should_stop: ShouldStop) -> None:
    """Report progress until asked to stop, then stop (at most 60 s)."""
    progress(0, 1)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if should_stop():
            raise Cancelled("stopped as asked")
        time.sleep(0.01)
    raise AssertionError("never asked to stop")


def fail(message: str, *, progress: Progress, should_stop: ShouldStop) -> None:
    """Raise a ValueError."""
    raise ValueError(message)


def fail_unpicklable(message: str, *, progress: Progress, should_stop: ShouldStop) -> None:
    """Raise an exception pickle cannot carry."""
    raise Unpicklable(message)


def die(*, progress: Progress, should_stop: ShouldStop) -> None:
    """End the process without a word (as a crash would)."""
    os._exit(3)
