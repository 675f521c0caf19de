"""What a new user met in the first hour on a fresh machine (the README's Quick start, then
their own COCO data in the app): each test pins one thing that got in the way."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from labelfix.core import project
from labelfix.desktop import jobs
from labelfix.desktop.demo import demo_source
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


def test_a_new_prediction_set_s_suspect_shows_its_own_fix(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path, tmp_path: Path
) -> None:
    """After Analyse ▸ Run a model, the inspector said "A adds a new bowl label" and the
    canvas drew the bowl ghost of the old set's suspect beside the new set's apple
    prediction: prediction ids restart in every set, so the new set's suspect had the same
    key, and the fix preview was cached by key alone."""
    win = open_window(demo_project)
    s = win.session
    s.select_row(0)
    first = s.current()
    assert first is not None and s.fix_choice.preview() is not None
    preds = json.loads((demo_source() / "predictions.json").read_text())
    for p in preds:  # another detector: the same boxes, 5% further right
        x, y, w, h = p["bbox"]
        p["bbox"] = [x + 0.05 * w, y, w, h]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(preds))
    with project.open_project(demo_project) as store:
        project.add_predictions(store, other, "other")
        set_id = next(p["id"] for p in store.prediction_sets() if p["name"] == "other")
    s.write_pending()
    result = jobs.analyze_project(demo_project, None, [set_id])
    s.set_index(result.index)
    qtbot.wait(50)
    now = s.current()
    assert now is not None and now["set_id"] == set_id
    assert s.fix_choice.preview() == s.fix_preview(now)


def test_the_analysis_of_another_set_opens_on_its_first_suspect(
    qtbot: object, open_window: Callable[..., MainWindow], two_sets_project: Path
) -> None:
    """A key names another object in another set (prediction ids restart): after the model's
    new set was analysed the selection stayed on whatever suspect of the new set had the old
    key, somewhere down the list, instead of the new list's first."""
    win = open_window(two_sets_project)
    s = win.session
    with project.open_project(two_sets_project) as store:
        ids = {p["name"]: p["id"] for p in store.prediction_sets()}
    first = next(i for name, i in ids.items() if name != "shifted")
    s.write_pending()
    s.set_index(jobs.analyze_project(two_sets_project, None, [first]).index)
    s.select_row(3)
    key = s.current_key()
    result = jobs.analyze_project(two_sets_project, None, [ids["shifted"]])
    other = result.index
    assert key in {other.key(p) for p in range(len(other))}  # the same key in the other set
    s.set_index(result.index)
    assert s.current_row() == 0
    s.select_row(3)
    s.set_index(jobs.analyze_project(two_sets_project, None, [ids["shifted"]]).index)
    assert s.current_row() == 3  # the same set analysed again: the selection stays


def test_quitting_in_the_grid_does_not_lose_the_inspector(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    """G, then Ctrl+Q: the next project opened in the canvas without its inspector and
    summary (the dock layout was saved while the grid had taken their room, and nothing
    brings them back: they have no close button and no menu entry)."""
    win = open_window(demo_project)
    win.show_grid(True)
    assert not win.docks["inspector"].isVisible()
    win.close_project()  # what quitting does first
    assert win.open_path(demo_project)
    qtbot.wait(20)
    assert not win.grid_shown()
    assert win.docks["inspector"].isVisible() and win.docks["summary"].isVisible()


def test_a_layout_saved_in_the_grid_by_earlier_code_still_shows_the_inspector(
    qtbot: object, open_window: Callable[..., MainWindow], demo_project: Path
) -> None:
    win = open_window(demo_project)
    win.show_grid(True)
    state = win.saveState()  # what close_project saved before
    win.close_project()
    win.settings.setValue("window/state", state)
    assert win.open_path(demo_project)
    qtbot.wait(20)
    assert win.docks["inspector"].isVisible() and win.docks["summary"].isVisible()
