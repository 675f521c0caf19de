"""Edit > History: the session's undo stack as a list (QUndoView); clicking a line undoes or
redoes back to it, across images."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QUndoView, QWidget

EMPTY_LABEL = "Project opened"


class HistoryView(QUndoView):
    """Every command of the project's undo stack, the current one highlighted."""

    def __init__(self, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(stack, parent)
        self.setObjectName("historyView")
        self.setEmptyLabel(EMPTY_LABEL)
        self.setAlternatingRowColors(True)

    def texts(self) -> list[str]:
        """The listed lines, first (the empty state) to last."""
        model = self.model()
        return [str(model.index(row, 0).data()) for row in range(model.rowCount())]
