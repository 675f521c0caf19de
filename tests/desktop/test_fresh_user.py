"""What a new user met in the first hour on a fresh machine (the README's Quick start, then
their own COCO data in the app): each test pins one thing that got in the way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.desktop.main_window import MainWindow


def file_menu(win: MainWindow) -> list[str]:
    """The File menu's entries (separators left out)."""
    menu = next(a.menu() for a in win.menuBar().actions() if a.text().strip("&") == "File")
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_ctrl_q_quits_from_the_start_page(qtbot: object) -> None:
    """The demo opened, and Ctrl+Q (every Linux and Windows app's Quit) did nothing; the File
    menu had no way out either."""
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    assert file_menu(win)[-1] == "Quit"
    QTest.keyClick(win, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not win.isVisible()


def test_ctrl_q_quits_an_open_project(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    win = open_window(demo_project)
    assert win.actions["quit"].isEnabled()
    QTest.keyClick(win, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not win.isVisible()
    assert win.session is None  # closed as the window's close button closes it
