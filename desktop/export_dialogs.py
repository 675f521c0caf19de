"""The window's COCO and change-log exports: where the dialog starts, what it writes, what the
status bar says (the re-labelling subset's export is in :mod:`relabel_dialogs`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from labelfix.core.export import ExportError, export_changes, export_coco

from .demo import data_dir

if TYPE_CHECKING:
    from .main_window import MainWindow


def changes_path(export_path: Path) -> Path:
    """Where the change log goes beside an export: ``X.json`` -> ``X.changes.json``."""
    return export_path.with_name(export_path.stem + ".changes.json")


def export_start(window: MainWindow, suffix: str) -> Path:
    """Where an export (or merge) dialog starts: in the folder of this project's last export or
    merge, else beside the project file (the demo's is the app's hidden data folder: the home
    folder instead)."""
    default = window.session.default_output(suffix)
    folder = window.export_folder
    if folder is None and default.parent.resolve() == data_dir().resolve():
        folder = Path.home()
    return default if folder is None else folder / default.name


def export(window: MainWindow) -> bool:
    """Ask where to export the corrected COCO JSON (the change log goes beside it)."""
    default = str(export_start(window, ".json"))
    path, _ = QFileDialog.getSaveFileName(window, "Export COCO", default, "COCO JSON (*.json)")
    return bool(path) and export_to(window, Path(path))


def export_change_log(window: MainWindow) -> bool:
    """Ask where to write the change log alone (JSON, or CSV by the file's suffix)."""
    default = str(export_start(window, ".changes.json"))
    path, _ = QFileDialog.getSaveFileName(
        window, "Export change log", default, "Change log (*.json *.csv)"
    )
    if not path:
        return False
    window.session.write_pending()
    try:
        n = export_changes(window.session.store, Path(path))
    except (OSError, RuntimeError, ExportError) as exc:
        window.show_error(f"Export failed: {exc}")
        return False
    window.export_folder = Path(path).parent
    window.statusBar().showMessage(f"Wrote {n} change(s) to {path}", 10000)
    return True


def export_to(window: MainWindow, path: Path) -> bool:
    """Write the corrected labels and, beside them, the change log."""
    window.session.write_pending()
    try:
        counts = export_coco(window.session.store, path)
        n = export_changes(window.session.store, changes_path(path))
    except (OSError, RuntimeError) as exc:
        window.show_error(f"Export failed: {exc}")
        return False
    window.session.suspectsChanged.emit()  # edits-since-export went to 0
    window.export_folder = path.parent
    window.statusBar().showMessage(
        f"Exported {counts['labels']} labels to {path} and {n} change(s) to "
        f"{changes_path(path).name} beside it",
        10000,
    )
    return True
