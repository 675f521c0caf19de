"""The triage grid on the demo project: G shows it in table order, arrows move (Shift extends,
Ctrl keeps the selection), A/R/F decide the selection as one undo step, Enter opens the current
crop in the canvas, and crops are made lazily off the UI thread (a crop that takes forever never
holds a paint), then replaced when their label changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from labelfix.desktop.grid import crop_cache
from labelfix.desktop.main_window import MainWindow

NONE = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(open_window: Callable[..., MainWindow], demo_project: Path) -> MainWindow:
    """The demo project in a window with the grid shown (by its key) and focused."""
    win = open_window(demo_project, size=(1400, 900))
    QTest.keyClick(win, Qt.Key.Key_G)
    assert win.grid_shown() and win.grid.hasFocus()
    return win


def press(win: MainWindow, key: Qt.Key, mod: Qt.KeyboardModifier = NONE) -> None:
    """A key on the grid (the grid has the focus, as after G)."""
    QTest.keyClick(win.grid, key, mod)


def statuses(win: MainWindow, keys: list[str]) -> list[str | None]:
    s = win.session
    return [(s.store.decision(s.set_id, k) or {}).get("decision") for k in keys]


def test_g_shows_the_listed_suspects_in_table_order(window: MainWindow) -> None:
    grid, s = window.grid, window.session
    assert grid.columns() >= 3
    assert list(grid.visible_rows())[:3] == [0, 1, 2]
    assert grid.selected_rows() == [s.current_row()] == [0]
    QTest.keyClick(window, Qt.Key.Key_G)
    assert not window.grid_shown() and window.views.currentWidget() is window.canvas


def test_arrows_move_shift_extends_ctrl_keeps(window: MainWindow) -> None:
    grid, s = window.grid, window.session
    cols = grid.columns()
    press(window, Qt.Key.Key_Right)
    assert s.current_row() == 1 and grid.selected_rows() == [1]
    press(window, Qt.Key.Key_Down)
    assert s.current_row() == 1 + cols
    press(window, Qt.Key.Key_Up)
    press(window, Qt.Key.Key_Right, SHIFT)
    press(window, Qt.Key.Key_Right, SHIFT)
    assert grid.selected_rows() == [1, 2, 3] and s.current_row() == 3
    press(window, Qt.Key.Key_Right, CTRL)  # moves without selecting
    assert s.current_row() == 4 and grid.selected_rows() == [1, 2, 3]
    press(window, Qt.Key.Key_Space, CTRL)  # adds the current one
    assert grid.selected_rows() == [1, 2, 3, 4]
    press(window, Qt.Key.Key_Home)
    assert s.current_row() == 0 and grid.selected_rows() == [0]
    press(window, Qt.Key.Key_End)
    assert s.current_row() == s.row_count() - 1


def test_r_rejects_a_selection_as_one_step(window: MainWindow) -> None:
    s = window.session
    press(window, Qt.Key.Key_Right, SHIFT)
    press(window, Qt.Key.Key_Right, SHIFT)
    keys = [s.suspect_at(r)["key"] for r in window.grid.selected_rows()]
    assert len(keys) == 3
    QTest.keyClick(window.grid, Qt.Key.Key_R)
    assert statuses(window, keys) == ["rejected"] * 3
    assert s.undo_stack.count() == 1
    assert window.grid.selected_rows() == [s.current_row()]  # the next open one, alone
    s.undo()
    assert statuses(window, keys) == [None] * 3


def test_undo_of_a_bulk_decision_selects_its_crops_again(window: MainWindow) -> None:
    """Undo gives back the selection the decision was made on (it selected only the
    current crop: a second try at the same selection had to be made again by hand)."""
    s, grid = window.session, window.grid
    press(window, Qt.Key.Key_Right, SHIFT)
    press(window, Qt.Key.Key_Right, SHIFT)
    rows = grid.selected_rows()
    keys = [s.suspect_at(r)["key"] for r in rows]
    QTest.keyClick(window.grid, Qt.Key.Key_R)
    QTest.keyClick(window.grid, Qt.Key.Key_Z, CTRL)
    assert statuses(window, keys) == [None] * 3
    assert [s.suspect_at(r)["key"] for r in grid.selected_rows()] == keys
    QTest.keyClick(window.grid, Qt.Key.Key_A)  # decides the same three again
    assert statuses(window, keys)[0] == "accepted" and None not in statuses(window, keys)


def test_a_accepts_ctrl_clicked_crops(window: MainWindow) -> None:
    s, grid = window.session, window.grid
    for row in (2, 4, 5, 5):  # the second click on 5 takes it out again
        center = grid.cell_rect(row).center()
        QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, CTRL, center)
    assert grid.selected_rows() == [0, 2, 4]  # row 0 was selected before
    keys = [s.suspect_at(r)["key"] for r in grid.selected_rows()]
    between = s.suspect_at(1)["key"]
    QTest.keyClick(grid, Qt.Key.Key_A)
    assert statuses(window, keys) == ["accepted"] * len(keys)
    assert s.current_key() == between and s.current_row() == 0  # goes on from the top


def test_f_flags_the_selection_with_one_note(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = window.session
    press(window, Qt.Key.Key_Right, SHIFT)
    keys = [s.suspect_at(r)["key"] for r in window.grid.selected_rows()]
    monkeypatch.setattr("labelfix.desktop.window_review.ask_flag_note", lambda *a, **k: ("redraw these", True))
    QTest.keyClick(window.grid, Qt.Key.Key_F)
    assert statuses(window, keys) == ["flagged", "flagged"]
    assert {s.store.decision(s.set_id, k)["note"] for k in keys} == {"redraw these"}


def test_enter_and_double_click_open_the_crop_in_the_canvas(window: MainWindow) -> None:
    s, grid = window.session, window.grid
    press(window, Qt.Key.Key_Right)
    press(window, Qt.Key.Key_Right)
    key = s.current_key()
    press(window, Qt.Key.Key_Return)
    assert window.views.currentWidget() is window.canvas and s.current_key() == key
    QTest.keyClick(window, Qt.Key.Key_G)
    QTest.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, NONE, grid.cell_rect(4).center())
    assert not window.grid_shown() and s.current_row() == 4


def test_the_grid_follows_the_table_and_the_session(window: MainWindow) -> None:
    s = window.session
    s.select_row(7)
    assert window.grid.selected_rows() == [7]
    s.set_sort("confidence", False)
    assert window.grid.cell_rect(s.current_row()).intersects(window.grid.viewport().rect())


def test_crops_are_made_off_the_ui_thread_and_never_hold_a_paint(
    window: MainWindow, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = window.grid
    release = threading.Event()
    real = crop_cache.render_crop

    def slow(spec: object) -> object:
        release.wait(30)  # a crop that takes "forever" until the test lets it go
        return real(spec)

    window.grid.attach(None)  # the first cache's threads end with the real drawing
    monkeypatch.setattr(crop_cache, "render_crop", slow)
    window.grid.attach(window.session)  # fresh cache: nothing made yet
    for _ in range(3):  # scroll page by page: every paint returns with placeholders
        press(window, Qt.Key.Key_PageDown)
        image = grid.viewport().grab()
        assert not image.isNull()
    asked = grid.cache.pending()
    assert (
        0 < asked <= 2 * len(grid.visible_rows()) + grid.columns()
    )  # the screen and the next page
    visible = [grid.session.index.key(int(grid.session.positions[r])) for r in grid.visible_rows()]
    assert all(grid.cache.get(k) is None for k in visible)
    release.set()
    qtbot.waitUntil(lambda: all(grid.cache.get(k) is not None for k in visible), timeout=30_000)


def test_a_label_edit_remakes_its_crops(window: MainWindow, qtbot: object) -> None:
    grid, s = window.grid, window.session
    key = s.current_key()
    qtbot.waitUntil(lambda: grid.cache.get(key) is not None, timeout=30_000)
    before = grid.cache.get(key)
    s.labelsChanged.emit({s.current()["image_id"]})
    assert grid.cache.get(key) is None  # dropped at once, made again
    grid.viewport().repaint()
    qtbot.waitUntil(lambda: grid.cache.get(key) is not None, timeout=30_000)
    assert grid.cache.get(key) is not before


def test_the_disk_cache_serves_crops_made_before(
    window: MainWindow, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = window.grid
    key = window.session.current_key()
    qtbot.waitUntil(lambda: grid.cache.get(key) is not None, timeout=30_000)
    assert list(grid.cache.disk.glob("*.jpg"))
    assert grid.cache.disk.parent == crop_cache.cache_dir()

    drawn: list[str] = []
    real = crop_cache.render_crop

    def counted(spec: object) -> object:
        drawn.append(spec.job.key)
        return real(spec)

    monkeypatch.setattr(crop_cache, "render_crop", counted)
    grid.attach(window.session)  # a new cache: memory empty, the disk as it was
    qtbot.waitUntil(lambda: grid.cache.get(key) is not None, timeout=30_000)
    assert key not in drawn  # read from the disk, not drawn again


def test_a_crop_that_cannot_be_drawn_says_so(
    window: MainWindow, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec: object) -> object:
        raise ValueError("broken")

    monkeypatch.setattr(crop_cache, "render_crop", broken)
    window.grid.disk_cache = False  # nothing from the disk either
    window.grid.attach(window.session)
    key = window.session.current_key()
    window.grid.viewport().repaint()
    qtbot.waitUntil(lambda: window.grid.cache.get(key) is not None, timeout=30_000)


def test_u_reopens_a_selection_of_decided_crops_as_one_step(window: MainWindow) -> None:
    s = window.session
    s.set_filter(s.filter.with_(statuses=None))  # decided suspects stay listed
    press(window, Qt.Key.Key_Home)
    press(window, Qt.Key.Key_Right, SHIFT)
    keys = [s.suspect_at(r)["key"] for r in window.grid.selected_rows()]
    QTest.keyClick(window.grid, Qt.Key.Key_R)
    assert statuses(window, keys) == ["rejected", "rejected"]
    press(window, Qt.Key.Key_Home)
    press(window, Qt.Key.Key_Right, SHIFT)
    assert window.actions["reopen"].isEnabled()
    steps = s.undo_stack.count()
    QTest.keyClick(window.grid, Qt.Key.Key_U)
    assert statuses(window, keys) == [None, None]
    assert s.undo_stack.count() == steps + 1


def test_deciding_a_whole_page_turns_to_a_fresh_page(window: MainWindow) -> None:
    s, grid = window.session, window.grid
    s.set_filter(s.filter.with_(statuses=None))  # decided crops stay where they were
    whole = [
        r for r in grid.visible_rows() if grid.cell_rect(r).bottom() <= grid.viewport().height()
    ]
    last = whole[-1]
    QTest.mouseClick(
        grid.viewport(), Qt.MouseButton.LeftButton, SHIFT, grid.cell_rect(last).center()
    )
    assert grid.selected_rows() == whole
    QTest.keyClick(grid, Qt.Key.Key_R)
    row = s.current_row()
    assert row > last  # the next open suspect, below the decided page
    assert grid.cell_rect(row).top() == 0  # its row of crops at the top
