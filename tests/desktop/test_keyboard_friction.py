"""The keyboard reviewer's friction the first drive by xdotool found: sorting, where the focus
is, the way back to the table, what the Kinds button lists, the flag note's place, the arrows
with no label selected."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog

from labelfix.desktop.main_window import MainWindow


def test_kinds_button_names_one_or_two_chosen_kinds(window: MainWindow) -> None:
    """ "Kinds: 1" did not say which kind was listed."""
    s = window.session
    kinds = window.filter_bar.kinds
    assert kinds.text() == "Kinds: all"
    s.set_filter(s.filter.with_(kinds=frozenset({"missing_label"})))
    assert kinds.text() == "Kinds: missing label"
    s.set_filter(s.filter.with_(kinds=frozenset({"missing_label", "wrong_class"})))
    assert kinds.text() == "Kinds: missing label, wrong class"
    s.set_filter(
        s.filter.with_(kinds=frozenset({"missing_label", "wrong_class", "spurious_label"}))
    )
    assert kinds.text() == "Kinds: 3"


def test_a_key_cycles_the_sort_and_the_header_shows_it(window: MainWindow) -> None:
    """The table's header takes no focus: sorting needed the mouse."""
    s = window.session
    header = window.table.horizontalHeader()
    model = window.table.suspect_model
    assert (s.sort_key, s.descending) == ("score", True)
    seen = []
    for _ in range(4):
        QTest.keyClick(
            window,
            Qt.Key.Key_S,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        QApplication.processEvents()
        seen.append(s.sort_key)
        assert header.sortIndicatorSection() == model.column_of(s.sort_key)
        assert window.canvas.hint.note.startswith("Sorted by ")
    assert seen == ["kind", "file_name", "label_class", "score"]
    assert s.descending  # the score comes back highest first
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder


def test_t_takes_the_keys_back_to_the_suspects_table(window: MainWindow) -> None:
    """No key led back to the table from the canvas, the inspector or a filter control."""
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_T)
    assert QApplication.focusWidget() is window.table
    window.filter_bar.kinds.setFocus()
    QTest.keyClick(window.filter_bar.kinds, Qt.Key.Key_T)
    assert QApplication.focusWidget() is window.table
    window.filter_bar.search.setFocus()  # typing a file name keeps its t
    QTest.keyClicks(window.filter_bar.search, "t")
    assert window.filter_bar.search.text() == "t"
    assert QApplication.focusWidget() is window.filter_bar.search


def test_the_pane_with_the_focus_wears_a_frame(window: MainWindow) -> None:
    """The canvas, inspector and summary showed no sign of having the focus."""
    frame = window.focus_frame.frame
    QApplication.processEvents()
    assert frame.isVisible() and frame.parentWidget() is window.docks["suspects"]
    window.canvas.setFocus()
    QApplication.processEvents()
    assert frame.isVisible() and frame.parentWidget() is window.views
    assert frame.geometry() == window.views.rect()
    window.filter_bar.kinds.setFocus()  # where the focus stays after a Kinds choice
    QApplication.processEvents()
    assert frame.parentWidget() is window.docks["suspects"]
    window.docks["inspector"].widget().setFocus()
    QApplication.processEvents()
    assert frame.parentWidget() is window.docks["inspector"]


def test_the_flag_note_dialog_stands_clear_of_the_suspect(window: MainWindow) -> None:
    """The note dialog opened centred on the window: over the suspect on the canvas."""
    window.canvas.setFocus()
    suspect = window.canvas.suspect_on_screen()
    assert suspect is not None and not suspect.isEmpty()
    placed: list[QRect] = []

    def look_and_cancel() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QInputDialog)
        placed.append(dialog.frameGeometry())
        dialog.reject()

    QTimer.singleShot(200, look_and_cancel)
    QTest.keyClick(window, Qt.Key.Key_F)
    assert len(placed) == 1
    assert not placed[0].intersects(suspect)
    assert window.session.current()["status"] == "open"


def test_arrows_with_no_label_selected_say_how_to_select_one(window: MainWindow) -> None:
    """Arrow keys on the canvas with no label selected did nothing and said nothing."""
    canvas = window.canvas
    canvas.setFocus()
    assert window.session.selected_label is None
    QTest.keyClick(canvas, Qt.Key.Key_Left)
    assert canvas.hint.note == "S selects the suspect's label to move it"
    assert canvas.hint.isVisible() and canvas.hint.timer.isActive()
