"""A reviewer who never touches the mouse (measured on coco_real81 under Xvfb): what each key
does where the focus is, and what it costs the canvas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.desktop.main_window import MainWindow


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The main window with the demo project open, the table focused."""
    win = open_window(demo_project)
    win.table.setFocus()
    return win


def test_showing_the_next_suspect_lays_the_tags_out_once(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Framing a suspect moves the view three times (transform reset, scale, centre); each move
    laid the tags out again (~14 ms each on coco_real81, ~85 ms of a ~250 ms decision)."""
    scene = window.canvas.review_scene
    calls: list[int] = []
    real = scene.layout_tags
    monkeypatch.setattr(scene, "layout_tags", lambda *a, **k: (calls.append(1), real(*a, **k)))
    s = window.session
    first = s.current()
    QTest.keyClick(window, Qt.Key.Key_Space)
    QApplication.processEvents()
    assert s.current()["key"] != first["key"]
    assert window.canvas.image_id == s.current()["image_id"]
    assert len(calls) == 1
    calls.clear()
    window.canvas.zoom_to_suspect()  # Z
    assert len(calls) == 1
    calls.clear()
    window.canvas.fit()  # Ctrl+0
    assert len(calls) == 1

