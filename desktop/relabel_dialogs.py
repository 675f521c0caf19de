"""File ▸ Export for re-labelling… and File ▸ Merge a relabelled subset…: the same project
service functions as ``labelfix export --for-relabel`` and ``labelfix merge``.

The export runs in a child process (a few seconds for many suspects); the merge is planned
here (read and checked, nothing written), then, once confirmed, pushed as one undoable command
whose images are re-analysed in its transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from labelfix.core import project
from labelfix.core.coco import CocoError
from labelfix.core.suspects import SuspectFilter

from . import jobs, workers
from .export_dialogs import export_start

if TYPE_CHECKING:
    from .main_window import MainWindow

FLAGGED = SuspectFilter(statuses=frozenset({"flagged"}))


def choices(window: MainWindow) -> list[tuple[str, SuspectFilter]]:
    """What can be sent: the flagged suspects, or the listed ones (as the filter lists them)."""
    s = window.session
    flagged = s.status_counts()["flagged"]
    return [
        (f"The {flagged} flagged suspect(s)", FLAGGED),
        (f"The {s.row_count()} listed suspect(s) (the filter as it is now)", s.filter),
    ]


def export_for_relabel(window: MainWindow) -> workers.Worker | None:
    """Ask which suspects and where, then write the subset and its work list in the
    background."""
    options = choices(window)
    label, ok = QInputDialog.getItem(
        window,
        "Export for re-labelling",
        "Send for re-labelling:",
        [o[0] for o in options],
        0,
        False,
    )
    if not ok:
        return None
    flt = dict(options)[label]
    default = str(export_start(window, ".relabel.json"))
    path, _ = QFileDialog.getSaveFileName(
        window, "Export for re-labelling", default, "COCO JSON (*.json)"
    )
    return export_to(window, Path(path), flt) if path else None


def export_to(window: MainWindow, out: Path, flt: SuspectFilter) -> workers.Worker:
    """Write the subset of the suspects ``flt`` lists (in the table's order) and its work list."""
    s = window.session
    s.write_pending()
    worker = workers.Worker(
        jobs.in_subprocess, jobs.export_for_relabel, s.target, flt, s.sort_key, s.descending, out
    )

    def done(result: project.RelabelExport) -> None:
        window.export_folder = result.subset.parent  # the merge dialog starts there
        window.statusBar().showMessage(
            f"Wrote {result.images} image(s) with {result.labels} labels for re-labelling to "
            f"{result.subset}, and the work list to {result.work_list.name} beside it"
            + (f"; {result.note()}" if result.note() else ""),
            15000,
        )

    return window.run_job(worker, "Exporting for re-labelling…", done)


def merge_relabelled(window: MainWindow) -> bool:
    """Pick a relabelled subset, say what merging it changes, and merge it on confirmation."""
    start = str(export_start(window, ".json").parent)
    path, _ = QFileDialog.getOpenFileName(
        window, "Merge a relabelled subset", start, "COCO JSON (*.json)"
    )
    return bool(path) and merge_from(window, Path(path))


def merge_from(window: MainWindow, path: Path, *, confirm: bool | None = None) -> bool:
    """Merge a relabelled subset as one undoable command (after asking, unless headless or
    ``confirm`` is False); a subset that does not match is said with its reasons."""
    s = window.session
    s.write_pending()
    try:
        plan = project.plan_merge(s.store, path)
    except (CocoError, project.RelabelError, OSError) as exc:
        window.show_error(f"Cannot merge {path.name}:\n{exc}")
        return False
    edit = plan.edit()
    if edit is None:
        window.statusBar().showMessage(
            f"{path.name}: the labels are the same; nothing to merge", 10000
        )
        return False
    ask = confirm if confirm is not None else QApplication.platformName() != "offscreen"
    if ask:
        buttons = QMessageBox.StandardButton
        warnings = "".join(f"\n{w}" for w in plan.warnings[:5])
        answer = QMessageBox.question(
            window,
            "Merge a relabelled subset",
            f"{plan.summary()}.{warnings}\n\nReplace these images' labels? (Undo reverts it.)",
            buttons.Yes | buttons.Cancel,
            buttons.Yes,
        )
        if answer != buttons.Yes:
            return False
    if not s.push(edit, plan.image_ids, s.current_key(), text=plan.summary()):
        return False
    window.statusBar().showMessage(plan.summary(), 15000)
    return True
