"""A thread that follows a team project for the window: others' changes as they commit (the
store's change feed: PostgreSQL LISTEN/NOTIFY) and the claims (read every few seconds), on
connections of its own, so the UI thread never waits on the server.

When the server goes away it says so once (``lost``), then tries again with a growing pause
(:data:`BACKOFF_S`), and says ``back`` when the feed answers again; the feed resumes after the
last entry it handed out, so nothing committed meanwhile is missed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from labelfix.core.store import ConnectionLost, ProjectError

if TYPE_CHECKING:
    from labelfix.core.store import Store

POLL_S = 0.25  # the feed waits this long for a notification before looking at the claims
CLAIMS_EVERY_S = 2.0  # how often the claims are read again
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)  # pauses between reconnection attempts


class ChangeFollower(QThread):
    """Reads the change feed and the claims of a team project until stopped."""

    changes = Signal(list)  # change-log entries (every session's: the receiver skips its own)
    claims = Signal(dict)  # suspect key -> {reviewer, session, seconds_left}
    analysis = Signal(object)  # the id of the reviewed analysis (someone may have re-analysed)
    lost = Signal(str)  # the server went away (a sentence)
    back = Signal()  # the server answers again

    def __init__(self, store: Store, after_seq: int, set_id: int | None) -> None:
        super().__init__()
        self.setObjectName("team change follower")
        self._store = store  # only to open connections of this thread's own (store.reader)
        self.seq = after_seq
        self.set_id = set_id
        self._stop = threading.Event()

    def stop(self, wait_ms: int = 15_000) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        self.wait(wait_ms)

    def run(self) -> None:  # noqa: D401 - QThread API
        feed: Any = None
        reader: Store | None = None
        lost = False
        failures = 0
        next_claims = 0.0
        while not self._stop.is_set():
            try:
                if feed is None:
                    feed = self._store.change_feed(after_seq=self.seq, poll_seconds=POLL_S)
                if reader is None and self.set_id is not None:
                    reader = self._store.reader()
                entries = feed.poll(POLL_S)
                if lost:
                    lost, failures = False, 0
                    self.back.emit()
                if entries:
                    self.seq = feed.seq
                    self.changes.emit(entries)
                if reader is not None and time.monotonic() >= next_claims:
                    next_claims = time.monotonic() + CLAIMS_EVERY_S
                    self.claims.emit(reader.claims(self.set_id))
                    current = reader.current_analysis()
                    self.analysis.emit(None if current is None else int(current["id"]))
            except ProjectError as exc:  # ConnectionLost, or the server refusing us now
                if feed is not None and not isinstance(exc, ConnectionLost):
                    feed, reader = _close(feed), _close(reader)
                if not lost:
                    lost = True
                    self.lost.emit(str(exc))
                self._stop.wait(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
                failures += 1
        _close(feed)
        _close(reader)


def _close(thing: Any) -> None:
    if thing is not None:
        with contextlib.suppress(Exception):  # closing a broken connection
            thing.close()
