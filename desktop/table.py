"""The suspects table view: follows the session's rows and selection, reports clicks to it."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .models import SuspectTableModel
from .session import Session

WIDTHS = (112, 46, 112, 80, 80, 38, 40, 60, 44)


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
        for col, width in enumerate(WIDTHS):
            self.setColumnWidth(col, width)
        self.setColumnHidden(
            len(WIDTHS) - 1, True
        )  # the suspect id: there for sorting, shown on demand
        hh.setSortIndicator(
            self.suspect_model.column_of(session.sort_key),
            Qt.SortOrder.DescendingOrder if session.descending else Qt.SortOrder.AscendingOrder,
        )
        self.setSortingEnabled(True)
        self._syncing = False
        self.selectionModel().currentRowChanged.connect(self._current_changed)
        session.selectionChanged.connect(self.follow_selection)
        session.filterChanged.connect(self._sync_sort_indicator)
        self.follow_selection()

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
