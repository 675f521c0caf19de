"""The control with the keys wears an outline, not only its pane: Tab between the filter bar's
buttons and the file-name box moved the focus unseen (the pane's frame stayed put, and the
Fusion style marks a focused button with a 1 px tint one barely sees)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from labelfix.desktop.main_window import MainWindow


def on_screen(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def outlined(window: MainWindow) -> QWidget | None:
    """The widget the control outline surrounds, if shown (its rect strictly inside it)."""
    outline = window.focus_frame.control_frame
    QApplication.processEvents()
    if not outline.isVisible():
        return None
    focused = QApplication.focusWidget()
    around, inside = on_screen(outline), on_screen(focused)
    assert around.contains(inside) and around != inside  # around it, not over its face
    return focused


def test_tab_through_the_filter_bar_outlines_each_control(window: MainWindow) -> None:
    bar = window.filter_bar
    bar.kinds.setFocus(Qt.FocusReason.TabFocusReason)
    assert outlined(window) is bar.kinds
    seen = {bar.kinds}
    for _ in range(6):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        if focused is window.table:
            break
        assert outlined(window) is focused
        seen.add(focused)
    assert bar.search in seen  # the file-name box too
    assert window.focus_frame.frame.parentWidget() is window.docks["suspects"]


def test_the_table_and_canvas_keep_the_pane_frame_only(window: MainWindow) -> None:
    window.filter_bar.kinds.setFocus(Qt.FocusReason.TabFocusReason)
    assert outlined(window) is window.filter_bar.kinds
    window.table.setFocus()
    assert outlined(window) is None
    frame = window.focus_frame.frame
    assert frame.isVisible() and frame.parentWidget() is window.docks["suspects"]
    window.canvas.setFocus()
    assert outlined(window) is None
    assert frame.isVisible() and frame.geometry() == window.views.rect()


def test_a_new_project_s_filter_bar_is_outlined_too(
    window: MainWindow, demo_project: object
) -> None:
    """The outline lived in the old filter bar, destroyed with the project it showed."""
    window.filter_bar.kinds.setFocus(Qt.FocusReason.TabFocusReason)
    assert outlined(window) is window.filter_bar.kinds
    window.close_project()
    assert window.open_path(demo_project)
    QApplication.processEvents()
    window.filter_bar.search.setFocus(Qt.FocusReason.TabFocusReason)
    assert outlined(window) is window.filter_bar.search
