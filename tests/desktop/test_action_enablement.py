"""Actions are enabled only when they can do something: the menus grey the others and their keys
do nothing; the window follows the session's signals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.desktop.actions import ACTIONS, ALWAYS, facts
from labelfix.desktop.main_window import MainWindow


def enabled(win: MainWindow) -> set[str]:
    """The ids of the enabled actions."""
    return {k for k, a in win.actions.items() if a.isEnabled()}


def test_without_a_project_only_what_needs_none_is_enabled(qtbot: object) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    assert enabled(win) == {s.id for s in ACTIONS if s.needs == ALWAYS}
    assert {"new_project", "open_project", "open_demo", "shortcuts"} <= enabled(win)
    menus = {a.text(): a for m in win.menuBar().actions() for a in m.menu().actions()}
    assert not menus["Accept the fix"].isEnabled() and menus["Open project…"].isEnabled()


def test_the_actions_follow_the_session(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    win = open_window(demo_project)
    s = win.session
    now = enabled(win)
    assert {"accept", "reject", "flag", "next", "export", "analyze", "zoom_in"} <= now
    assert not {"undo", "redo", "delete_label", "duplicate", "nudge_left"} & now
    steps = s.undo_stack.count()
    QTest.keyClick(win, Qt.Key.Key_Delete)  # no label selected: the key does nothing
    assert s.undo_stack.count() == steps

    label = s.store.annotations_for_image(s.shown_image_id())[0]
    s.select_label(label["id"])
    assert {"delete_label", "duplicate", "nudge_left", "remove_vertex"} <= enabled(win)
    QTest.keyClick(win, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert s.undo_stack.count() == steps + 1
    assert "undo" in enabled(win) and "redo" not in enabled(win)
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert {"undo", "redo"} & enabled(win) == {"redo"}

    s.select_row(None)  # no suspect: nothing to decide or zoom to
    assert not {"accept", "reject", "flag", "cycle_fix", "zoom_suspect"} & enabled(win)
    assert facts(s) == frozenset({"project", "analysis", "redo", "writable"})

    win.close_project()
    assert enabled(win) == {a.id for a in ACTIONS if a.needs == ALWAYS}
