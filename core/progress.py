"""Progress and cancel for long work: the plain callables every long core function takes (so it
stays Qt-free and testable), and the outcome of a stopped job."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called now and then while the work runs."""

ShouldStop = Callable[[], bool]
"""``should_stop()``: polled between steps; True asks the work to stop (it raises Cancelled)."""


class Cancelled(RuntimeError):  # noqa: N818 - it is an outcome, not a failure
    """The work was cancelled; what it would have replaced is untouched."""
