"""Arrow-key nudges: a burst is one edit (one write, one change-log row, one undo step), written
when it ends: after a moment without nudges, or before anything else happens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.desktop.main_window import MainWindow

SHIFT = Qt.KeyboardModifier.ShiftModifier
RIGHT, DOWN = Qt.Key.Key_Right, Qt.Key.Key_Down


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The demo project in the window."""
    return open_window(demo_project)


def select_movable_label(qtbot: object, win: MainWindow) -> dict:
    """Select a box-editable label well inside its image and give the canvas the keys."""
    s = win.session
    image = s.store.image(s.shown_image_id())
    ann = next(
        a
        for a in s.store.annotations_for_image(image["id"])
        if not isinstance(a["segmentation"], dict)
        and a["bbox"][0] > 20
        and a["bbox"][0] + a["bbox"][2] < image["width"] - 40
        and a["bbox"][1] + a["bbox"][3] < image["height"] - 40
    )
    s.select_label(ann["id"])
    qtbot.waitUntil(
        lambda: win.canvas.editor is not None and win.canvas.editor.annotation_id == ann["id"],
        timeout=10_000,
    )
    win.canvas.setFocus()
    qtbot.waitUntil(win.canvas.hasFocus)
    return ann


def test_a_burst_of_nudges_is_one_log_row_and_one_undo_step(
    qtbot: object, window: MainWindow
) -> None:
    s = window.session
    ann = select_movable_label(qtbot, window)
    seq, steps = s.store.last_change(), s.undo_stack.count()
    for key, mod in [(RIGHT, SHIFT), (RIGHT, Qt.KeyboardModifier.NoModifier), (DOWN, SHIFT)] * 2:
        QTest.keyClick(window.canvas, key, mod)
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]  # on screen only, for now
    assert window.canvas.editor.box[:2] == pytest.approx([ann["bbox"][0] + 22, ann["bbox"][1] + 20])
    qtbot.waitUntil(lambda: s.labels.burst is None, timeout=5_000)  # a moment without nudges
    moved = s.store.annotation(ann["id"])["bbox"]
    assert moved[:2] == pytest.approx([ann["bbox"][0] + 22, ann["bbox"][1] + 20])
    entries = s.store.change_log(after_seq=seq)
    assert [e["action"] for e in entries] == ["set_geometry"]
    assert entries[0]["before"]["bbox"] == ann["bbox"] and entries[0]["after"]["bbox"] == moved
    assert s.undo_stack.count() == steps + 1 and s.edits_since_export() == 1
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]


def test_another_command_writes_the_burst_first(qtbot: object, window: MainWindow) -> None:
    """A class key right after nudges: the burst is written, then the class change; two steps
    that undo one by one."""
    s = window.session
    ann = select_movable_label(qtbot, window)
    steps = s.undo_stack.count()
    QTest.keyClick(window.canvas, RIGHT, SHIFT)
    QTest.keyClick(window.canvas, RIGHT, SHIFT)
    other = next(c for c, _name in s.labels.quick_classes() if c != ann["category_id"])
    assert s.labels.set_category(other)
    assert s.undo_stack.count() == steps + 2
    now = s.store.annotation(ann["id"])
    assert now["category_id"] == other and now["bbox"][0] == pytest.approx(ann["bbox"][0] + 20)
    s.undo()
    assert s.store.annotation(ann["id"])["category_id"] == ann["category_id"]
    assert s.store.annotation(ann["id"])["bbox"][0] == pytest.approx(ann["bbox"][0] + 20)
    s.undo()
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]


def test_undo_right_after_nudges_undoes_the_burst(qtbot: object, window: MainWindow) -> None:
    s = window.session
    ann = select_movable_label(qtbot, window)
    steps = s.undo_stack.count()
    QTest.keyClick(window.canvas, DOWN, SHIFT)
    QTest.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]
    assert s.undo_stack.count() == steps + 1 and s.undo_stack.index() == steps
    s.redo()
    assert s.store.annotation(ann["id"])["bbox"][1] == pytest.approx(ann["bbox"][1] + 10)


def test_leaving_the_canvas_or_the_label_ends_the_burst(qtbot: object, window: MainWindow) -> None:
    s = window.session
    ann = select_movable_label(qtbot, window)
    QTest.keyClick(window.canvas, RIGHT)
    window.table.setFocus()
    qtbot.waitUntil(lambda: not window.canvas.hasFocus())
    assert s.labels.burst is None
    assert s.store.annotation(ann["id"])["bbox"][0] == pytest.approx(ann["bbox"][0] + 1)
    select_movable_label(qtbot, window)
    QTest.keyClick(window.canvas, RIGHT)
    s.select_label(None)
    assert s.labels.burst is None
    assert s.store.annotation(ann["id"])["bbox"][0] == pytest.approx(ann["bbox"][0] + 2)


def test_closing_the_window_writes_the_burst(
    qtbot: object, window: MainWindow, demo_project: Path
) -> None:
    from labelfix.core.store import Store

    s = window.session
    ann = select_movable_label(qtbot, window)
    QTest.keyClick(window.canvas, DOWN)
    window.ask_on_close = False
    assert window.close()
    with Store.open(demo_project, readonly=True) as store:
        assert store.annotation(ann["id"])["bbox"][1] == pytest.approx(ann["bbox"][1] + 1)
    assert s is not None
