"""The suspects table view: follows the session's rows and selection, reports clicks to it."""

from __future__ import annotations

import math

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from labelfix.core.suspects import STATUSES

from .models import KIND_TITLES, SuspectTableModel
from .session import Session

# the least width of each column (px)
WIDTHS = (112, 46, 92, 72, 72, 38, 40, 40, 30, 90, 60, 44)
# Columns that must show their longest value whole (the others elide): widened to fit it in
# the table's font, whatever the platform's font and DPI.
WIDEST: dict[int, tuple[str, ...]] = {
    0: tuple(KIND_TITLES.values()),
    1: ("0.000",),
    5: ("0.00",),
    6: ("0.00",),
    7: ("0.00",),
    8: ("+9",),
    10: STATUSES,
}
SETS_COLUMN = 9  # shown for an analysis of several prediction sets
CELL_PADDING = 14  # the cell's margins, so the text is not elided by a pixel


class SuspectTable(QTableView):
    """A QTableView over SuspectTableModel; sorting by header click goes to the index."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.suspect_model = SuspectTableModel(session)
        self.setModel(self.suspect_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideLeft)  # file names differ at their end
        self.setTabKeyNavigation(False)
        vh = self.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(22)
        vh.hide()
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setHighlightSections(False)
        fm = QFontMetricsF(self.font())
        for col, width in enumerate(WIDTHS):
            texts = WIDEST.get(col, ())
            fit = max((math.ceil(fm.horizontalAdvance(t)) + CELL_PADDING for t in texts), default=0)
            self.setColumnWidth(col, max(width, fit))
        self.setColumnHidden(
            len(WIDTHS) - 1, True
        )  # the suspect id: there for sorting, shown on demand
        self._show_sets()
        session.suspectsChanged.connect(self._show_sets)
        hh.setSortIndicator(
            self.suspect_model.column_of(session.sort_key),
            Qt.SortOrder.DescendingOrder if session.descending else Qt.SortOrder.AscendingOrder,
        )
        self.setSortingEnabled(True)
        self._syncing = False
        self.selectionModel().currentRowChanged.connect(self._current_changed)
        session.selectionChanged.connect(self.follow_selection)
        # after the click that asked for the move has selected its row (a direct call would
        # run inside the click, which then highlights the clicked row anyway)
        session.selectionKept.connect(self.follow_selection, Qt.ConnectionType.QueuedConnection)
        session.rowsReselected.connect(self.reselect)
        session.filterChanged.connect(self._sync_sort_indicator)
        session.orderChanged.connect(self._sync_sort_indicator)  # a sort by key (Ctrl+Shift+S)
        self.follow_selection()

    def _show_sets(self) -> None:
        """The Sets column only when several prediction sets were analysed together."""
        multi = self.session.index.multi
        if self.isColumnHidden(SETS_COLUMN) == multi:
            self.setColumnHidden(SETS_COLUMN, not multi)

    def natural_width(self) -> int:
        """Pixels the table needs to show every visible column whole, with its scroll bar."""
        columns = sum(
            self.columnWidth(c)
            for c in range(self.suspect_model.columnCount())
            if not self.isColumnHidden(c)
        )
        return columns + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing and current.isValid():
            self.session.select_row(current.row())

    def follow_selection(self) -> None:
        """Select and show the session's current row."""
        row = self.session.current_row()
        current = self.currentIndex()
        if row is None:
            return
        if (
            current.isValid()
            and current.row() == row
            and self.selectionModel().isRowSelected(row, QModelIndex())
        ):
            return
        self._syncing = True
        try:
            index = self.suspect_model.index(row, 0)
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.selectionModel().setCurrentIndex(index, flags)
            self.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        finally:
            self._syncing = False

    def reselect(self, rows: list[int]) -> None:
        """Select these rows again (an undone bulk decision's); the current row stays."""
        selection = QItemSelection()
        last = self.suspect_model.columnCount() - 1
        for row in rows:
            selection.select(self.suspect_model.index(row, 0), self.suspect_model.index(row, last))
        self.selectionModel().select(
            selection,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    def _sync_sort_indicator(self) -> None:
        hh = self.horizontalHeader()
        col = self.suspect_model.column_of(self.session.sort_key)
        order = (
            Qt.SortOrder.DescendingOrder if self.session.descending else Qt.SortOrder.AscendingOrder
        )
        if hh.sortIndicatorSection() != col or hh.sortIndicatorOrder() != order:
            hh.blockSignals(True)
            hh.setSortIndicator(col, order)
            hh.blockSignals(False)

    def selected_rows(self) -> list[int]:
        """The selected table rows, in order."""
        rows: set[int] = set()
        for rng in self.selectionModel().selection():  # ranges: fast even for 500k rows
            rows.update(range(rng.top(), rng.bottom() + 1))
        return sorted(rows)
