"""Progress and cancel for long work: the plain callables every long core function takes (so it
stays Qt-free and testable), and the outcome of a stopped job."""

from __future__ import annotations

import time
from collections.abc import Callable

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called now and then while the work runs."""

ShouldStop = Callable[[], bool]
"""``should_stop()``: polled between steps; True asks the work to stop (it raises Cancelled)."""


class Cancelled(RuntimeError):  # noqa: N818 - it is an outcome, not a failure
    """The work was cancelled; what it would have replaced is untouched."""


class Throughput:
    """Items per second and the time left, from successive ``progress(done, total)`` reports.

    Counted from the first report, so work done before it (a resumed model run's images) does
    not inflate the rate; the front ends show it beside their progress bars.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._first: tuple[int, float] | None = None
        self.done = self.total = 0
        self.per_second = 0.0
        self.seconds_left: float | None = None

    def update(self, done: int, total: int) -> Throughput:
        """Take a report; returns self (rate and time left updated)."""
        now = self._clock()
        if self._first is None:
            self._first = (done, now)
        first_done, first_time = self._first
        self.done, self.total = done, total
        elapsed = now - first_time
        self.per_second = (done - first_done) / elapsed if elapsed > 0 else 0.0
        self.seconds_left = (total - done) / self.per_second if self.per_second > 0 else None
        return self

    def text(self, unit: str = "images") -> str:
        """``40/100 images, 3.2 images/s, 19 s left`` (rate and time once known)."""
        out = f"{self.done}/{self.total} {unit}"
        if self.per_second > 0:
            out += f", {self.per_second:.1f} {unit}/s"
        if self.seconds_left is not None and self.done < self.total:
            out += f", {duration(self.seconds_left)} left"
        return out


def duration(seconds: float) -> str:
    """A duration for people: ``0.4 s``, ``45 s``, ``3 min 20 s``, ``1 h 05 min``."""
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
