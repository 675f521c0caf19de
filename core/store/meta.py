"""Project-wide values: the meta table (JSON values by key), the image folder and the count of
edits since the last export.

A project file remembers its image folder itself (relative to the file). A team project's
images stay on each reviewer's machine: its folder is this machine's setting
(:mod:`labelfix.core.settings`), never the server's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .. import settings
from .base import Repository
from .location import TeamLocation
from .records import dumps


class MetaRepository(Repository):
    """The ``meta`` table."""

    team: TeamLocation | None

    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key`` in the project's meta table."""
        value = self._db.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else json.loads(value)

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        self._db.upsert("meta", ("key", "value"), ("key",), [(key, dumps(value))])

    def delete_meta(self, key: str) -> None:
        """Forget the value under ``key``."""
        self._db.execute("DELETE FROM meta WHERE key = ?", [key])

    @property
    def images_root(self) -> Path | None:
        """The folder image file names are relative to (stored relative to the project file;
        for a team project, this machine's folder for it, or None)."""
        if self.team is not None:
            return settings.project_images(self.team.key())
        root = self.get_meta("images_root")
        if root is None:
            return None
        root_path = Path(root)
        assert self.path is not None
        return root_path if root_path.is_absolute() else (self.path.parent / root_path).resolve()

    def set_images_root(self, root: str | Path) -> None:
        """Remember the image folder, relative to the project file where possible (a team
        project: in this machine's settings)."""
        if self.team is not None:
            settings.set_project_images(self.team.key(), root)
            return
        assert self.path is not None
        root = Path(root).resolve()
        try:
            value = os.path.relpath(root, self.path.resolve().parent)
        except ValueError:  # another drive on Windows
            value = str(root)
        self.set_meta("images_root", value)

    def image_path(self, image: dict) -> Path | None:
        """Absolute path of an image's file, or None without an image folder."""
        root = self.images_root
        return None if root is None else root / image["file_name"]

    def add_warnings(self, warnings: list[object] | tuple[object, ...]) -> None:
        """Append reader warnings (e.g. a prediction file's) to the project's import warnings."""
        if warnings:
            kept = list(self.get_meta("warnings", []) or [])
            self.set_meta("warnings", kept + [str(w) for w in warnings])

    def bump_edits_since_export(self, delta: int) -> None:
        """Count label edits made since the last export (for the status bar and close prompt)."""
        self.set_meta(
            "edits_since_export", max(0, int(self.get_meta("edits_since_export", 0)) + delta)
        )
