"""What every repository of the store shares: the connection, the project's location, the
errors a caller can act on."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path
from typing import Any

from .sqlite import Database


class ProjectError(RuntimeError):
    """A project that cannot be opened or written, with a sentence a user can act on."""


def made_of(coco_file: object) -> str:
    """How a project is made of a COCO labels file (for a file given where a project goes)."""
    return (
        f"a project is made of COCO labels with `labelfix import --gt {coco_file} --images DIR "
        "[--predictions RESULTS.json] -o X.labelfix`, or File ▸ New project in the app"
    )


class ConnectionLost(ProjectError):
    """The team project's server went away (or cannot be reached). Whatever was being written
    was not acknowledged: treat it as unsaved. ``in_doubt`` is True when the connection broke
    during a commit, so the change may have landed after all (an edit's entries can be looked
    up by its id with :meth:`~.review.ReviewRepository.edit_logged`). The store reconnects on
    its next call."""

    def __init__(self, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class ReadOnlyError(ProjectError, sqlite3.DatabaseError):
    """A write to a project opened read-only (e.g. while another app holds its lock): the
    sentence names the project and why; nothing was changed. A :data:`DatabaseError` too, as
    SQLite's own refusal was (code that catches a file's database errors catches it)."""


class ServerError(ProjectError, sqlite3.DatabaseError):
    """An error the team project's server reported (a constraint, a read-only connection...).
    It is a :data:`DatabaseError` too, so code that catches a file's database errors catches
    the server's."""

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class ConflictError(ProjectError):
    """A change refused because someone else changed the same label (or decision) after it was
    read: names who and when, and carries the fresh state (``current``; None if deleted)."""

    def __init__(
        self,
        message: str,
        *,
        annotation_id: int | None = None,
        suspect_key: str | None = None,
        reviewer: str | None = None,
        time: str | None = None,
        current: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.annotation_id = annotation_id
        self.suspect_key = suspect_key
        self.reviewer = reviewer
        self.time = time
        self.current = current


def now() -> str:
    """The current UTC time as ISO 8601, as stored in the project."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def readable_time(stamp: str | None, today: _dt.date | None = None) -> str:
    """A stored UTC time as a person reads it in a message: local time to the second,
    ``21:53:43`` today and ``2026-11-30 21:53:43`` on another day (``today``: the local
    date, for tests). A missing or unreadable stamp reads "an unknown time" or as given."""
    if not stamp:
        return "an unknown time"
    try:
        moment = _dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    local = moment.astimezone()
    if local.date() == (today or _dt.date.today()):
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


class Repository:
    """Base of the store's repositories (mixed into :class:`~.project.Store`): each one owns
    the SQL of a few tables and reaches the others only through their operations."""

    _db: Database
    path: Path | None
    location: str
    readonly: bool
    reviewer: str

    # implemented by the review repository; declared here for the others
    def last_label_change(self, annotation_id: int) -> dict | None:  # pragma: no cover
        raise NotImplementedError

    # implemented by the meta repository; declared here for the others
    def get_meta(self, key: str, default: Any = None) -> Any:  # pragma: no cover - see meta.py
        raise NotImplementedError

    def set_meta(self, key: str, value: Any) -> None:  # pragma: no cover - see meta.py
        raise NotImplementedError
