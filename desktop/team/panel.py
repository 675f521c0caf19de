"""The Team dock of a team project: the connection, claims ("Claim next batch", how many you
hold), what the table lists (everything, my claims, one reviewer's decisions: the lead's view)
and each reviewer's counts. It reads and acts through the session's :class:`TeamSync` only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from ..session import Session

EVERYONE = "All suspects"
MY_CLAIMS = "My claims"
DECIDED_BY = "Decided by "
COUNT_COLUMNS = ("accepted", "rejected", "flagged", "decided", "label_edits")
COUNT_TITLES = ("Reviewer", "Accepted", "Rejected", "Flagged", "Decided", "Label edits")
DEFAULT_BATCH = 20
COUNTS_DELAY_MS = 1000  # others' changes refresh the counts at most this often


class TeamPanel(QWidget):
    """Connection, claims, the list's team view and the reviewers' counts."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.team = session.team
        assert self.team is not None, "the Team panel is for team projects"
        self.connection = QLabel()
        self.connection.setWordWrap(True)
        self.connection.setObjectName("teamConnection")
        self.batch = QSpinBox()
        self.batch.setRange(1, 1000)
        self.batch.setValue(DEFAULT_BATCH)
        self.claim_button = QPushButton("Claim next batch")
        self.claim_button.setToolTip(
            "Claim the best-scored open objects nobody holds (each with all its suspects), for 15 "
            "minutes (renewed while this window is open, given back when it closes)"
        )
        self.claim_button.clicked.connect(self.claim_next)
        self.claimed = QLabel()
        self.view = QComboBox()
        self.view.setToolTip("List every suspect, only your claims, or one reviewer's decisions")
        self.view.activated.connect(lambda _i: self.apply_view())
        self.counts = QTableWidget(0, len(COUNT_TITLES))
        self.counts.setHorizontalHeaderLabels(list(COUNT_TITLES))
        self.counts.verticalHeader().hide()
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.counts.cellDoubleClicked.connect(self._show_reviewer)
        claim_row = QHBoxLayout()
        claim_row.addWidget(self.batch)
        claim_row.addWidget(self.claim_button, 1)
        view_row = QHBoxLayout()
        view_row.addWidget(QLabel("List"))
        view_row.addWidget(self.view, 1)
        column = QVBoxLayout(self)
        column.addWidget(self.connection)
        column.addLayout(claim_row)
        column.addWidget(self.claimed)
        column.addLayout(view_row)
        column.addWidget(QLabel("<b>Reviewers</b> (double-click one to list their decisions)"))
        column.addWidget(self.counts, 1)
        self._counts_timer = QTimer(self, singleShot=True, interval=COUNTS_DELAY_MS)
        self._counts_timer.timeout.connect(self.refresh_counts)
        self.team.changed.connect(self._team_changed)
        session.suspectsChanged.connect(self._counts_soon)
        self.refresh_counts()
        self._team_changed()

    # ------------------------------------------------------------------ claims
    def claim_next(self) -> list[str]:
        """Claim the next batch and list my claims."""
        keys = self.team.claim_next(self.batch.value())
        if keys:
            self.set_view(MY_CLAIMS)
        else:
            self.session.errorOccurred.emit("No open suspect left to claim.")
        return keys

    # ------------------------------------------------------------------ the list's team view
    def set_view(self, text: str) -> None:
        """Choose a view by its text (EVERYONE, MY_CLAIMS, DECIDED_BY + name)."""
        index = self.view.findText(text)
        if index < 0:
            self.view.addItem(text)
            index = self.view.count() - 1
        self.view.setCurrentIndex(index)
        self.apply_view()

    def apply_view(self) -> None:
        """Narrow the session's list to the chosen view."""
        text = self.view.currentText()
        if text == MY_CLAIMS:
            self.session.set_only("my claims", set(self.team.mine))
        elif text.startswith(DECIDED_BY):
            name = text.removeprefix(DECIDED_BY)
            flt = self.session.filter
            if flt.statuses is not None and flt.statuses <= {"open"}:
                self.session.set_filter(flt.with_(statuses=None))  # decided ones are the point
            self.session.set_only(f"decided by {name}", set(self.team.keys_decided_by(name)))
        else:
            self.session.set_only(None, None)

    def _show_reviewer(self, row: int, _column: int) -> None:
        item = self.counts.item(row, 0)
        if item is not None:
            self.set_view(DECIDED_BY + item.text())

    # ------------------------------------------------------------------ refreshing
    def _counts_soon(self) -> None:
        """Refresh the counts within a second (not restarted: steady changes refresh too)."""
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def _team_changed(self) -> None:
        team = self.team
        if team.connected:
            self.connection.setText(
                f"Connected as <b>{team.reviewer}</b>; others' decisions and edits appear as "
                "they are made."
            )
            self.connection.setToolTip(self.session.location)
            self.connection.setStyleSheet("")
        else:
            waiting = len(team.unsaved)
            self.connection.setText(
                "<b>Not connected to the team server</b>; reconnecting… "
                + (f"{waiting} unsaved edit(s) will be sent when it is back." if waiting else "")
            )
            self.connection.setStyleSheet("color: #c0392b;")
        others = len(team.others)
        self.claimed.setText(
            f"You hold {len(team.mine)} claim(s); others hold {others}."
        )
        self.claim_button.setEnabled(team.connected)
        if self.view.currentText() == MY_CLAIMS:
            self.session.set_only("my claims", set(team.mine))

    def refresh_counts(self) -> None:
        """Each reviewer's numbers (and the reviewer view's keys) read again."""
        if not self.team.connected:
            return
        try:
            counts = self.team.reviewer_counts()
        except Exception as exc:  # noqa: BLE001 - the server may be going away
            self.session.errorOccurred.emit(f"Reviewer counts not read: {exc}")
            return
        self.counts.setRowCount(len(counts))
        for row, (name, numbers) in enumerate(counts.items()):
            self.counts.setItem(row, 0, QTableWidgetItem(name))
            for col, key in enumerate(COUNT_COLUMNS, 1):
                item = QTableWidgetItem(str(numbers.get(key, 0)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.counts.setItem(row, col, item)
        current = self.view.currentText()
        self.view.blockSignals(True)
        self.view.clear()
        self.view.addItems([EVERYONE, MY_CLAIMS, *(DECIDED_BY + n for n in counts)])
        self.view.setCurrentIndex(max(self.view.findText(current), 0))
        self.view.blockSignals(False)
        if current.startswith(DECIDED_BY):
            self.apply_view()  # their decisions may have changed
