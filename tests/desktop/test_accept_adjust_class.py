"""Shift+A ("accept the fix, then adjust the label") on a wrong_class suspect: the class changes
and the canvas stays on that label, selected with its handles, the arrows nudging it, as Shift+A
does after a missing_label or inaccurate_label fix (it used to move on exactly like A)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.desktop.actions import SPECS
from labelfix.desktop.main_window import MainWindow

SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    return open_window(demo_project, size=(1300, 900))


def wrong_class_row(win: MainWindow) -> int:
    s = win.session
    rows = [r for r in range(s.row_count()) if s.suspect_at(r)["kind"] == "wrong_class"]
    assert rows, "the demo has wrong_class suspects"
    return rows[0]


def test_accept_then_adjust_a_wrong_class_keeps_its_label_selected(
    qtbot: object, window: MainWindow
) -> None:
    s, canvas = window.session, window.canvas
    s.select_row(wrong_class_row(window))
    suspect = s.current()
    label = suspect["annotation_id"]
    before = s.store.annotation(label)
    QTest.keyClick(window, Qt.Key.Key_A, SHIFT)
    after = s.store.annotation(label)
    assert after["category_id"] != before["category_id"]  # the fix: the class changed
    assert s.store.decision(s.set_id, suspect["key"])["decision"] == "accepted"
    assert s.selected_label == label  # the label stays, selected for adjusting
    assert s.shown_image_id() == suspect["image_id"]
    qtbot.waitUntil(
        lambda: canvas.editor is not None and canvas.editor.annotation_id == label,
        timeout=10_000,
    )
    qtbot.waitUntil(canvas.hasFocus)
    QTest.keyClick(canvas, Qt.Key.Key_Right)  # the arrows nudge it
    s.write_pending()
    assert s.store.annotation(label)["bbox"][0] == pytest.approx(before["bbox"][0] + 1)


def test_plain_accept_of_a_wrong_class_still_moves_on(qtbot: object, window: MainWindow) -> None:
    s = window.session
    s.select_row(wrong_class_row(window))
    suspect = s.current()
    QTest.keyClick(window, Qt.Key.Key_A)
    assert s.current_key() != suspect["key"] and s.view_image_id is None


def test_the_action_says_it_keeps_the_label_for_adjusting() -> None:
    title = SPECS["accept_adjust"].title
    assert "class" in title and "arrows" in title
