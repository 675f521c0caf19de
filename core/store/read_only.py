"""A project file opened read-only: its connection turns SQLite's bare "attempt to write a
readonly database" into :class:`~.base.ReadOnlyError`, a sentence naming the project and why
it is read-only (another app holds its lock), so every caller says the same thing."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

from .base import ReadOnlyError


class ReadOnlyDatabase:
    """Wraps a read-only :class:`~.sqlite.Database`: every method as is, a refused write
    raised as ReadOnlyError(``sentence()``)."""

    def __init__(self, db: Any, sentence: Callable[[], str]) -> None:
        self._inner = db
        self._sentence = sentence

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc):
                    raise
                raise ReadOnlyError(self._sentence()) from exc

        return call
