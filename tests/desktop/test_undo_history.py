"""Undo and redo across images, the History view, exports and closing with unexported edits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from labelfix.desktop.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The main window with the demo project open, shown and active."""
    win = open_window(demo_project)
    return win


def edit_a_label(qtbot: object, win: MainWindow) -> dict:
    """Select a label on the current suspect's image and nudge it right by 10 px (one command)."""
    s = win.session
    image_id = s.current()["image_id"]
    width = s.store.image_sizes()[image_id][1]
    ann = next(  # a label that can move 10 px right without leaving the image
        a
        for a in s.store.annotations_for_image(image_id)
        if not isinstance(a["segmentation"], dict) and a["bbox"][0] + a["bbox"][2] + 10 < width
    )
    s.select_label(ann["id"])
    qtbot.waitUntil(lambda: win.canvas.editor is not None, timeout=10_000)
    assert win.canvas.nudge(10, 0)
    assert s.labels.end_burst()  # as a moment without nudges does
    return ann


def other_image_row(win: MainWindow, image_id: int) -> int:
    """A listed suspect on another image."""
    s = win.session
    return next(r for r in range(s.row_count()) if s.suspect_at(r)["image_id"] != image_id)


def test_undo_and_redo_bring_the_edited_image_back(qtbot: object, window: MainWindow) -> None:
    s, canvas = window.session, window.canvas
    ann = edit_a_label(qtbot, window)
    image_id = ann["image_id"]
    moved = s.store.annotation(ann["id"])["bbox"]
    assert moved[0] == pytest.approx(ann["bbox"][0] + 10)
    s.select_row(other_image_row(window, image_id))
    qtbot.waitUntil(lambda: canvas.image_id not in (None, image_id), timeout=10_000)
    assert s.selected_label is None  # another image: nothing selected there

    QTest.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]
    assert s.shown_image_id() == image_id and s.selected_label == ann["id"]
    qtbot.waitUntil(lambda: canvas.image_id == image_id, timeout=10_000)
    qtbot.waitUntil(lambda: canvas.editor is not None and canvas.editor.annotation_id == ann["id"])

    s.select_row(other_image_row(window, image_id))
    qtbot.waitUntil(lambda: canvas.image_id != image_id, timeout=10_000)
    QTest.keyClick(window, Qt.Key.Key_Y, CTRL)
    assert s.store.annotation(ann["id"])["bbox"] == moved
    qtbot.waitUntil(lambda: canvas.image_id == image_id, timeout=10_000)
    assert s.selected_label == ann["id"]
    assert s.undo_stack.undoLimit() == 0  # unlimited


def test_history_lists_commands_and_jumps(qtbot: object, window: MainWindow) -> None:
    s = window.session
    ann = edit_a_label(qtbot, window)
    QTest.keyClick(window, Qt.Key.Key_Delete)
    assert s.store.annotation(ann["id"]) is None
    assert not window.history_dock.isVisible()
    QTest.keyClick(window, Qt.Key.Key_H, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert window.history_dock.isVisible()
    texts = window.history.texts()
    assert texts[0] == "Project opened"
    image = s.store.image(ann["image_id"])["file_name"]
    name = s.category_names[ann["category_id"]]
    assert texts[1] == f"nudge label #{ann['id']} ({name}) on {image}"
    assert texts[2] == f"delete label #{ann['id']} ({name}) on {image}"
    window.history.setCurrentIndex(window.history.model().index(0, 0))  # click the first line
    assert s.undo_stack.index() == 0
    assert s.store.annotation(ann["id"])["bbox"] == ann["bbox"]


def test_status_bar_counts_edits_and_exports(
    qtbot: object, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = window.session
    edit_a_label(qtbot, window)
    QTest.keyClick(window, Qt.Key.Key_D, CTRL)  # duplicate: a second edit
    assert s.edits_since_export() == 2
    assert "2 edit(s) since export" in window.counts.text()
    log = tmp_path / "changes.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(log), ""))
    window.actions["export_changes"].trigger()
    assert log.exists() and "set_geometry" in log.read_text()
    out = tmp_path / "fixed.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.actions["export"].trigger()
    assert s.edits_since_export() == 0 and "0 edit(s) since export" in window.counts.text()
    assert len(json.loads(out.read_text())["annotations"]) == s.store.counts()["labels"]


@pytest.mark.parametrize("answer", ["cancel", "discard", "save"])
def test_close_with_unexported_edits_asks(
    qtbot: object,
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    s = window.session
    edit_a_label(qtbot, window)
    asked: list[str] = []
    button = {
        "cancel": QMessageBox.StandardButton.Cancel,
        "discard": QMessageBox.StandardButton.Discard,
        "save": QMessageBox.StandardButton.Save,
    }[answer]

    def question(_parent: object, _title: str, text: str, *_a: object) -> object:
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    out = tmp_path / "on_close.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.ask_on_close = True
    closed = window.close()
    assert len(asked) == 1 and asked[0].startswith("1 edit since the last export")
    if answer == "cancel":
        assert not closed and window.session is s and window.isVisible()
        window.ask_on_close = False  # let the fixture close it
    else:
        assert closed and window.session is None
        assert out.exists() == (answer == "save")


def test_an_export_from_the_command_line_resets_the_count_in_the_open_window(
    qtbot: object, window: MainWindow, tmp_path: Path
) -> None:
    """The status bar read the edit count only after the window's own changes."""
    import subprocess
    import sys

    s = window.session
    edit_a_label(qtbot, window)
    assert "1 edit(s) since export" in window.counts.text()
    result = subprocess.run(
        [sys.executable, "-m", "labelfix", "export", str(s.path), "-o", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    qtbot.waitUntil(lambda: "0 edit(s) since export" in window.counts.text(), timeout=5_000)
    assert s.edits_since_export() == 0


def test_export_dialogs_start_where_the_last_export_went(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status bar names the export's folder (the demo's default one is hidden), and the
    next export or merge dialog starts there (a relabelled subset is merged from where it was
    sent)."""
    out = tmp_path / "exports" / "fixed.json"
    out.parent.mkdir()
    starts: list[str] = []

    def save(_parent: object, _caption: str, start: str, *_a: object, **_k: object) -> tuple:
        starts.append(start)
        return str(out), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    window.actions["export"].trigger()
    assert out.exists() and str(out) in window.statusBar().currentMessage()
    window.actions["export_changes"].trigger()
    assert Path(starts[-1]).parent == out.parent
    opened: list[str] = []

    def pick(_parent: object, _caption: str, start: str, *_a: object, **_k: object) -> tuple:
        opened.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick)
    window.actions["merge_relabelled"].trigger()
    assert Path(opened[-1]) == out.parent


def test_the_demo_exports_to_the_home_folder_not_the_hidden_data_folder(
    open_window: Callable[..., MainWindow],
    demo_project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "app-data"
    data.mkdir()
    monkeypatch.setenv("LABELFIX_DATA_DIR", str(data))
    demo = data / "demo.labelfix"
    demo.write_bytes(demo_project.read_bytes())
    window = open_window(demo)
    starts: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda _p, _c, start, *a, **k: (starts.append(start), "")
    )
    window.actions["export"].trigger()
    assert Path(starts[0]) == Path.home() / "demo.json"
