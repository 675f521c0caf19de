"""Table models over the session's numpy suspect index: rows are the current query's positions,
cells are read from the columns lazily; sorting is the index's job (``sort()`` asks it)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor

from labelfix.core.errors import KINDS
from labelfix.core.suspects import STATUSES

from .session import Session

ModelIndex = QModelIndex | QPersistentModelIndex

# (header, the index column it shows and sorts by)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Kind", "kind"),
    ("Score", "score"),
    ("Image", "file_name"),
    ("Label class", "label_class"),
    ("Predicted", "predicted_class"),
    ("IoU", "iou"),
    ("Conf.", "confidence"),
    ("Prob.", "probability"),
    ("Alt.", "alternatives"),
    ("Sets", "sets"),
    ("Status", "status"),
    ("#", "id"),
)
COLUMN_TIPS = {
    "score": "How likely the suspect is a real label error (calibrated; sorted by default)",
    "confidence": "The detector's own confidence in the prediction",
    "probability": "How likely the prediction is right, fitted on this analysis's matches",
    "alternatives": "Other suspects about the same object (the inspector lists them; "
    "accepting one closes the others)",
    "sets": "The prediction sets that found the suspect",
}
KIND_TITLES = {
    "missing_label": "missing label",
    "wrong_class": "wrong class",
    "inaccurate_label": "inaccurate label",
    "duplicate_label": "duplicate label",
    "spurious_label": "spurious label",
}
DISPLAY, ALIGN, FOREGROUND, TOOLTIP = (
    int(Qt.ItemDataRole.DisplayRole),
    int(Qt.ItemDataRole.TextAlignmentRole),
    int(Qt.ItemDataRole.ForegroundRole),
    int(Qt.ItemDataRole.ToolTipRole),
)
KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
ROLES = frozenset({DISPLAY, ALIGN, FOREGROUND, TOOLTIP, KEY_ROLE})
ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
ALIGN_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
# every row's flags, composed once: Qt asks for them per cell on every repaint, and a Python
# enum ``|`` costs ~25 µs (17 ms of each decision's table repaint)
ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
)
NUMERIC = frozenset({"score", "iou", "confidence", "probability", "alternatives", "id"})
STATUS_COLOURS = {"accepted": "#2e8b57", "rejected": "#9a9a9a", "flagged": "#d2691e"}


STATUS_BRUSHES = {STATUSES.index(s): QBrush(QColor(c)) for s, c in STATUS_COLOURS.items()}
TEAM_BRUSH = QBrush(QColor("#8a8a8a"))  # claimed by someone else, or not saved yet


def _num(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def _opt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class SuspectTableModel(QAbstractTableModel):
    """The suspects the session's filter lists, in its sort order."""

    KEY_ROLE = KEY_ROLE

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.session = session
        session.suspectsChanged.connect(self.reload)
        session.orderChanged.connect(self.reload)
        if session.team is not None:  # claims and unsaved marks (a team project)
            session.team.changed.connect(self._marks_changed)

    def _marks_changed(self) -> None:
        """The team marks of the status column changed (the rows did not)."""
        rows = self.rowCount()
        if rows:
            col = self.column_of("status")
            self.dataChanged.emit(self.index(0, col), self.index(rows - 1, col))

    def reload(self) -> None:
        """Reset after the session's rows changed or were sorted anew."""
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else self.session.row_count()

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        horizontal = orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS)
        if role == Qt.ItemDataRole.ToolTipRole and horizontal:
            return COLUMN_TIPS.get(COLUMNS[section][1])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0] if horizontal else None
        return str(section + 1)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        role = int(role)
        if role not in ROLES or not index.isValid():  # Qt asks ~10 roles per cell: answer fast
            return None
        row = index.row()
        positions = self.session.positions
        if not 0 <= row < len(positions):
            return None
        pos = int(positions[row])
        sx = self.session.index
        key = COLUMNS[index.column()][1]
        if role == DISPLAY:
            return self._text(sx, pos, key)
        if role == ALIGN:
            return ALIGN_RIGHT if key in NUMERIC else ALIGN_LEFT
        if role == FOREGROUND:
            team = self.session.team
            if team is not None and team.note_for(sx.key(pos)).startswith(("claimed", "unsaved")):
                return TEAM_BRUSH
            return STATUS_BRUSHES.get(int(sx.status[pos]))
        if role == TOOLTIP:
            if key == "file_name":
                return sx.file_names.get(int(sx.image_id[pos]), "")
            if key == "sets":
                return "\n".join(
                    f"{s['set']}: score {s['score']:.2f}, conf. {_opt(s['confidence'])}, "
                    f"prob. {_opt(s['probability'])}"
                    for s in sx.supported_by(pos)
                )
            return None
        return sx.key(pos)  # KEY_ROLE

    def _text(self, sx: Any, pos: int, key: str) -> str:
        names = self.session.category_names
        if key == "kind":
            return KIND_TITLES.get(KINDS[int(sx.kind[pos])], KINDS[int(sx.kind[pos])])
        if key == "score":
            return f"{sx.score[pos]:.3f}"
        if key == "file_name":
            return sx.file_names.get(int(sx.image_id[pos]), "")
        if key == "label_class":
            return names.get(int(sx.category_id[pos]), "")
        if key == "predicted_class":
            return names.get(int(sx.predicted_category_id[pos]), "")
        if key == "iou":
            return _num(float(sx.iou[pos]))
        if key == "confidence":
            return _num(float(sx.confidence[pos]))
        if key == "probability":
            return _num(float(sx.probability[pos]))
        if key == "alternatives":
            n = int(sx.group_size(np.array([pos]))[0]) - 1
            return f"+{n}" if n else ""
        if key == "sets":
            if not sx.multi:
                return ""
            found = sx.supported_by(pos)
            if len(found) == len(sx.set_ids) > 1:
                return f"all ({len(found)})"
            return ", ".join(str(s["set"]) for s in found)
        if key == "status":
            status = STATUSES[int(sx.status[pos])]
            note = "" if self.session.team is None else self.session.team.note_for(sx.key(pos))
            return f"{status} · {note}" if note else status
        return str(int(sx.ids[pos]))

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort through the suspect index (the header click lands here)."""
        if 0 <= column < len(COLUMNS):
            self.session.set_sort(COLUMNS[column][1], order == Qt.SortOrder.DescendingOrder)

    def column_of(self, sort_key: str) -> int:
        """The column that sorts by ``sort_key``."""
        return next(i for i, c in enumerate(COLUMNS) if c[1] == sort_key)


class CountsModel(QAbstractTableModel):
    """Counts of the listed suspects per kind or per class (name, count), most first."""

    def __init__(self, session: Session, by: str, *, lazy_ms: int | None = None) -> None:
        super().__init__(session)
        self.session = session
        self.by = by
        self.rows: list[tuple[str, int]] = []
        if lazy_ms is None:
            session.suspectsChanged.connect(self.reload)
        else:  # recount a moment later, once per burst of changes
            self._timer = QTimer(self, singleShot=True, interval=lazy_ms)
            self._timer.timeout.connect(self.reload)
            session.suspectsChanged.connect(self._timer.start)
        self.reload()

    def reload(self) -> None:
        """Recount over the session's current rows."""
        self.beginResetModel()
        sx = self.session.index
        pos = self.session.positions
        if self.by == "kind":
            counts = (
                np.bincount(sx.kind[pos].astype(np.int64), minlength=len(KINDS))
                if len(pos)
                else np.zeros(len(KINDS), int)
            )
            self.rows = [(KIND_TITLES[k], int(counts[i])) for i, k in enumerate(KINDS)]
        else:
            cats = (
                np.where(
                    sx.category_id[pos] >= 0, sx.category_id[pos], sx.predicted_category_id[pos]
                )
                if len(pos)
                else np.zeros(0, np.int64)
            )
            uniq, counts = np.unique(cats, return_counts=True)
            names = self.session.category_names
            self.rows = [
                (names.get(int(u), "?"), int(c)) for u, c in zip(uniq, counts, strict=True)
            ]
        self.rows.sort(key=lambda r: (-r[1], r[0]))
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return (
            ("Kind" if self.by == "kind" else "Class", "Suspects")[section]
            if section in (0, 1)
            else None
        )

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            value = self.rows[index.row()][index.column()]
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
