"""The cache files of a project file: derived columns kept next to it, memory-mapped when
read (:mod:`.column_file`), in a folder ``<project>-cache``. Each file names the project by a
random token kept in its meta table, so a project made anew at the same path, or another
project copied over it, never takes the old files for its own; the callers add what the
columns were made from. A team project has no such folder."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .base import Repository
from .column_file import read_column_file, write_column_file

CACHE_TOKEN_KEY = "cache_token"
"""The meta key of the project's random token that its cache files name."""


class CacheFileRepository(Repository):
    """Where a project file's cache files live, and writing and reading them."""

    def cache_folder(self) -> Path | None:
        """The folder of a project file's cache files (``<project>-cache`` next to it); None
        for a team project."""
        path = getattr(self, "path", None)
        return None if path is None else Path(path).with_name(Path(path).name + "-cache")

    def _cache_token(self, create: bool = False) -> str | None:
        """The project's cache token (made when ``create`` and the project is writable)."""
        token = self.get_meta(CACHE_TOKEN_KEY)
        if token is None and create and not self.readonly:
            token = uuid.uuid4().hex
            self.set_meta(CACHE_TOKEN_KEY, token)
        return None if token is None else str(token)

    def _write_cache_file(self, name: str, check: dict, columns: dict[str, np.ndarray]) -> bool:
        """Write a cache file; False when the folder cannot be written (the caller keeps the
        columns as blobs instead)."""
        folder = self.cache_folder()
        if folder is None:
            return False
        try:
            folder.mkdir(exist_ok=True)
            write_column_file(folder / name, check, columns)
        except OSError:
            return False
        return True

    def _read_cache_file(self, name: str, check: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """The columns of a cache file if it is whole and names exactly ``check``."""
        folder = self.cache_folder()
        if folder is None:
            return None
        found = read_column_file(folder / name)
        return None if found is None or found[0] != check else found[1]
