"""What every repository of the store shares: the connection, the project's path, the error."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from .sqlite import Database


class ProjectError(RuntimeError):
    """A project file that cannot be opened or written, with a sentence a user can act on."""


def now() -> str:
    """The current UTC time as ISO 8601, as stored in the project."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


class Repository:
    """Base of the store's repositories (mixed into :class:`~.project.Store`): each one owns
    the SQL of a few tables and reaches the others only through their operations."""

    _db: Database
    path: Path
    readonly: bool

    # implemented by the meta repository; declared here for the others
    def get_meta(self, key: str, default: Any = None) -> Any:  # pragma: no cover - see meta.py
        raise NotImplementedError

    def set_meta(self, key: str, value: Any) -> None:  # pragma: no cover - see meta.py
        raise NotImplementedError
