"""Work run in a thread beside the analysis: numpy's sorts and SQLite's reads and writes run
without the GIL, so a sort started before a read or a write overlaps it on a second CPU.
Pure Python: no Qt, no store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class InThread(Generic[T]):
    """``work(*args)`` run in a thread; :meth:`result` waits for it (None if it raised: the
    caller then does the work itself)."""

    def __init__(self, work: Callable[..., T], *args: object) -> None:
        self._out: T | None = None
        self._thread = threading.Thread(target=self._run, args=(work, args), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[..., T], args: tuple) -> None:
        try:
            self._out = work(*args)
        except Exception:  # noqa: BLE001 - the caller does the work itself then
            self._out = None

    def result(self) -> T | None:
        """The work's result, once done (None if it failed)."""
        self._thread.join()
        return self._out
