"""Helpers of the window's team tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(qtbot: object, condition: Callable[[], bool], timeout_s: float = 10.0) -> float:
    """Process events until ``condition()`` holds; the seconds it took."""
    t0 = time.monotonic()
    qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))
    return time.monotonic() - t0
