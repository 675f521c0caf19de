"""QUndoCommands: each wraps one core Edit; redo() applies it (the first time too), undo()
reverts it, and both hand the edit to the session so views follow."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from labelfix.core.edits import Edit
from labelfix.core.store import Store

AfterEdit = Callable[[Edit, set[int], str | None], None]


class EditCommand(QUndoCommand):
    """One undoable step: a core Edit plus the images and suspect it is about.

    A failing first redo() marks the command obsolete (QUndoStack then drops it) and keeps
    the exception in ``error`` for the session to report.
    """

    def __init__(
        self,
        edit: Edit,
        store: Store,
        after: AfterEdit,
        *,
        image_ids: set[int],
        focus_key: str | None,
    ) -> None:
        super().__init__(edit.description)
        self.edit = edit
        self.store = store
        self.after = after
        self.extra_images = set(image_ids)
        self.focus_key = focus_key
        self.error: Exception | None = None

    def redo(self) -> None:
        """Apply the edit to the store, then let the session re-analyse and refresh."""
        try:
            self.edit.apply(self.store)
        except Exception as exc:  # noqa: BLE001 - reported by the session, never a traceback
            self.error = exc
            self.setObsolete(True)
            return
        self.after(self.edit, self.edit.image_ids | self.extra_images, None)

    def undo(self) -> None:
        """Revert the edit, then refresh with the undone suspect selected."""
        self.edit.revert(self.store)
        self.after(self.edit, self.edit.image_ids | self.extra_images, self.focus_key)
