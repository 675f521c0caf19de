"""Where the time of an import or an analysis goes: named phases, off unless asked for.

The benchmarks (``bench/profile_steps.py``) run a step inside :func:`recording` and print the
table; everywhere else :func:`phase` costs one global lookup. Phases nest: the time spent in an
inner phase is counted there and not in the outer one, so the totals add up to the wall time
spent inside phases.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_totals: dict[str, float] | None = None
_stack: list[list] = []  # [name, start, time in inner phases]


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Count the time of the block under ``name`` (only while :func:`recording`)."""
    if _totals is None:
        yield
        return
    entry = [name, time.perf_counter(), 0.0]
    _stack.append(entry)
    try:
        yield
    finally:
        _stack.pop()
        spent = time.perf_counter() - entry[1]
        if _totals is not None:
            _totals[name] = _totals.get(name, 0.0) + spent - entry[2]
        if _stack:
            _stack[-1][2] += spent


def timed(items: Iterable[T], name: str) -> Iterator[T]:
    """``items`` with the time spent producing them counted under ``name`` (a generator of
    rows consumed by a bulk insert: building the rows apart from writing them)."""
    if _totals is None:
        yield from items
        return
    it = iter(items)
    while True:
        with phase(name):
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


@contextlib.contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Record phases inside the block; the dict (phase -> seconds) fills as they end."""
    global _totals
    saved, _totals = _totals, {}
    try:
        yield _totals
    finally:
        _totals = saved
