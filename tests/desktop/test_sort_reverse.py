"""A key reverses the order the suspects are sorted in (Ctrl+Shift+S steps through the orders,
each in one direction only: lowest scores first needed a click on the header), with the header's
arrow following and an entry in the View menu."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.desktop.main_window import MainWindow

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def reverse_key(window: MainWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_D, CTRL_SHIFT)
    QApplication.processEvents()


def test_a_key_reverses_the_order_and_the_header_arrow_follows(window: MainWindow) -> None:
    s, table = window.session, window.table
    header = table.horizontalHeader()
    assert (s.sort_key, s.descending) == ("score", True)
    scores = [s.suspect_at(r)["score"] for r in range(min(s.row_count(), 20))]
    reverse_key(window)
    assert (s.sort_key, s.descending) == ("score", False)
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    low = [s.suspect_at(r)["score"] for r in range(min(s.row_count(), 20))]
    assert low == sorted(low) and low[0] <= scores[-1]
    assert window.canvas.hint.note == "Sorted by score, lowest first"
    reverse_key(window)
    assert (s.sort_key, s.descending) == ("score", True)
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert window.canvas.hint.note == "Sorted by score, highest first"


def test_reversing_keeps_the_order_stepped_to(window: MainWindow) -> None:
    s = window.session
    QTest.keyClick(window, Qt.Key.Key_S, CTRL_SHIFT)  # kind, A to Z
    QApplication.processEvents()
    assert (s.sort_key, s.descending) == ("kind", False)
    reverse_key(window)
    assert (s.sort_key, s.descending) == ("kind", True)
    assert window.canvas.hint.note == "Sorted by kind, Z to A"
    header = window.table.horizontalHeader()
    assert header.sortIndicatorSection() == window.table.suspect_model.column_of("kind")
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder


def test_the_view_menu_has_it(window: MainWindow) -> None:
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    texts = [a.text() for a in view.actions()]
    assert window.actions["sort_reverse"].text() in texts
    assert "Ctrl+Shift+D" in window.actions["sort_reverse"].shortcut().toString()
