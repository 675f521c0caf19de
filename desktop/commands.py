"""QUndoCommands: each wraps one core Edit; redo() applies it (the first time too), undo()
reverts it, and both hand the edit to the session so views follow.

A step that fails (the project cannot be written: disk full, database locked) changes nothing on
disk (its transaction rolls back); the command tells its :class:`StepGuard`, which the
:class:`~.undo_history.UndoHistory` reads to put the stack back where the project is."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QProgressDialog

from labelfix.core.edits import (
    AddLabel,
    CompositeEdit,
    DeleteLabel,
    Edit,
    SetDecision,
)

if TYPE_CHECKING:
    from labelfix.core.store import Store

BULK_PROGRESS_MIN = 200  # composite edits with this many parts show a progress dialog


@dataclass(frozen=True)
class Focus:
    """What to show after a command is done or undone: a suspect, and/or a label on its image."""

    suspect_key: str | None = None
    label_id: int | None = None
    image_id: int | None = None
    keys: tuple[str, ...] = ()  # the suspects selected with it (an undone bulk decision's)


@dataclass
class StepFailure:
    """An undo or redo of an applied (or once applied) command that failed."""

    command: EditCommand
    direction: str  # "undo" or "redo"
    error: Exception


@dataclass
class StepGuard:
    """Shared by the commands of one undo stack. After a step failed, the other steps of the
    same move (a History jump runs several) do nothing; while the stack is moved back to where
    the project is (``quiet``), no step does anything either."""

    failure: StepFailure | None = None
    quiet: bool = False

    def holds(self) -> bool:
        """True when a step must not touch the project now."""
        return self.quiet or self.failure is not None

    def fail(self, command: EditCommand, direction: str, error: Exception) -> None:
        """Record the first failed step of this move."""
        if self.failure is None:
            self.failure = StepFailure(command, direction, error)


AfterEdit = Callable[[Edit, set[int], Focus | None], None]
Reanalyze = Callable[[Edit, set[int]], None]


@contextlib.contextmanager
def bulk_progress(edit: Edit, verb: str) -> Iterator[None]:
    """A modal progress dialog while a large composite edit (a bulk decision) is applied or
    reverted; the work stays in its one transaction on the UI thread's writer connection, and
    the dialog is repainted between parts (user input is held back until it is done)."""
    if not isinstance(edit, CompositeEdit) or len(edit.edits) < BULK_PROGRESS_MIN:
        yield
        return
    dialog = QProgressDialog(f"{verb} {edit.description}…", "", 0, len(edit.edits), None)
    dialog.setCancelButton(None)  # a half-applied decision batch would be worse than waiting
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setWindowTitle("LabelFix")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > 0.05:
            last[0] = now
            dialog.setValue(done)
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    edit.progress = progress
    try:
        yield
    finally:
        edit.progress = None
        dialog.reset()
        dialog.deleteLater()


class EditCommand(QUndoCommand):
    """One undoable step: a core Edit plus the images, suspect and label it is about.

    A failing first redo() marks the command obsolete (QUndoStack then drops it: it was never
    applied) and keeps the exception in ``error`` for the session to report. A later undo or
    redo that fails leaves the project as it was and tells ``guard``; the history moves the
    stack back, so the command stays and can be tried again. ``undo_focus`` is shown after undo
    (the decided suspect); ``redo_focus`` after redo (a label edit shows its label again, on its
    own image, so undo and redo work across images).

    ``reanalyze(edit, image_ids)`` re-scores the touched images inside the edit's own transaction, so
    a crash never leaves labels that are newer than their suspects; ``after`` (reload the index,
    refresh the views) runs once that transaction is committed.
    """

    def __init__(
        self,
        edit: Edit,
        store: Store,
        after: AfterEdit,
        *,
        image_ids: set[int],
        undo_focus: Focus | None = None,
        redo_focus: Focus | None = None,
        text: str | None = None,
        reanalyze: Reanalyze | None = None,
        guard: StepGuard | None = None,
    ) -> None:
        super().__init__(text or edit.description)
        self.edit = edit
        self.store = store
        self.after = after
        self.reanalyze = reanalyze
        self.extra_images = set(image_ids)
        self.undo_focus = undo_focus
        self.redo_focus = redo_focus
        self.guard = guard or StepGuard()
        self.error: Exception | None = None
        self.applied_once = False

    def accepted(self) -> int:
        """How many suspects this command accepts. A suspect several prediction sets found
        has its decision recorded under each set's key, from the same suspect's numbers: those
        count once."""
        seen = set()
        for e in leaf_edits(self.edit):
            if isinstance(e, SetDecision) and e.decision == "accepted":
                numbers = tuple(sorted((e.numbers or {}).items()))
                seen.add((tuple(sorted(e.image_ids)), numbers) if e.numbers else id(e))
        return len(seen)

    def label_results(self) -> list[tuple[str, int]]:
        """What the command does to labels: ("added" | "changed" | "deleted", label id)."""
        out = []
        for e in leaf_edits(self.edit):
            if isinstance(e, AddLabel):
                out.append(("added", int(e.annotation["id"])))
            elif isinstance(e, DeleteLabel):
                out.append(("deleted", int(e.annotation_id)))
            elif not isinstance(e, SetDecision) and hasattr(e, "annotation_id"):
                out.append(("changed", int(e.annotation_id)))
        return out

    @property
    def focus_key(self) -> str | None:
        """The suspect shown again after undo."""
        return None if self.undo_focus is None else self.undo_focus.suspect_key

    @property
    def image_ids(self) -> set[int]:
        """The images the edit touches (known once it has been applied)."""
        return self.edit.image_ids | self.extra_images

    def redo(self) -> None:
        """Apply the edit and re-analyse its images in one transaction, then refresh."""
        if self.guard.holds():
            return
        try:
            with self.store.atomic(), bulk_progress(self.edit, "Applying"):
                self.edit.apply(self.store)
                self._reanalyze()
        except Exception as exc:  # noqa: BLE001 - never unwound into QUndoStack (C++)
            if self.applied_once:
                self.guard.fail(self, "redo", exc)
            else:  # reported by the session; QUndoStack drops the command
                self.error = exc
                self.setObsolete(True)
            return
        self.applied_once = True
        self._follow(self.redo_focus)

    def undo(self) -> None:
        """Revert the edit and re-analyse in one transaction, then refresh with the undone
        suspect (or label) shown."""
        if self.guard.holds():
            return
        try:
            with self.store.atomic(), bulk_progress(self.edit, "Undoing"):
                self.edit.revert(self.store)
                self._reanalyze()
        except Exception as exc:  # noqa: BLE001 - never unwound into QUndoStack (C++)
            self.guard.fail(self, "undo", exc)
            return
        self._follow(self.undo_focus)

    def _reanalyze(self) -> None:
        if self.reanalyze is not None:
            self.reanalyze(self.edit, self.image_ids)

    def _follow(self, focus: Focus | None) -> None:
        try:
            self.after(self.edit, self.image_ids, focus)
        except Exception:  # noqa: BLE001 - reported, never unwound into C++
            sys.excepthook(*sys.exc_info())


def leaf_edits(edit: Edit) -> list[Edit]:
    """The leaf edits of a (possibly composite) edit."""
    if isinstance(edit, CompositeEdit):
        return [leaf for part in edit.edits for leaf in leaf_edits(part)]
    return [edit]
