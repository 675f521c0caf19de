"""An inaccurate_label found from the image alone (score version 9): the inspector says the
outline moves onto the image's edges, the ghost sits on the object, A applies it; without a sure
move the inspector says to redraw it and A changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_outline_search import OBJECTS, _bounds, _iou, _project

from labelfix.core import outline_search
from labelfix.core.analyze import analyze
from labelfix.core.suspects import SuspectFilter
from labelfix.desktop.inspector import (
    IMAGE_ONLY_FOUND_BY,
    IMAGE_ONLY_GHOST,
    IMAGE_ONLY_HINT,
    Inspector,
)
from labelfix.desktop.main_window import MainWindow


def test_an_image_only_suspect_shows_and_applies_the_moved_outline(
    qtbot: object, open_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    store, set_id = _project(tmp_path, tmp_path)
    analyze(store, set_id)
    project = Path(store.location)
    store.close()
    win = open_window(project, size=(1300, 900))
    s = win.session
    s.set_filter(SuspectFilter(min_confidence=0.0, kinds=frozenset({"inaccurate_label"})))
    s.select_row(0)
    qtbot.wait(30)
    suspect = s.current()
    assert suspect["prediction_id"] is None and suspect["annotation_id"] == 1
    inspector = win.docks["inspector"].widget()
    assert isinstance(inspector, Inspector) and inspector.hint.text() == IMAGE_ONLY_GHOST
    found_by = inspector.fields["sets"].text().replace("\n", " ")  # wrapped to its width
    assert found_by == IMAGE_ONLY_FOUND_BY  # not a prediction set's
    ghost = win.canvas.review_scene.ghost_path()
    assert ghost is not None
    rect = ghost.boundingRect().getRect()
    assert _iou(list(rect), _bounds(OBJECTS[0])) > 0.75
    QTest.keyClick(win, Qt.Key.Key_A)
    qtbot.wait(30)
    assert _iou(s.store.annotation(1)["bbox"], _bounds(OBJECTS[0])) > 0.75


def test_an_image_only_suspect_without_a_sure_move_says_redraw_and_a_changes_nothing(
    qtbot: object,
    open_window: Callable[..., MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, set_id = _project(tmp_path, tmp_path)
    analyze(store, set_id)
    project = Path(store.location)
    before = store.annotation(1)
    store.close()
    monkeypatch.setattr(outline_search, "SURE_RATIO", 1e9)  # no move's gain holds that far
    win = open_window(project, size=(1300, 900))
    s = win.session
    s.set_filter(SuspectFilter(min_confidence=0.0, kinds=frozenset({"inaccurate_label"})))
    s.select_row(0)
    qtbot.wait(30)
    assert s.current()["annotation_id"] == 1
    inspector = win.docks["inspector"].widget()
    assert isinstance(inspector, Inspector) and inspector.hint.text() == IMAGE_ONLY_HINT
    assert win.canvas.review_scene.ghost_path() is None
    QTest.keyClick(win, Qt.Key.Key_A)
    qtbot.wait(30)
    assert s.store.annotation(1)["segmentation"] == before["segmentation"]
