"""A second app on a project file another app holds may open it read-only: the suspects,
the canvas and export work; every edit and decision action is off, the status bar says why
and who holds the lock, a try anyway (a drag on the canvas, a call) changes nothing and says
so, and the lock stays the other app's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.core.store import Store, lock
from labelfix.desktop import export_dialogs
from labelfix.desktop.actions import WRITES
from labelfix.desktop.dialogs import READ_ONLY
from labelfix.desktop.main_window import MainWindow

BROWSE = ("next", "previous", "zoom_suspect", "export", "toggle_grid", "select_label", "sort_next")


def since() -> str:
    return time.strftime("%H:%M", time.localtime(0.0))


@pytest.fixture
def window(qtbot: object, demo_project: Path, other_app: int) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.open_locked = lambda held, path: READ_ONLY
    assert win.open_path(demo_project)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    win.table.setFocus()
    return win


def test_read_only_turns_off_every_edit_and_says_who_holds_it(
    window: MainWindow, demo_project: Path, other_app: int
) -> None:
    s = window.session
    assert s.read_only is not None and "reviewer ann" in s.read_only
    for action_id in WRITES:
        assert not window.actions[action_id].isEnabled(), action_id
    assert not window.actions["nudge_left"].isEnabled()
    assert not window.actions["quick_class_1"].isEnabled()
    for action_id in BROWSE:
        assert window.actions[action_id].isEnabled(), action_id
    note = window.read_only_note
    assert note is not None and note.isVisible()
    assert note.text() == f"Read-only: ann has it open (pid {other_app}, since {since()})"
    assert s.read_only in note.toolTip() and "Edits and decisions are off" in note.toolTip()
    assert "read-only" in window.windowTitle()
    # the lock stays the other app's, during and after
    assert lock.holder(demo_project).pid == other_app
    window.close_project()
    assert lock.holder(demo_project).pid == other_app
    assert window.read_only_note is None


def test_the_keys_browse_but_decide_nothing(window: MainWindow, demo_project: Path) -> None:
    s = window.session
    first = s.current()
    QTest.keyClick(window, Qt.Key.Key_A)
    QTest.keyClick(window, Qt.Key.Key_R)
    assert s.store.decision(s.set_id, first["key"]) is None
    assert s.current_key() == first["key"]
    inspector = window.docks["inspector"].widget()
    assert inspector.hint.text().startswith("Read-only here: nothing can be accepted.")
    QTest.keyClick(window, Qt.Key.Key_Space)  # browsing works
    assert s.current_key() != first["key"]
    said: list[str] = []
    s.errorOccurred.connect(said.append)
    assert not s.decide("accepted")  # called anyway (a script, a stale button)
    assert said and said[-1].startswith("Read-only (") and "nothing was changed" in said[-1]


def test_a_label_moved_on_the_canvas_is_refused_and_drawn_back(
    window: MainWindow, demo_project: Path
) -> None:
    s = window.session
    label = next(a for a in s.image_labels(s.shown_image_id()) if not a.get("iscrowd"))
    drawn: list[set] = []
    s.labelsChanged.connect(drawn.append)
    x, y, w, h = label["bbox"]
    assert not s.labels.set_geometry(label["id"], bbox=[x + 5, y, w, h])
    assert s.store.annotation(label["id"])["bbox"] == label["bbox"]
    assert drawn and label["image_id"] in drawn[-1]
    assert s.undo_stack.count() == 0


def test_export_works_and_the_project_file_is_unchanged(
    window: MainWindow, demo_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    assert export_dialogs.export_to(window, out)
    assert json.loads(out.read_text())["annotations"]
    with Store.open(demo_project, readonly=True) as store:
        assert store.counts()["changes"] == 0


def test_a_screenshot_of_a_held_project_leaves_the_lock_to_its_app(
    demo_project: Path, other_app: int, tmp_path: Path
) -> None:
    """--screenshot only looks: it opened the project anyway, took the lock and removed it on
    closing, so the app that held it had none any more."""
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [sys.executable, "-m", "labelfix", "open", str(demo_project), "--screenshot", str(out)],
        capture_output=True,
        text=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "is open in LabelFix" in result.stderr and out.exists()
    assert lock.holder(demo_project).pid == other_app
