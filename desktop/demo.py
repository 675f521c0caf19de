"""The bundled demo project: built once from resources/demo into the app's data folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from labelfix.core.project import DatabaseError, ProjectError, open_project

from . import jobs

DEMO_NAME = "demo.labelfix"
# the default view (every kind ranked by calibrated score down to the default cut): the demo's
# detector is rarely > 0.75 confident, which no longer matters
DEMO_UI_STATE = {"filter": {"min_score": None, "statuses": ["open"], "per_object": True}}


def demo_source() -> Path:
    """The folder holding the demo's labels.json, predictions.json and images/."""
    import labelfix.resources

    return Path(labelfix.resources.__file__).resolve().parent / "demo"


def data_dir() -> Path:
    """Where the app keeps its own files (AppDataLocation, else ~/.local/share/labelfix)."""
    override = os.environ.get("LABELFIX_DATA_DIR")
    if override:
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location) if location else Path.home() / ".local" / "share" / "labelfix"


def _usable(path: Path) -> bool:
    """True if the demo project opens, is analysed and points at this install's demo images
    (a moved or upgraded app, or an older project layout, gets a fresh demo project)."""
    try:
        with open_project(path, readonly=True) as store:
            root = store.images_root
            analysis = store.current_analysis()
            return (
                analysis is not None
                and store.analysis_report(analysis["id"]) is not None  # groups, default cut
                and root is not None
                and root.resolve() == (demo_source() / "images").resolve()
            )
    except (ProjectError, DatabaseError):
        return False


def ensure_demo_project(
    progress: jobs.Progress | None = None, should_stop: jobs.ShouldStop | None = None
) -> Path:
    """Build ``<data dir>/demo.labelfix`` from resources/demo (import + analyse) if missing."""
    path = data_dir() / DEMO_NAME
    if path.exists() and _usable(path):
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    src = demo_source()
    jobs.import_and_analyze(
        src / "labels.json",
        src / "images",
        src / "predictions.json",
        path,
        name="demo detector",
        progress=progress,
        should_stop=should_stop,
    )
    with open_project(path) as store, store.atomic():
        store.set_meta("ui_state", DEMO_UI_STATE)
    return path
