"""This machine's LabelFix settings (Qt-free): who the reviewer is, and where each team
project's images are on this machine.

A small JSON file, ``settings.json`` in ``$LABELFIX_CONFIG_DIR`` (else
``$XDG_CONFIG_HOME/labelfix``, else ``~/.config/labelfix``), written atomically::

    {"reviewer": "alice",
     "team_projects": {"postgresql://db:5432/labels?project=coco": {"images": "/data/coco"}}}

Team projects are remembered by :meth:`TeamLocation.key` (server, database and project, never
a user name or password), so nothing secret is ever written here.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import tempfile
from pathlib import Path
from typing import Any

REVIEWER_ENV = "LABELFIX_REVIEWER"


def config_dir() -> Path:
    """The folder of this machine's LabelFix settings."""
    explicit = os.environ.get("LABELFIX_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "labelfix"


def settings_path() -> Path:
    """The settings file."""
    return config_dir() / "settings.json"


def load() -> dict[str, Any]:
    """The settings (empty when there is no file or it cannot be read)."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data: dict[str, Any]) -> None:
    """Write the settings atomically (a temporary file renamed over the old one)."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def reviewer_name(explicit: str | None = None) -> str:
    """Who is reviewing: ``explicit`` (``--reviewer``), else ``$LABELFIX_REVIEWER``, else the
    settings' ``reviewer``, else the operating system's user name."""
    for name in (explicit, os.environ.get(REVIEWER_ENV), load().get("reviewer")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "unknown"


def set_reviewer_name(name: str | None) -> None:
    """Remember (or with None, forget) this machine's reviewer name."""
    data = load()
    if name:
        data["reviewer"] = name
    else:
        data.pop("reviewer", None)
    save(data)


def project_images(key: str) -> Path | None:
    """The image folder remembered on this machine for a team project (by its key)."""
    entry = (load().get("team_projects") or {}).get(key) or {}
    images = entry.get("images")
    return Path(images) if isinstance(images, str) and images else None


def set_project_images(key: str, folder: str | Path | None) -> None:
    """Remember (or with None, forget) a team project's image folder on this machine."""
    data = load()
    projects = data.setdefault("team_projects", {})
    entry = projects.setdefault(key, {})
    if folder is None:
        entry.pop("images", None)
    else:
        entry["images"] = str(Path(folder).resolve())
    if not entry:
        projects.pop(key, None)
    save(data)
